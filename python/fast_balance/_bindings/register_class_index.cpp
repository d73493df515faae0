// Binds ClassIndex (csrc/class_index.hpp): the classes present in a label set and their members.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "class_index.hpp"

namespace fast_balance_bindings {

using fast_balance::ClassIndex;
using fast_balance::LabelCopy;

namespace {

// Reads the caller's labels once, with the GIL held, so no other thread changes them meanwhile;
// everything after works on the copy.
template <typename Label>
bool try_read(const py::array& labels, std::int64_t num_classes, LabelCopy& out) {
  if (!py::isinstance<py::array_t<Label>>(labels)) return false;
  // Zero-copy for C-contiguous input; other layouts are copied once.
  const auto contiguous = py::array_t<Label, py::array::c_style | py::array::forcecast>::ensure(labels);
  out = ClassIndex::read_labels(contiguous.data(), static_cast<std::int64_t>(contiguous.size()), num_classes);
  return true;
}

std::shared_ptr<ClassIndex> index_labels(const py::array& labels, std::int64_t num_classes) {
  if (labels.ndim() != 1) throw py::value_error("labels must be 1-D");
  LabelCopy copy;
  if (!(try_read<std::int64_t>(labels, num_classes, copy) || try_read<std::int32_t>(labels, num_classes, copy) ||
        try_read<std::int16_t>(labels, num_classes, copy) || try_read<std::int8_t>(labels, num_classes, copy) ||
        try_read<std::uint64_t>(labels, num_classes, copy) || try_read<std::uint32_t>(labels, num_classes, copy) ||
        try_read<std::uint16_t>(labels, num_classes, copy) || try_read<std::uint8_t>(labels, num_classes, copy))) {
    throw py::type_error("labels must have an integer dtype, not " + py::str(labels.dtype()).cast<std::string>());
  }
  py::gil_scoped_release release;
  return std::make_shared<ClassIndex>(ClassIndex::from_copy(std::move(copy)));
}

}  // namespace

void register_class_index(py::module_& m) {
  py::class_<ClassIndex, std::shared_ptr<ClassIndex>>(m, "ClassIndex")
      .def(py::init(&index_labels), py::arg("labels"), py::arg("num_classes"))
      .def_property_readonly("classes",
                             [](const ClassIndex& index) {
                               std::vector<std::int64_t> ids(index.class_ids().begin(), index.class_ids().end());
                               return to_numpy(ids);
                             })
      .def_property_readonly("counts",
                             [](const ClassIndex& index) {
                               std::vector<std::int64_t> counts(static_cast<std::size_t>(index.num_classes()));
                               for (std::size_t k = 0; k < counts.size(); ++k) {
                                 counts[k] = index.count(static_cast<std::int64_t>(k));
                               }
                               return to_numpy(counts);
                             })
      .def_property_readonly("num_ids", &ClassIndex::num_ids)
      .def_property_readonly("num_samples", &ClassIndex::num_samples)
      .def_property_readonly("label_hash", &ClassIndex::label_hash)
      .def(
          "labels",
          [](const ClassIndex& index) {
            py::array_t<std::int32_t> out(static_cast<py::ssize_t>(index.num_samples()));
            std::int32_t* data = out.mutable_data();
            py::gil_scoped_release release;
            index.write_labels(data);
            return out;
          },
          "Every sample's class id (int32), as the labels the index was built from.");
}

}  // namespace fast_balance_bindings
