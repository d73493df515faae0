// Helpers shared by the sampler's unit tests: one epoch's output as vectors (run), and long-tailed labels.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../random.hpp"
#include "../sampler.hpp"

namespace fast_balance_tests {

struct Epoch {
  std::vector<std::int64_t> indices;
  std::vector<std::int32_t> labels;
  std::vector<std::int32_t> repeats;
};

inline Epoch run(const fast_balance::BalancedSampler& sampler, std::int64_t epoch, std::int64_t start, std::int64_t stop) {
  Epoch result;
  const auto n = static_cast<std::size_t>(stop - start);
  result.indices.resize(n);
  result.labels.resize(n);
  result.repeats.resize(n);
  sampler.fill_epoch(epoch, start, stop, fast_balance::EpochOutput{result.indices.data(), result.labels.data(), result.repeats.data()});
  return result;
}

inline std::vector<std::int32_t> long_tailed_labels(std::int32_t num_classes, std::int32_t largest) {
  std::vector<std::int32_t> labels;
  for (std::int32_t c = 0; c < num_classes; ++c) {
    const std::int32_t count = std::max(1, largest >> c);
    for (std::int32_t k = 0; k < count; ++k) labels.push_back(c);
  }
  fast_balance::RandomStream(7).shuffle(labels.data(), static_cast<std::int64_t>(labels.size()));
  return labels;
}

}  // namespace fast_balance_tests
