// Binds OutputPool (output_pool.hpp).
#include "bindings.hpp"
#include "output_pool.hpp"

namespace fast_balance_bindings {

void register_output_pool(py::module_& m) {
  py::class_<OutputPool, std::shared_ptr<OutputPool>>(m, "OutputPool")
      .def(py::init<>())
      .def("take", &OutputPool::take, py::arg("size"),
           "(indices int64, labels int32, repeats int32) arrays of `size` elements, uninitialised, in memory "
           "reused from arrays of an earlier take() that Python has dropped.");
}

}  // namespace fast_balance_bindings
