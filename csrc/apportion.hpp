// apportion: how many draws each class gets per epoch, split from integer target weights by
// largest remainders.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace fast_balance {

// Splits `total` draws over classes in proportion to integer `weights` by largest remainders
// (Hamilton's method): each class gets floor or ceil of its exact share, ties go to the lower class.
inline std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<std::uint64_t>& weights) {
  __extension__ typedef unsigned __int128 uint128;  // total * weight needs up to 127 bits
  if (total < 0) throw std::invalid_argument("total must be >= 0");
  uint128 weight_sum = 0;
  for (const std::uint64_t w : weights) weight_sum += w;
  if (weight_sum == 0) throw std::invalid_argument("weights sum to zero");
  std::vector<std::int64_t> quotas(weights.size());
  std::vector<uint128> remainders(weights.size());
  std::int64_t assigned = 0;
  for (std::size_t c = 0; c < weights.size(); ++c) {
    const uint128 share = static_cast<uint128>(total) * weights[c];
    quotas[c] = static_cast<std::int64_t>(share / weight_sum);
    remainders[c] = share % weight_sum;
    assigned += quotas[c];
  }
  const auto leftover = static_cast<std::size_t>(total - assigned);
  if (leftover > 0) {
    std::vector<std::size_t> order(weights.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto before = [&](std::size_t a, std::size_t b) {
      return remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b;
    };
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(leftover), order.end(),
                      before);
    for (std::size_t k = 0; k < leftover; ++k) ++quotas[order[k]];
  }
  return quotas;
}

}  // namespace fast_balance
