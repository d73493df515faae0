// Unit tests of spread_copies (copy_spread.hpp): the stride keeps copies apart in every bucket
// size, the class's draws are its counts, repeats count earlier copies, copies are not adjacent.
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "../copy_spread.hpp"
#include "../random.hpp"
#include "../weighted_pool.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;

using fast_balance::RandomStream;
using fast_balance::WeightedPool;

void test_strides_keep_a_third_apart_and_spread_evenly() {
  // For every bucket size up to 2^17 but 4, 6 and 10, places a multiple d < size / 3 of the
  // stride apart are never neighbours; and in all but 10 sizes its quotients are small.
  std::vector<std::int64_t> close, uneven;
  for (std::int64_t size = 3; size < (std::int64_t{1} << 17); ++size) {
    const std::int64_t t = fast_balance::spread_stride(size);
    const std::int64_t u = std::gcd(t, size) == 1 ? fast_balance::inverse_mod(t, size) : 0;
    if (u == 0 || 3 * std::min(u, size - u) < size) close.push_back(size);
    if (!fast_balance::small_quotients(t, size)) uneven.push_back(size);
  }
  check(close == std::vector<std::int64_t>({4, 6, 10}), "strides: d * t = +-1 mod size needs d >= size / 3");
  check(uneven == std::vector<std::int64_t>({6, 15, 24, 32, 54, 72, 150, 190, 260, 510}),
        "strides: small quotients in all but 10 sizes below 2^17");
}

struct Case {
  std::string name;
  std::vector<std::uint32_t> weights;
  std::int64_t quota;
};

void test_spreads() {
  std::vector<Case> cases;
  cases.push_back({"small class, one heavy sample", {5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 400});
  {
    RandomStream random(3);
    Case many{"several buckets, one or two copies", {}, 100000};
    for (int i = 0; i < 60000; ++i) many.weights.push_back(static_cast<std::uint32_t>(1 + random.below(1000)));
    cases.push_back(many);
  }
  cases.push_back({"more copies than buckets", {1000, 999, 998, 10, 1}, 200000});
  cases.push_back({"zero weights", {0, 3, 0, 3, 3, 2, 1, 0}, 50});
  for (const Case& test : cases) {
    const WeightedPool pool(
        7, 1, static_cast<std::int64_t>(test.weights.size()), [](std::int64_t m) { return m; },
        [&](std::int64_t sample) { return test.weights[static_cast<std::size_t>(sample)]; });
    fast_balance::SpreadScratch scratch;
    for (const std::int64_t epoch : {0, 5}) {
      std::vector<std::uint64_t> words(static_cast<std::size_t>(test.quota));
      fast_balance::spread_copies(pool, test.quota, epoch, words.data(), scratch);
      std::map<std::int64_t, std::int64_t> counts;
      pool.for_each_count(test.quota, epoch, [&](std::int64_t t, std::int64_t copies) {
        if (copies > 0) counts[pool.sample(t)] = copies;
      });
      std::map<std::int64_t, std::int64_t> seen;
      bool repeats = true;
      std::int64_t adjacent = 0;
      for (std::size_t k = 0; k < words.size(); ++k) {
        const std::int64_t sample = fast_balance::sample_of(words[k]);
        repeats = repeats && fast_balance::repeats_of(words[k]) == seen[sample]++;
        if (k > 0 && fast_balance::sample_of(words[k - 1]) == sample) ++adjacent;
      }
      const std::string where = test.name + ", epoch " + std::to_string(epoch);
      check(seen == counts, where + ": every sample its count");
      check(repeats, where + ": repeats count earlier copies");
      // Only the third case has samples holding over a third of their buckets.
      if (test.name != "more copies than buckets") check(adjacent == 0, where + ": no copies side by side");
      std::vector<std::uint64_t> again(words.size());
      fast_balance::spread_copies(pool, test.quota, epoch, again.data(), scratch);
      check(again == words, where + ": the same again");
    }
  }
}

void run_all() {
  test_strides_keep_a_third_apart_and_spread_evenly();
  test_spreads();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
