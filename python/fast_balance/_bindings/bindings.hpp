// Shared declarations of the Python bindings (fast_balance._core). Each register_*.cpp binds one
// concept of the C++ core and only translates: arguments are checked and documented in the Python
// package, the core re-checks its own preconditions (std::invalid_argument -> ValueError).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace fast_balance_bindings {

namespace py = pybind11;

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

// Sample weights as the bindings take them: float64, C-contiguous (converted once if not).
using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

// The caller's sample weights, checked and copied by one read (register_sample_weights.cpp).
std::vector<double> read_weights(const DoubleArray& weights);

// Output arrays that a fill writes must not overlap (register_sampler.cpp).
void check_separate(const py::array& a, const py::array& b, const char* names);

void register_class_index(py::module_& m);
void register_sampler(py::module_& m);
void register_output_pool(py::module_& m);
void register_rebalancer(py::module_& m);
void register_apportion(py::module_& m);
void register_sample_weights(py::module_& m);
void register_weighted_sampler(py::module_& m);

// ValueError unless [start, stop) lies in the sampler's shard of the epoch (any sampler with shard_size()).
template <class Sampler>
void check_slice(const Sampler& sampler, std::int64_t start, std::int64_t stop) {
  if (start < 0 || stop < start || stop > sampler.shard_size()) {
    throw py::value_error("positions [" + std::to_string(start) + ", " + std::to_string(stop) +
                          ") are outside the shard's epoch of " + std::to_string(sampler.shard_size()));
  }
}

}  // namespace fast_balance_bindings
