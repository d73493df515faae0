// Binds the streaming rebalancer (csrc/rebalance.hpp) over bytes payloads.
//
// The core is not thread-safe, so each object carries a mutex that every call takes with the GIL
// released (taking it while holding the GIL could deadlock with a push that waits for the GIL).
// A push copies the payloads and labels under the GIL and releases it only over those copies.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "rebalance.hpp"

namespace fast_balance {

template <>
inline std::int64_t payload_bytes(const std::shared_ptr<const std::string>& payload) {
  return static_cast<std::int64_t>(payload->size());
}

}  // namespace fast_balance

namespace fast_balance_bindings {

namespace {

// Records are shared, immutable buffers: a replay or a copy kept for replay costs a reference,
// not a copy of the record (serialized images are tens of kilobytes).
using Record = std::shared_ptr<const std::string>;
using Rebalancer = fast_balance::StreamRebalancer<Record>;
using Emissions = std::vector<fast_balance::Emission<Record>>;

constexpr std::size_t kKeptEmissions = std::size_t{1} << 16;  // bound of the buffer a thread keeps

struct LockedRebalancer {
  explicit LockedRebalancer(fast_balance::RebalanceOptions options) : core(std::move(options)) {}
  std::mutex mutex;
  Rebalancer core;
};

py::tuple push(LockedRebalancer& self, const py::sequence& payloads,
               const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& labels, bool final) {
  if (labels.ndim() != 1 || static_cast<py::ssize_t>(py::len(payloads)) != labels.shape(0)) {
    throw py::value_error("payloads and labels differ in length");
  }
  std::vector<Record> records;
  records.reserve(py::len(payloads));
  for (const auto& item : payloads) {
    if (!PyBytes_Check(item.ptr())) throw py::type_error("payloads must be bytes");
    records.push_back(std::make_shared<const std::string>(PyBytes_AS_STRING(item.ptr()),
                                                          static_cast<std::size_t>(PyBytes_GET_SIZE(item.ptr()))));
  }
  const std::vector<std::int64_t> classes(labels.data(), labels.data() + labels.shape(0));
  // Each thread keeps the buffer of its last push for the next one rather than growing a new
  // one every time; taken, not borrowed, so that a push from a finalizer run meanwhile is safe.
  thread_local Emissions spare;
  Emissions emitted;
  emitted.swap(spare);
  {
    py::gil_scoped_release release;
    const std::lock_guard<std::mutex> lock(self.mutex);
    self.core.push(records, classes, final, emitted);
  }
  py::list out_payloads(emitted.size());
  py::array_t<std::int32_t> out_labels(static_cast<py::ssize_t>(emitted.size()));
  py::array_t<std::int32_t> out_repeats(static_cast<py::ssize_t>(emitted.size()));
  std::int32_t* labels_out = out_labels.mutable_data();
  std::int32_t* repeats_out = out_repeats.mutable_data();
  for (std::size_t i = 0; i < emitted.size(); ++i) {
    out_payloads[i] = py::bytes(*emitted[i].payload);
    labels_out[i] = emitted[i].label;
    repeats_out[i] = emitted[i].repeats;
  }
  emitted.clear();  // the records' memory goes now, not at the next push
  if (emitted.capacity() <= kKeptEmissions) spare.swap(emitted);
  return py::make_tuple(out_payloads, out_labels, out_repeats);
}

// Runs `read` on the core under its lock, with the GIL released while waiting for the lock.
template <typename Read>
auto locked(LockedRebalancer& self, Read read) {
  py::gil_scoped_release release;
  const std::lock_guard<std::mutex> lock(self.mutex);
  return read(self.core);
}

}  // namespace

void register_rebalancer(py::module_& m) {
  py::class_<LockedRebalancer> cls(m, "Rebalancer");
  cls.def(py::init([](const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights,
                      std::int64_t capacity_per_class, std::uint64_t seed) {
            fast_balance::RebalanceOptions options;
            options.weights.assign(weights.data(), weights.data() + weights.size());
            options.capacity_per_class = capacity_per_class;
            options.seed = seed;
            return std::make_unique<LockedRebalancer>(std::move(options));
          }),
          py::arg("weights"), py::arg("capacity_per_class"), py::arg("seed"))
      .def("push", &push, py::arg("payloads"), py::arg("labels"), py::arg("final"),
           "Feeds the next records; returns what can be emitted now as (payloads, labels, repeats).")
      .def_property_readonly("finished",
                             [](LockedRebalancer& self) { return locked(self, [](const Rebalancer& core) { return core.finished(); }); })
      .def_property_readonly("stats", [](LockedRebalancer& self) {
        const fast_balance::RebalanceStats s = locked(self, [](const Rebalancer& core) { return core.stats(); });
        py::dict d;
        d["read"] = s.read;
        d["emitted"] = s.emitted;
        d["fresh"] = s.fresh;
        d["replays"] = s.replays;
        d["replaced"] = s.replaced;
        d["unweighted"] = s.unweighted;
        d["held_bytes"] = s.held_bytes;
        d["peak_held_bytes"] = s.peak_held_bytes;
        return d;
      });
  cls.attr("_max_classes") = fast_balance::StreamSchedule::kMaxClasses;
  cls.attr("_bytes_per_class") = fast_balance::StreamSchedule::kBytesPerClass;
}

}  // namespace fast_balance_bindings
