// Binds the balanced sampler (csrc/sampler.hpp) and the class index it is built from.
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "class_index.hpp"
#include "plan.hpp"
#include "sampler.hpp"
#include "staging.hpp"

namespace fast_balance_bindings {

using fast_balance::BalancedSampler;
using fast_balance::ClassIndex;

namespace {

template <typename Label>
bool try_index(const py::array& labels, std::int64_t num_classes, ClassIndex& out) {
  if (!py::isinstance<py::array_t<Label>>(labels)) return false;
  // Zero-copy for C-contiguous input; other layouts are copied once.
  const auto contiguous = py::array_t<Label, py::array::c_style | py::array::forcecast>::ensure(labels);
  const Label* data = contiguous.data();
  const auto size = static_cast<std::int64_t>(contiguous.size());
  py::gil_scoped_release release;
  out = ClassIndex::from_labels(data, size, num_classes);
  return true;
}

ClassIndex index_labels(const py::array& labels, std::int64_t num_classes) {
  if (labels.ndim() != 1) throw py::value_error("labels must be 1-D");
  ClassIndex index;
  if (try_index<std::int64_t>(labels, num_classes, index) || try_index<std::int32_t>(labels, num_classes, index) ||
      try_index<std::int16_t>(labels, num_classes, index) || try_index<std::int8_t>(labels, num_classes, index) ||
      try_index<std::uint64_t>(labels, num_classes, index) || try_index<std::uint32_t>(labels, num_classes, index) ||
      try_index<std::uint16_t>(labels, num_classes, index) || try_index<std::uint8_t>(labels, num_classes, index)) {
    return index;
  }
  throw py::type_error("labels must have an integer dtype, not " + py::str(labels.dtype()).cast<std::string>());
}

}  // namespace

void register_sampler(py::module_& m) {
  py::class_<BalancedSampler>(m, "Sampler")
      .def(py::init([](const py::array& labels, std::int64_t num_classes,
                       const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights,
                       std::uint64_t seed, std::int64_t samples_per_epoch, std::int64_t batch_size, bool replacement,
                       std::int64_t num_shards, std::int64_t shard_index) {
             ClassIndex index = index_labels(labels, num_classes);
             std::vector<std::uint64_t> weight_values(weights.data(), weights.data() + weights.size());
             fast_balance::SamplerOptions options;
             options.seed = seed;
             options.samples_per_epoch = samples_per_epoch;
             options.batch_size = batch_size;
             options.replacement = replacement;
             options.num_shards = num_shards;
             options.shard_index = shard_index;
             py::gil_scoped_release release;
             return std::make_unique<BalancedSampler>(std::move(index), weight_values, options);
           }),
           py::arg("labels"), py::arg("num_classes"), py::arg("weights"), py::arg("seed"),
           py::arg("samples_per_epoch"), py::arg("batch_size"), py::arg("replacement"), py::arg("num_shards"),
           py::arg("shard_index"))
      .def_property_readonly("quotas", [](const BalancedSampler& s) { return to_numpy(s.quotas()); })
      .def_property_readonly("class_counts",
                             [](const BalancedSampler& s) {
                               std::vector<std::int64_t> counts(static_cast<std::size_t>(s.index().num_classes()));
                               for (std::size_t c = 0; c < counts.size(); ++c) {
                                 counts[c] = s.index().count(static_cast<std::int64_t>(c));
                               }
                               return to_numpy(counts);
                             })
      .def_property_readonly("shard_size", &BalancedSampler::shard_size)
      .def(
          "fill",
          [](const BalancedSampler& s, std::int64_t epoch, std::int64_t start, std::int64_t stop) {
            const auto n = static_cast<py::ssize_t>(stop > start ? stop - start : 0);
            py::array_t<std::int64_t> indices(n);
            py::array_t<std::int32_t> labels(n);
            py::array_t<std::int32_t> repeats(n);
            fast_balance::EpochOutput out{indices.mutable_data(), labels.mutable_data(), repeats.mutable_data()};
            {
              py::gil_scoped_release release;
              s.fill_epoch(epoch, start, stop, out);
            }
            return py::make_tuple(indices, labels, repeats);
          },
          py::arg("epoch"), py::arg("start"), py::arg("stop"),
          "Positions [start, stop) of this shard's part of the epoch as (indices, labels, repeats).")
      .def(
          "fill_into",
          [](const BalancedSampler& s, std::int64_t epoch, std::int64_t start, std::int64_t stop,
             py::array_t<std::int64_t, py::array::c_style> indices, py::array_t<std::int32_t, py::array::c_style> labels,
             py::array_t<std::int32_t, py::array::c_style> repeats) {
            const auto n = static_cast<py::ssize_t>(stop > start ? stop - start : 0);
            if (indices.size() < n || labels.size() < n || repeats.size() < n) {
              throw py::value_error("output arrays are shorter than stop - start");
            }
            fast_balance::EpochOutput out{indices.mutable_data(), labels.mutable_data(), repeats.mutable_data()};
            py::gil_scoped_release release;
            s.fill_epoch(epoch, start, stop, out);
          },
          // noconvert: a converted copy would be written instead of the caller's array.
          py::arg("epoch"), py::arg("start"), py::arg("stop"), py::arg("indices").noconvert(),
          py::arg("labels").noconvert(), py::arg("repeats").noconvert(),
          "As fill, into the given arrays (exact dtypes, C-contiguous, writeable).");
}

}  // namespace fast_balance_bindings
