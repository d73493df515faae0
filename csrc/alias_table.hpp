// AliasTable: draws with replacement in proportion to integer sample weights, each in O(1)
// (Walker's alias method), built by Vose's algorithm in exact integer arithmetic.
//
// Column: one of the n members, drawn uniformly; it gives its own sample with probability
// threshold / W (W the total weight), else its alias's. In units where every column holds W, member
// i brings n * w_i; Vose's algorithm fills each column from one member of mass below W (its own) and
// tops it up from one of mass W or more, which then has that much less. The masses are integers
// summing to n * W, so every column ends exactly full and the table is exact: a draw gives member i
// with probability w_i / W, up to the 2^-64 resolution of the stream's values. Order
// (docs/determinism.md): the members below W and the others on two stacks, pushed in ascending
// order, the top of each taken.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "random.hpp"

namespace fast_balance {

class AliasTable {
 public:
  // The class of `count` members (< 2^32), member_at(m) its m-th sample in ascending order (< 2^32)
  // and weight_of(sample) that sample's integer weight (<= 2^31); their total must be positive.
  template <typename MemberAt, typename WeightOf>
  AliasTable(std::int64_t count, MemberAt member_at, WeightOf weight_of) : columns_(static_cast<std::size_t>(count)) {
    if (count < 1 || count > UINT32_MAX) throw std::invalid_argument("an alias table needs 1 to 2^32 - 1 members");
    const auto n = static_cast<std::size_t>(count);
    std::vector<std::uint64_t> mass(n);  // n * w < 2^63
    for (std::size_t m = 0; m < n; ++m) {
      const std::int64_t sample = member_at(static_cast<std::int64_t>(m));
      if (sample < 0 || sample > UINT32_MAX) throw std::invalid_argument("alias tables need sample indices below 2^32");
      const std::uint32_t weight = weight_of(sample);
      total_ += weight;
      mass[m] = static_cast<std::uint64_t>(weight) * n;
      columns_[m] = Column{0, static_cast<std::uint32_t>(sample), static_cast<std::uint32_t>(sample)};
    }
    if (total_ == 0) throw std::invalid_argument("an alias table needs a positive total weight");
    std::vector<std::uint32_t> small, large;
    for (std::size_t m = 0; m < n; ++m) (mass[m] < total_ ? small : large).push_back(static_cast<std::uint32_t>(m));
    while (!small.empty() && !large.empty()) {
      const std::uint32_t s = small.back();
      small.pop_back();
      const std::uint32_t g = large.back();
      large.pop_back();
      columns_[s].threshold = mass[s];
      columns_[s].alias = columns_[g].sample;
      mass[g] -= total_ - mass[s];
      (mass[g] < total_ ? small : large).push_back(g);
    }
    // What is left holds exactly W: it always gives its own sample.
    for (const std::uint32_t g : large) columns_[g].threshold = total_;
    for (const std::uint32_t s : small) columns_[s].threshold = total_;
  }

  std::int64_t size() const noexcept { return static_cast<std::int64_t>(columns_.size()); }
  std::uint64_t total_weight() const noexcept { return total_; }

  // Draw `g` (< 2^62) of the stream `key`: the column from value 2g, kept when value 2g + 1 scaled to
  // [0, W) is below its threshold.
  FAST_BALANCE_HOT_INLINE std::int64_t draw(std::uint64_t key, std::uint64_t g) const noexcept {
    return sample_in(column(key, g), key, g);
  }

  // The same in two steps, for callers that load the column ahead of its use: draw g's column, and
  // the sample it gives.
  FAST_BALANCE_HOT_INLINE std::size_t column(std::uint64_t key, std::uint64_t g) const noexcept {
    return static_cast<std::size_t>(scale_to_range(stream_value(key, 2 * g), columns_.size()));
  }
  FAST_BALANCE_HOT_INLINE std::int64_t sample_in(std::size_t c, std::uint64_t key, std::uint64_t g) const noexcept {
    const Column& column = columns_[c];
    // Which of the two is random: chosen without a branch.
    const auto own = static_cast<std::uint32_t>(scale_to_range(stream_value(key, 2 * g + 1), total_) < column.threshold);
    return static_cast<std::int64_t>(column.alias ^ ((column.sample ^ column.alias) & (0u - own)));
  }
  void prefetch(std::size_t c) const noexcept { __builtin_prefetch(&columns_[c]); }

  // Calls put(sample, weight) for every member: the weights the table was built from, recovered from
  // its columns (a member's mass is its own column's threshold and what it tops up elsewhere).
  template <typename Put>
  void for_each_weight(Put&& put) const {
    std::vector<std::uint64_t> mass(columns_.size(), 0);
    // A sample's column: the columns' own samples ascend.
    const auto column = [&](std::uint32_t sample) {
      std::size_t low = 0, high = columns_.size();
      while (high - low > 1) {
        const std::size_t middle = (low + high) / 2;
        (columns_[middle].sample <= sample ? low : high) = middle;
      }
      return low;
    };
    for (std::size_t m = 0; m < columns_.size(); ++m) {
      mass[m] += columns_[m].threshold;
      if (columns_[m].threshold < total_) mass[column(columns_[m].alias)] += total_ - columns_[m].threshold;
    }
    for (std::size_t m = 0; m < columns_.size(); ++m) {
      put(static_cast<std::int64_t>(columns_[m].sample), static_cast<std::uint32_t>(mass[m] / columns_.size()));
    }
  }

 private:
  struct Column {
    std::uint64_t threshold;
    std::uint32_t sample;  // the column's own member
    std::uint32_t alias;   // the member that tops it up
  };

  std::vector<Column> columns_;
  std::uint64_t total_ = 0;
};

}  // namespace fast_balance
