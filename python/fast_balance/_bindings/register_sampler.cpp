// Binds the balanced sampler (csrc/sampler.hpp), built on a ClassIndex (register_class_index.cpp).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "class_index.hpp"
#include "plan.hpp"
#include "sample_weights.hpp"
#include "sampler.hpp"
#include "staging.hpp"

namespace fast_balance_bindings {

using fast_balance::BalancedSampler;
using fast_balance::ClassIndex;

// Output arrays must not overlap: a fill reads back what it wrote (the batched fill keeps each
// place's staged draw in its output label, the weighted fill its words in the indices).
void check_separate(const py::array& a, const py::array& b, const char* names) {
  const auto* a_begin = static_cast<const char*>(a.data());
  const auto* b_begin = static_cast<const char*>(b.data());
  const bool overlap = a.nbytes() > 0 && b.nbytes() > 0 && a_begin < b_begin + b.nbytes() && b_begin < a_begin + a.nbytes();
  if (overlap) throw py::value_error(std::string("output arrays ") + names + " share memory");
}

void register_sampler(py::module_& m) {
  py::class_<BalancedSampler>(m, "Sampler")
      .def(py::init([](std::shared_ptr<ClassIndex> index,
                       const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights,
                       std::uint64_t seed, std::int64_t samples_per_epoch, std::int64_t batch_size, bool replacement,
                       std::int64_t num_shards, std::int64_t shard_index,
                       std::shared_ptr<const fast_balance::SampleWeights> sample_weights,
                       const py::object& draw_shifts) {
             std::vector<std::uint64_t> weight_values(weights.data(), weights.data() + weights.size());
             fast_balance::SamplerOptions options;
             static_cast<fast_balance::EpochLayout&>(options) = {seed,        samples_per_epoch, batch_size,
                                                                  replacement, num_shards,        shard_index};
             if (!draw_shifts.is_none()) {
               const auto shifts = draw_shifts.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
               options.draw_shifts.assign(shifts.data(), shifts.data() + shifts.size());
             }
             py::gil_scoped_release release;
             return std::make_unique<BalancedSampler>(std::move(index), weight_values, options, sample_weights.get());
           }),
           py::arg("index"), py::arg("weights"), py::arg("seed"), py::arg("samples_per_epoch"),
           py::arg("batch_size"), py::arg("replacement"), py::arg("num_shards"), py::arg("shard_index"),
           py::arg("sample_weights") = py::none(), py::arg("draw_shifts") = py::none())
      .def_property_readonly("quotas", [](const BalancedSampler& s) { return to_numpy(s.quotas()); },
                             "Draws of each present class per epoch, in the index's class order.")
      .def_property_readonly("shard_size", &BalancedSampler::shard_size)
      .def_property_readonly("fingerprint", [](const BalancedSampler& s) { return s.plan().fingerprint(); })
      .def(
          "fill",
          [](const BalancedSampler& s, std::int64_t epoch, std::int64_t start, std::int64_t stop) {
            check_slice(s, start, stop);
            const auto n = static_cast<py::ssize_t>(stop - start);
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
            check_slice(s, start, stop);
            const auto n = static_cast<py::ssize_t>(stop - start);
            if (indices.size() < n || labels.size() < n || repeats.size() < n) {
              throw py::value_error("output arrays are shorter than stop - start");
            }
            check_separate(indices, labels, "indices and labels");
            check_separate(indices, repeats, "indices and repeats");
            check_separate(labels, repeats, "labels and repeats");
            fast_balance::EpochOutput out{indices.mutable_data(), labels.mutable_data(), repeats.mutable_data()};
            py::gil_scoped_release release;
            s.fill_epoch(epoch, start, stop, out);
          },
          // noconvert: a converted copy would be written instead of the caller's array.
          py::arg("epoch"), py::arg("start"), py::arg("stop"), py::arg("indices").noconvert(),
          py::arg("labels").noconvert(), py::arg("repeats").noconvert(),
          "As fill, into the given arrays (exact dtypes, C-contiguous, writeable, not overlapping).");
}

}  // namespace fast_balance_bindings
