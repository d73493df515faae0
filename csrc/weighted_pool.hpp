// WeightedPool: a class whose samples weigh differently, drawn without replacement. Every epoch each
// sample gets floor or ceil of its expected count (quota * weight / total weight) and the class
// exactly its quota; over epochs the fractions carry, so a sample expected 0.25 times per epoch comes
// in about one epoch of four. The order of the draws is copy_spread.hpp's.
//
// Line: the class's members in a fixed random order (drawn once, from stream (seed, kWeightedLine,
// class, 0)), each spanning its weight. An epoch's draws are `quota` evenly spaced points on it
// (systematic sampling): in units where the points lie W apart (W the total weight), member t spans
// [quota * S_t, quota * S_t+1), S_t the weights before it, and the first point is the epoch's
// offset, in [0, W). So member t holds floor or ceil of quota * w_t / W points and the class quota.
//
// Offset: 2^64 times a fraction that steps by 1 / golden ratio from epoch to epoch (mod 1), scaled
// to [0, W). Seen from one member, the rotation visits its fraction of the circle at the rate of its
// fraction: the extra copy comes back with at most three different gaps between the epochs that get
// it (three-distance theorem), and the count over the first E epochs stays within a lag that grows
// only logarithmically in E. Any epoch's offset is one multiplication away, so epochs need no
// history.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "random.hpp"

namespace fast_balance {

class WeightedPool {
 public:
  // Samples are stored in 32 bits (a spread's word keeps one beside its repeats).
  static constexpr std::int64_t kMaxSample = UINT32_MAX;
  // Members of one class: keeps the total weight below 2^62 (for_each_count).
  static constexpr std::int64_t kMaxMembers = INT32_MAX;

  // The class `class_id` of `count` members, member_at(m) its m-th sample in ascending order and
  // weight_of(sample) that sample's integer weight (SampleWeights); their total must be positive.
  template <typename MemberAt, typename WeightOf>
  WeightedPool(std::uint64_t seed, std::int64_t class_id, std::int64_t count, MemberAt member_at, WeightOf weight_of)
      : samples_(static_cast<std::size_t>(count)), weights_(static_cast<std::size_t>(count)) {
    if (count < 1 || count > kMaxMembers) throw std::invalid_argument("a weighted class needs 1 to 2^31 - 1 members");
    const auto id = static_cast<std::uint64_t>(class_id);
    // The line's order: an inside-out Fisher-Yates of the members in ascending order, as a pool
    // pass, moving each member's weight with it. Its places are random and known before the data:
    // they are drawn kPlacesAhead early and prefetched, as a large class misses the cache.
    RandomStream random(stream_key(seed, StreamDomain::kWeightedLine, id, 0));
    constexpr std::int64_t kPlacesAhead = 16;
    std::size_t ahead[kPlacesAhead];
    const auto draw_place = [&](std::int64_t i) {
      const auto j = static_cast<std::size_t>(random.below_u32(static_cast<std::uint32_t>(i + 1)));
      ahead[i % kPlacesAhead] = j;
      __builtin_prefetch(samples_.data() + j);
      __builtin_prefetch(weights_.data() + j);
    };
    for (std::int64_t i = 1; i < count && i <= kPlacesAhead; ++i) draw_place(i);
    for (std::int64_t i = 0; i < count; ++i) {
      const std::int64_t sample = member_at(i);
      if (sample < 0 || sample > kMaxSample) {
        throw std::invalid_argument("sample weights need sample indices below 2^32, got " + std::to_string(sample));
      }
      const std::size_t j = i == 0 ? 0 : ahead[i % kPlacesAhead];
      if (i > 0 && i + kPlacesAhead < count) draw_place(i + kPlacesAhead);
      const auto t = static_cast<std::size_t>(i);
      samples_[t] = samples_[j];
      weights_[t] = weights_[j];
      samples_[j] = static_cast<std::uint32_t>(sample);
      weights_[j] = weight_of(sample);
    }
    for (const std::uint32_t w : weights_) {
      total_ += w;
      largest_ = std::max(largest_, w);
    }
    if (total_ == 0) throw std::invalid_argument("class " + std::to_string(class_id) + " has only zero sample weights");
    start_ = stream_value(stream_key(seed, StreamDomain::kWeightedOffset, id, 0), 0);
    spread_prefix_ = stream_key_prefix(seed, StreamDomain::kCopySpread, id);
  }

