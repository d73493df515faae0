// Shared declarations of the Python bindings (fast_balance._core). Each register_*.cpp binds one
// concept of the C++ core and only translates: arguments are checked and documented in the Python
// package, the core re-checks its own preconditions (std::invalid_argument -> ValueError).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <vector>

namespace fast_balance_bindings {

namespace py = pybind11;

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

void register_class_index(py::module_& m);
void register_sampler(py::module_& m);
void register_output_pool(py::module_& m);
void register_rebalancer(py::module_& m);
void register_apportion(py::module_& m);

}  // namespace fast_balance_bindings
