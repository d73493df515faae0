// Unit tests of SlotBuckets and arrange_slots (slot_buckets.hpp): stratified, shuffled buckets
// whose sizes match the draws walked into them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../slot_buckets.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;

void test_slot_buckets_are_stratified_and_shuffled() {
  // Quotas above and below the bucket count (B = 200,000 >> 14 = 12).
  std::vector<std::int64_t> quotas = {100000, 60003, 39990, 5, 1, 1};
  const fast_balance::SlotBuckets buckets(quotas, 77);
  check(buckets.count() == 12, "bucket count");
  check(buckets.start(0) == 0 && buckets.start(12) == 200000, "buckets cover the epoch");
  std::vector<std::int32_t> slots(200000);
  fast_balance::arrange_slots(quotas, 77, slots.data());
  bool stratified = true;
  bool shuffled = false;
  for (std::int64_t b = 0; b < buckets.count(); ++b) {
    std::vector<std::int64_t> counts(quotas.size(), 0);
    for (std::int64_t t = buckets.start(b); t < buckets.start(b + 1); ++t) {
      ++counts[static_cast<std::size_t>(slots[static_cast<std::size_t>(t)])];
      if (t > buckets.start(b) && slots[static_cast<std::size_t>(t)] < slots[static_cast<std::size_t>(t) - 1]) shuffled = true;
    }
    for (std::size_t c = 0; c < quotas.size(); ++c) {
      const std::int64_t low = quotas[c] / buckets.count();
      if (counts[c] < low || counts[c] > low + 1) stratified = false;
    }
  }
  check(stratified, "every bucket holds floor or ceil of each class's share");
  check(shuffled, "buckets are shuffled");
  std::vector<std::int64_t> total(quotas.size(), 0);
  for (const std::int32_t c : slots) ++total[static_cast<std::size_t>(c)];
  check(total == quotas, "the arrangement holds the quotas");
  std::vector<std::int32_t> order = buckets.class_order();
  std::sort(order.begin(), order.end());
  check(order == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}, "the class order is a permutation of the classes");
}

// Bucket sizes are counted per draw, per bucket, or (many classes of one quota below the bucket
// count) from a histogram of phases; each way must agree with walking every draw.
void test_slot_bucket_sizes_match_the_draws() {
  struct Case {
    std::vector<std::int64_t> quotas;
    bool one_draw_per_class;
    std::int64_t buckets;
  };
  std::vector<Case> cases;
  {
    // B = 4,700,417 >> 14 = 286: 100,000 classes of quota 46 and 20,000 of 5 (histograms), ten of
    // 13 and one of 1 (walks), one of 286 (= B: one draw in every bucket), a zero.
    std::vector<std::int64_t> quotas(100000, 46);
    quotas.insert(quotas.end(), 20000, 5);
    quotas.insert(quotas.end(), 10, 13);
    quotas.insert(quotas.end(), {1, 286, 0});
    cases.push_back({quotas, true, 286});
    // With one of 100,000 more, B = 292: 342 draws in every bucket and a walk of the other 136.
    quotas.push_back(100000);
    cases.push_back({quotas, false, 292});
  }
  {
    // B = 1,324,004 >> 14 = 80: 4,000 classes of 306 = 3 B + 66 (a histogram of the 66) and one of
    // 100,001 = 1,250 B + 1 (a walk of the 1), one of 3.
    std::vector<std::int64_t> quotas(4000, 306);
    quotas.insert(quotas.end(), {100001, 3});
    cases.push_back({quotas, false, 80});
  }
  cases.push_back({{100000, 60003, 39990, 5, 1, 1}, false, 12});
  for (const Case& test : cases) {
    const fast_balance::SlotBuckets buckets(test.quotas, 5);
    check(buckets.count() == test.buckets, "bucket count");
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(buckets.count()), 0);
    for (std::size_t c = 0; c < test.quotas.size(); ++c) {
      fast_balance::SlotBuckets::Walk walk = buckets.walk(c);
      for (std::int64_t k = 0; k < test.quotas[c]; ++k) ++sizes[static_cast<std::size_t>(walk.next())];
    }
    bool equal = true;
    for (std::int64_t b = 0; b < buckets.count(); ++b) {
      equal = equal && buckets.start(b + 1) - buckets.start(b) == sizes[static_cast<std::size_t>(b)];
    }
    check(equal, "bucket sizes equal the draws walked into them (" + std::to_string(test.quotas.size()) + " classes)");
    check(buckets.one_draw_per_class() == test.one_draw_per_class, "one_draw_per_class");
  }
}

void run_all() {
  test_slot_buckets_are_stratified_and_shuffled();
  test_slot_bucket_sizes_match_the_draws();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
