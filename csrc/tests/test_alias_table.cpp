// Unit tests of AliasTable (alias_table.hpp): exact columns, draws in proportion to the weights,
// the weights recovered from the table.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "../alias_table.hpp"
#include "../random.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::AliasTable;

AliasTable table_of(const std::vector<std::uint32_t>& weights) {
  return AliasTable(
      static_cast<std::int64_t>(weights.size()), [](std::int64_t m) { return 10 + 2 * m; },
      [&](std::int64_t sample) { return weights[static_cast<std::size_t>((sample - 10) / 2)]; });
}

void test_draws_follow_the_weights() {
  const std::vector<std::uint32_t> weights = {1, 0, 6, 3, 10, 0, 20};
  const AliasTable table = table_of(weights);
  std::vector<std::int64_t> counts(weights.size(), 0);
  const std::int64_t draws = 400000;
  for (std::int64_t g = 0; g < draws; ++g) ++counts[static_cast<std::size_t>((table.draw(77, static_cast<std::uint64_t>(g)) - 10) / 2)];
  double chi2 = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double expected = static_cast<double>(draws) * weights[i] / 40.0;
    if (weights[i] == 0) {
      check(counts[i] == 0, "a weight-0 member is never drawn");
      continue;
    }
    chi2 += (static_cast<double>(counts[i]) - expected) * (static_cast<double>(counts[i]) - expected) / expected;
  }
  // 4 degrees of freedom: P(chi2 > 18.5) = 0.001; the stream is fixed (key 77).
  check(chi2 < 18.5, "draws in proportion to the weights (chi-square, p > 0.001)");
  std::vector<std::uint32_t> recovered(weights.size());
  table.for_each_weight([&](std::int64_t sample, std::uint32_t w) { recovered[static_cast<std::size_t>((sample - 10) / 2)] = w; });
  check(recovered == weights, "the weights are recovered from the table");
  check(table.total_weight() == 40 && table.size() == 7, "size and total");
}

void test_preconditions() {
  const std::vector<std::uint32_t> zeros = {0, 0};
  check_throws<std::invalid_argument>([&] { table_of(zeros); }, "all weights zero");
  const AliasTable one = table_of({5});
  check(one.draw(1, 0) == 10 && one.draw(1, 12345) == 10, "a single member is always drawn");
}

void run_all() {
  test_draws_follow_the_weights();
  test_preconditions();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
