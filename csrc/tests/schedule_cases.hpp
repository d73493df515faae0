// Random schedule problems and the Pfair property, shared by the PfairSchedule and BatchSchedule tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../apportion.hpp"
#include "../random.hpp"

namespace fast_balance_tests {

// Whether per-batch counts (batches x classes) are floor/ceil of each share, every prefix is
// within 1 of exact, and the totals are the quotas.
inline bool is_pfair(const std::vector<std::vector<std::int64_t>>& per_batch, const std::vector<std::int64_t>& quotas) {
  const auto batches = static_cast<std::int64_t>(per_batch.size());
  std::vector<std::int64_t> seen(quotas.size(), 0);
  for (std::int64_t b = 0; b < batches; ++b) {
    for (std::size_t c = 0; c < quotas.size(); ++c) {
      const std::int64_t count = per_batch[static_cast<std::size_t>(b)][c];
      const std::int64_t low = quotas[c] / batches;
      if (count < low || count > low + (quotas[c] % batches != 0 ? 1 : 0)) return false;
      seen[c] += count;
      // |seen - (b+1) * quota / batches| < 1, in integers.
      const std::int64_t lag = seen[c] * batches - (b + 1) * quotas[c];
      if (lag <= -batches || lag >= batches) return false;
    }
  }
  return seen == quotas;
}

// Random schedule problems: quotas of `classes` classes over `batches` batches of `batch` slots.
struct ScheduleCase {
  std::vector<std::int64_t> quotas;
  std::int64_t batches;
  std::int64_t batch;
  std::vector<std::int32_t> order;
};
inline ScheduleCase random_schedule_case(fast_balance::RandomStream& random, bool small, bool repeated_weights) {
  ScheduleCase problem;
  const auto classes = static_cast<std::size_t>(1 + random.below(small ? 8 : 60));
  problem.batches = static_cast<std::int64_t>(1 + random.below(small ? 30 : 80));
  problem.batch = static_cast<std::int64_t>(1 + random.below(small ? 6 : 16));
  // Repeated weights give classes of equal quota: the groups BatchSchedule rotates.
  const std::uint64_t distinct = repeated_weights ? 1 + random.below(3) : ~std::uint64_t{0};
  std::vector<std::uint64_t> weights(classes);
  for (auto& w : weights) {
    w = small ? 1 + random.below(50) : (random.below(4) == 0 ? 0 : 1 + random.below(1000));
    if (repeated_weights && w > 0) w = 1 + w % distinct;
  }
  if (std::all_of(weights.begin(), weights.end(), [](std::uint64_t w) { return w == 0; })) weights[0] = 1;
  problem.quotas = fast_balance::apportion(problem.batches * problem.batch, weights);
  problem.order.resize(classes);
  for (std::size_t c = 0; c < classes; ++c) problem.order[c] = static_cast<std::int32_t>(c);
  random.shuffle(problem.order.data(), static_cast<std::int64_t>(classes));
  return problem;
}

}  // namespace fast_balance_tests
