// Unit tests of apportion (apportion.hpp): largest remainders, floor or ceil of every share.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "../apportion.hpp"
#include "../random.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::apportion;
using fast_balance::RandomStream;

void test_apportion() {
  RandomStream random(1);
  for (int trial = 0; trial < 200; ++trial) {
    const auto classes = static_cast<std::size_t>(1 + random.below(20));
    std::vector<std::uint64_t> weights(classes);
    std::uint64_t sum = 0;
    for (auto& w : weights) sum += (w = random.below(1000));
    if (sum == 0) weights[0] = sum = 1;
    const auto total = static_cast<std::int64_t>(random.below(5000));
    const auto quotas = apportion(total, weights);
    std::int64_t got = 0;
    bool within = true;
    for (std::size_t c = 0; c < classes; ++c) {
      got += quotas[c];
      const double exact = static_cast<double>(total) * static_cast<double>(weights[c]) / static_cast<double>(sum);
      within = within && quotas[c] >= static_cast<std::int64_t>(exact) && quotas[c] <= static_cast<std::int64_t>(exact) + 1;
    }
    check(got == total, "apportion sums to total");
    check(within, "apportion gives floor or ceil of each share");
  }
  check_throws<std::invalid_argument>([] { apportion(10, {0, 0}); }, "apportion with zero weights");
}

void run_all() { test_apportion(); }

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
