// Unit tests of WeightedPool (weighted_pool.hpp): exact class totals, floor or ceil per member and
// epoch, fractions carried over epochs.
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../random.hpp"
#include "../weighted_pool.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::RandomStream;
using fast_balance::WeightedPool;

std::vector<std::uint32_t> random_weights(std::int64_t count, std::uint64_t seed) {
  RandomStream random(seed);
  std::vector<std::uint32_t> weights(static_cast<std::size_t>(count));
  for (auto& w : weights) w = static_cast<std::uint32_t>(random.below(std::uint64_t{1} << 31) + (random.below(5) == 0 ? 0 : 1));
  return weights;
}

WeightedPool pool_of(const std::vector<std::uint32_t>& weights) {
  return WeightedPool(
      11, 4, static_cast<std::int64_t>(weights.size()), [](std::int64_t m) { return 3 * m; },
      [&](std::int64_t sample) { return weights[static_cast<std::size_t>(sample / 3)]; });
}

void test_counts_are_floor_or_ceil_and_sum_to_the_quota() {
  for (const std::int64_t members : {1, 2, 7, 1000}) {
    const auto weights = random_weights(members, static_cast<std::uint64_t>(members));
    const WeightedPool pool = pool_of(weights);
    std::set<std::uint32_t> samples;
    for (std::int64_t t = 0; t < pool.size(); ++t) samples.insert(pool.sample(t));
    check(static_cast<std::int64_t>(samples.size()) == members, "the line holds every member once");
    for (const std::int64_t quota : {std::int64_t{1}, std::int64_t{13}, members, 10 * members + 3}) {
      bool exact = true;
      for (std::int64_t epoch = 0; epoch < 20; ++epoch) {
        std::int64_t total = 0;
        pool.for_each_count(quota, epoch, [&](std::int64_t t, std::int64_t copies) {
          const double expected = static_cast<double>(quota) * pool.weight(t) / static_cast<double>(pool.total_weight());
          const auto counted = static_cast<double>(copies);
          exact = exact && counted >= std::floor(expected - 1e-9) && counted <= std::ceil(expected + 1e-9);
          total += copies;
        });
        exact = exact && total == quota;
      }
      check(exact, std::to_string(members) + " members, quota " + std::to_string(quota) + ": floor or ceil, summing to the quota");
      check(pool.max_copies(quota) >= 1, "max_copies");
    }
  }
}

void test_fractions_carry_over_epochs() {
  // Expected counts 0.25, 0.5, 1.25 and 2: over 400 epochs each member's count stays near its share.
  const std::vector<std::uint32_t> weights = {1, 2, 5, 8};
  const WeightedPool pool = pool_of(weights);
  std::map<std::uint32_t, std::int64_t> total;
  std::map<std::uint32_t, std::set<std::int64_t>> gaps;
  std::map<std::uint32_t, std::int64_t> last;
  double worst = 0;
  for (std::int64_t epoch = 0; epoch < 400; ++epoch) {
    pool.for_each_count(4, epoch, [&](std::int64_t t, std::int64_t copies) {
      const std::uint32_t sample = pool.sample(t);
      const double share = 4.0 * pool.weight(t) / 16.0;
      total[sample] += copies;
      worst = std::max(worst, std::abs(static_cast<double>(total[sample]) - static_cast<double>(epoch + 1) * share));
      if (copies > static_cast<std::int64_t>(share)) {
        if (last.count(sample) != 0) gaps[sample].insert(epoch - last[sample]);
        last[sample] = epoch;
      }
    });
  }
  check(worst < 3, "counts stay within 3 of their share over 400 epochs");
  bool three = true;
  for (const auto& entry : gaps) three = three && entry.second.size() <= 3;
  check(three, "the epochs with an extra copy come at most three different gaps apart");
}

void test_preconditions() {
  const std::vector<std::uint32_t> zeros = {0, 0};
  check_throws<std::invalid_argument>([&] { pool_of(zeros); }, "all weights zero");
  check_throws<std::invalid_argument>(
      [&] { WeightedPool(1, 0, 1, [](std::int64_t) { return std::int64_t{1} << 32; }, [](std::int64_t) { return 1u; }); },
      "sample index beyond 32 bits");
}

void run_all() {
  test_counts_are_floor_or_ceil_and_sum_to_the_quota();
  test_fractions_carry_over_epochs();
  test_preconditions();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
