// The extension module fast_balance._core: one registration per concept.
#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of fast_balance (private; use fast_balance.BalancedIndexSampler).";
  fast_balance_bindings::register_class_index(m);
  fast_balance_bindings::register_sampler(m);
  fast_balance_bindings::register_output_pool(m);
  fast_balance_bindings::register_rebalancer(m);
  fast_balance_bindings::register_apportion(m);
  fast_balance_bindings::register_sample_weights(m);
  fast_balance_bindings::register_weighted_sampler(m);
}
