// Python bindings of the C++ core: translation only. Arguments are checked and documented in
// fast_balance/sampler.py; the core re-checks its own preconditions (std::invalid_argument -> ValueError).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "class_index.hpp"
#include "rebalance.hpp"
#include "sampler.hpp"
#include "schedule.hpp"

namespace py = pybind11;
using fast_balance::BalancedSampler;
using fast_balance::ClassIndex;
using Rebalancer = fast_balance::StreamRebalancer<std::string>;

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

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

// Output arrays that reuse their memory. The three arrays of one take() share one allocation,
// which comes back here once Python has dropped them and every view of them; the largest one
// that came back is kept for the next take(). A fresh allocation of a large epoch costs the kernel
// a page fault and a zeroed page per 4 KiB (a fifth of an epoch's time at N = 1e6); kept memory is
// mapped already.
class OutputPool : public std::enable_shared_from_this<OutputPool> {
 public:
  py::tuple take(std::size_t size) {
    Block block;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // Not for a much smaller request, whose arrays would hold the large block.
      if (spare_.capacity >= size && spare_.capacity / 2 <= size) block = std::move(spare_);
    }
    if (!block.memory) {
      block.memory.reset(new std::byte[kBytesPerSample * std::max<std::size_t>(size, 1)]);
      block.capacity = size;
    }
    std::byte* base = block.memory.get();
    auto* loan = new Loan{shared_from_this(), std::move(block)};
    const py::capsule owner(loan, [](void* pointer) {
      std::unique_ptr<Loan> returned(static_cast<Loan*>(pointer));
      returned->pool->give_back(std::move(returned->block));
    });
    const auto n = static_cast<py::ssize_t>(size);
    return py::make_tuple(py::array_t<std::int64_t>(n, reinterpret_cast<std::int64_t*>(base), owner),
                          py::array_t<std::int32_t>(n, reinterpret_cast<std::int32_t*>(base + 8 * size), owner),
                          py::array_t<std::int32_t>(n, reinterpret_cast<std::int32_t*>(base + 12 * size), owner));
  }

 private:
  static constexpr std::size_t kBytesPerSample = 16;  // int64 index, int32 label, int32 repeats
  struct Block {
    std::unique_ptr<std::byte[]> memory;
    std::size_t capacity = 0;  // samples
  };
  struct Loan {
    std::shared_ptr<OutputPool> pool;
    Block block;
  };

  void give_back(Block block) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (block.capacity >= spare_.capacity) spare_ = std::move(block);
  }

  std::mutex mutex_;
  Block spare_;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of fast_balance (private; use fast_balance.BalancedIndexSampler).";

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

  py::class_<OutputPool, std::shared_ptr<OutputPool>>(m, "OutputPool")
      .def(py::init<>())
      .def("take", &OutputPool::take, py::arg("size"),
           "(indices int64, labels int32, repeats int32) arrays of `size` elements, uninitialised, in memory "
           "reused from arrays of an earlier take() that Python has dropped.");

  py::class_<Rebalancer>(m, "Rebalancer")
      .def(py::init([](const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights,
                       std::int64_t capacity_per_class, std::uint64_t seed) {
             fast_balance::RebalanceOptions options;
             options.weights.assign(weights.data(), weights.data() + weights.size());
             options.capacity_per_class = capacity_per_class;
             options.seed = seed;
             return std::make_unique<Rebalancer>(std::move(options));
           }),
           py::arg("weights"), py::arg("capacity_per_class"), py::arg("seed"))
      .def(
          "push",
          [](Rebalancer& self, const py::sequence& payloads,
             const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& labels, bool final) {
            if (static_cast<py::ssize_t>(py::len(payloads)) != labels.size()) {
              throw py::value_error("payloads and labels differ in length");
            }
            std::vector<std::string> records;
            records.reserve(py::len(payloads));
            for (const auto& item : payloads) {
              if (!PyBytes_Check(item.ptr())) throw py::type_error("payloads must be bytes");
              records.emplace_back(PyBytes_AS_STRING(item.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(item.ptr())));
            }
            std::vector<fast_balance::Emission<std::string>> emitted;
            {
              py::gil_scoped_release release;
              self.push(records, labels.data(), final, emitted);
            }
            py::list out_payloads(emitted.size());
            py::array_t<std::int32_t> out_labels(static_cast<py::ssize_t>(emitted.size()));
            py::array_t<std::int32_t> out_repeats(static_cast<py::ssize_t>(emitted.size()));
            for (std::size_t i = 0; i < emitted.size(); ++i) {
              out_payloads[i] = py::bytes(emitted[i].payload);
              out_labels.mutable_data()[i] = emitted[i].label;
              out_repeats.mutable_data()[i] = emitted[i].repeats;
            }
            return py::make_tuple(out_payloads, out_labels, out_repeats);
          },
          py::arg("payloads"), py::arg("labels"), py::arg("final"),
          "Feeds the next records; returns what can be emitted now as (payloads, labels, repeats).")
      .def_property_readonly("finished", &Rebalancer::finished)
      .def_property_readonly("stats", [](const Rebalancer& self) {
        const auto& s = self.stats();
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

  m.def(
      "apportion",
      [](std::int64_t total, const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights) {
        std::vector<std::uint64_t> values(weights.data(), weights.data() + weights.size());
        return to_numpy(fast_balance::apportion(total, values));
      },
      py::arg("total"), py::arg("weights"), "Largest-remainder split of `total` in proportion to `weights`.");
}