  std::int64_t size() const noexcept { return static_cast<std::int64_t>(samples_.size()); }
  std::uint64_t total_weight() const noexcept { return total_; }
  // The member at place t of the line.
  std::uint32_t sample(std::int64_t t) const noexcept { return samples_[static_cast<std::size_t>(t)]; }
  std::uint32_t weight(std::int64_t t) const noexcept { return weights_[static_cast<std::size_t>(t)]; }

  // Calls put(sample, weight) for every member, in line order.
  template <typename Put>
  void for_each_weight(Put&& put) const {
    for (std::size_t t = 0; t < samples_.size(); ++t) put(static_cast<std::int64_t>(samples_[t]), weights_[t]);
  }

  // The most copies a member gets in an epoch of `quota` draws: ceil(quota * largest weight / W).
  std::int64_t max_copies(std::int64_t quota) const noexcept {
    __extension__ typedef unsigned __int128 u128;
    const u128 mass = static_cast<u128>(quota) * largest_;
    return static_cast<std::int64_t>((mass + total_ - 1) / total_);
  }

  // Where the first point of `epoch` lies, in [0, W).
  std::uint64_t offset(std::int64_t epoch) const noexcept {
    const std::uint64_t rotation = start_ + static_cast<std::uint64_t>(epoch) * kGolden;
    return static_cast<std::uint64_t>(scale_to_range(rotation, total_));
  }

  // The key of the stream that spreads the copies of `epoch` (copy_spread.hpp).
  std::uint64_t spread_key(std::int64_t epoch) const noexcept {
    return stream_key_last(spread_prefix_, static_cast<std::uint64_t>(epoch));
  }

  // Calls visit(t, copies) for every member t of the line, in order: its copies in `epoch` when the
  // class draws `quota` (<= 2^46) times per epoch.
  template <typename Visit>
  void for_each_count(std::int64_t quota, std::int64_t epoch, Visit&& visit) const {
    // The state is `ahead`: how far the first point not yet taken lies beyond the last member's end,
    // in [0, W). A member of length d = quota * w takes c points and leaves ahead + c * W - d, which
    // must be in [0, W) again. c starts from floor(d / W) in floating point (relative error below
    // 2^-52, so the exact floor or one off, as d / W < 2^46) and is corrected exactly. Then c * W - d
    // lies in (-2W, 2W), and W < 2^62: it is computed modulo 2^64 and read as signed, exactly.
    const auto q = static_cast<std::uint64_t>(quota);
    const auto total = static_cast<std::int64_t>(total_);
    const std::uint64_t unit = total_;
    const double per_weight = static_cast<double>(quota) / static_cast<double>(total_);
    auto ahead = static_cast<std::int64_t>(offset(epoch));
    const std::uint32_t* weights = weights_.data();
    const std::size_t members = weights_.size();
    for (std::size_t t = 0; t < members; ++t) {
      const std::uint32_t w = weights[t];
      auto copies = static_cast<std::int64_t>(static_cast<double>(w) * per_weight);
      ahead += static_cast<std::int64_t>(static_cast<std::uint64_t>(copies) * unit - q * w);
      // With the exact floor, at most one point is left to take; taken without a branch, as whether
      // it is depends on the weights' fractions.
      const std::int64_t short_one = static_cast<std::int64_t>(static_cast<std::uint64_t>(ahead) >> 63);
      ahead += total & -short_one;
      copies += short_one;
      while (ahead < 0) {
        ahead += total;
        ++copies;
      }
      while (copies > 0 && ahead >= total) {
        ahead -= total;
        --copies;
      }
      visit(static_cast<std::int64_t>(t), copies);
    }
  }

 private:
  std::vector<std::uint32_t> samples_;  // in line order
  std::vector<std::uint32_t> weights_;  // in line order
  std::uint64_t total_ = 0;             // W, below 2^62: at most 2^31 - 1 weights of at most 2^31
  std::uint32_t largest_ = 0;
  std::uint64_t start_ = 0;             // epoch 0's rotation
  std::uint64_t spread_prefix_ = 0;
};

}  // namespace fast_balance
