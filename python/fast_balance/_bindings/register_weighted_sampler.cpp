// Binds WeightedSampler (csrc/weighted_sampler.hpp): the class-free weighted index stream.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "sample_weights.hpp"
#include "weighted_sampler.hpp"

namespace fast_balance_bindings {

using fast_balance::WeightedSampler;

void register_weighted_sampler(py::module_& m) {
  py::class_<WeightedSampler> cls(m, "WeightedSampler");
  cls.def(py::init([](const DoubleArray& weights, std::uint64_t seed, std::int64_t samples_per_epoch,
                      std::int64_t batch_size, bool replacement, std::int64_t num_shards, std::int64_t shard_index) {
            std::vector<double> values = read_weights(weights);
            const fast_balance::WeightedOptions options{seed,        samples_per_epoch, batch_size,
                                                        replacement, num_shards,        shard_index};
            py::gil_scoped_release release;
            const fast_balance::SampleWeights integers = fast_balance::SampleWeights::of_one_class(values);
            values = std::vector<double>();  // its memory back before the sampler's is taken
            return std::make_unique<WeightedSampler>(integers, options);
          }),
          py::arg("weights"), py::arg("seed"), py::arg("samples_per_epoch"), py::arg("batch_size"),
          py::arg("replacement"), py::arg("num_shards"), py::arg("shard_index"))
      .def_property_readonly("shard_size", &WeightedSampler::shard_size)
      .def_property_readonly("fingerprint", &WeightedSampler::fingerprint)
      .def_property_readonly("num_samples", &WeightedSampler::num_samples)
      .def(
          "integer_weights", [](const WeightedSampler& s) { return to_numpy(s.integer_weights()); },
          "Every sample's integer weight (uint32), as the sampler draws by them.")
      .def(
          "fill",
          [](const WeightedSampler& s, std::int64_t epoch, std::int64_t start, std::int64_t stop) {
            check_slice(s, start, stop);
            const auto n = static_cast<py::ssize_t>(stop - start);
            py::array_t<std::int64_t> indices(n);
            py::array_t<std::int32_t> repeats(n);
            fast_balance::WeightedOutput out{indices.mutable_data(), repeats.mutable_data()};
            {
              py::gil_scoped_release release;
              s.fill_epoch(epoch, start, stop, out);
            }
            return py::make_tuple(indices, repeats);
          },
          py::arg("epoch"), py::arg("start"), py::arg("stop"),
          "Positions [start, stop) of this shard's part of the epoch as (indices, repeats).")
      .def(
          "fill_into",
          [](const WeightedSampler& s, std::int64_t epoch, std::int64_t start, std::int64_t stop,
             py::array_t<std::int64_t, py::array::c_style> indices, py::array_t<std::int32_t, py::array::c_style> repeats) {
            check_slice(s, start, stop);
            const auto n = static_cast<py::ssize_t>(stop - start);
            if (indices.size() < n || repeats.size() < n) throw py::value_error("output arrays are shorter than stop - start");
            check_separate(indices, repeats, "indices and repeats");
            fast_balance::WeightedOutput out{indices.mutable_data(), repeats.mutable_data()};
            py::gil_scoped_release release;
            s.fill_epoch(epoch, start, stop, out);
          },
          // noconvert: a converted copy would be written instead of the caller's array.
          py::arg("epoch"), py::arg("start"), py::arg("stop"), py::arg("indices").noconvert(),
          py::arg("repeats").noconvert(), "As fill, into the given arrays (exact dtypes, C-contiguous, writeable).");
  cls.attr("_max_samples") = WeightedSampler::kMaxSamples;
}

}  // namespace fast_balance_bindings
