// Binds apportion (csrc/apportion.hpp): the largest-remainder split the sampler's quotas use.
#include <cstdint>
#include <vector>

#include "bindings.hpp"
#include "apportion.hpp"

namespace fast_balance_bindings {

void register_apportion(py::module_& m) {
  m.def(
      "apportion",
      [](std::int64_t total, const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights) {
        std::vector<std::uint64_t> values(weights.data(), weights.data() + weights.size());
        return to_numpy(fast_balance::apportion(total, values));
      },
      py::arg("total"), py::arg("weights"), "Largest-remainder split of `total` in proportion to `weights`.");
}

}  // namespace fast_balance_bindings
