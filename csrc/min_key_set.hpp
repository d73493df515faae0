// MinKeySet: a set of small integer keys that finds its smallest member quickly (PfairSchedule's
// ready lists).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fast_balance {

// A set of keys in [0, size) that finds its smallest member in O(log64 size).
class MinKeySet {
 public:
  explicit MinKeySet(std::int64_t size) {
    std::int64_t words = size;
    do {
      words = (words + 63) / 64;
      levels_.emplace_back(static_cast<std::size_t>(words), 0);
    } while (words > 1);
  }

  bool empty() const noexcept { return levels_.back()[0] == 0; }

  void insert(std::int64_t key) noexcept {
    for (auto& level : levels_) {
      std::uint64_t& word = level[static_cast<std::size_t>(key >> 6)];
      const bool was_empty = word == 0;
      word |= std::uint64_t{1} << (key & 63);
      if (!was_empty) return;
      key >>= 6;
    }
  }

  void erase(std::int64_t key) noexcept {
    for (auto& level : levels_) {
      std::uint64_t& word = level[static_cast<std::size_t>(key >> 6)];
      word &= ~(std::uint64_t{1} << (key & 63));
      if (word != 0) return;
      key >>= 6;
    }
  }

  // Smallest key; the set must not be empty.
  std::int64_t first() const noexcept {
    std::int64_t key = 0;
    for (auto level = levels_.rbegin(); level != levels_.rend(); ++level) {
      key = key * 64 + __builtin_ctzll((*level)[static_cast<std::size_t>(key)]);
    }
    return key;
  }

 private:
  std::vector<std::vector<std::uint64_t>> levels_;  // levels_[0] holds one bit per key
};

}  // namespace fast_balance
