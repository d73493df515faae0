// Binds SampleWeights (csrc/sample_weights.hpp): per-sample weights, scaled within each class.
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "class_index.hpp"
#include "sample_weights.hpp"

namespace fast_balance_bindings {

using fast_balance::SampleWeights;

// Read with the GIL held, so no other thread changes the weights meanwhile; everything after
// works on the copy.
std::vector<double> read_weights(const DoubleArray& weights) {
  if (weights.ndim() != 1) throw py::value_error("sample weights must be 1-D");
  return SampleWeights::read(weights.data(), static_cast<std::int64_t>(weights.size()));
}

void register_sample_weights(py::module_& m) {
  py::class_<SampleWeights, std::shared_ptr<SampleWeights>>(m, "SampleWeights")
      .def(py::init([](const DoubleArray& weights, const fast_balance::ClassIndex& index) {
             std::vector<double> values = read_weights(weights);
             py::gil_scoped_release release;
             return std::make_shared<SampleWeights>(SampleWeights::of_classes(values, index));
           }),
           py::arg("weights"), py::arg("index"))
      .def_property_readonly("hash", &SampleWeights::hash)
      .def(
          "integers",
          [](const SampleWeights& w) {
            std::vector<std::uint32_t> values = w.values();
            return to_numpy(values);
          },
          "Every sample's integer weight (uint32), scaled within its class.");
}

}  // namespace fast_balance_bindings
