// SlotBuckets: the buckets of an unbatched epoch, and the class of each of its slots (arrange_slots).
//
// Bucket: a stretch of about 16k consecutive slots that holds floor or ceil of its share of every
// class and is shuffled on its own. Phase: a class's random offset in [0, B) that places its
// draws among the B buckets.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "random.hpp"

namespace fast_balance {

// The buckets of an unbatched epoch: consecutive runs of about 16k slots, each holding its share
// of every class and shuffled on its own.
//
// Class c's quota q draws are spread evenly over the B buckets with a random phase r in [0, B):
// draw k goes to bucket floor((k * B + r) / q), so every bucket holds floor or ceil of q / B of the
// class, in draw order, and a class with fewer draws than buckets lands in evenly spaced buckets.
// Inside a bucket the slots are a uniformly random arrangement of its classes. The epoch is thus
// stratified at the scale of a bucket (every 16k-slot stretch is on target) and random below it,
// and both can be built in cache: that is what lets a whole epoch be written class by class and
// then assembled bucket by bucket (fill_unbatched.hpp) instead of one random memory access per slot.
//
// Randomness: the phases are below(B) draws of the stream mix64(key), one per class of positive
// quota in order; the
// stream mix64(key ^ mix64(1 + b)) shuffles bucket b by Fisher-Yates. Before the shuffle a bucket's
// slots are grouped by class (class_order). With many buckets the classes go in order of
// (phase, class): classes with equal quotas and nearby phases share buckets, so filling them in that
// order writes to few buckets at a time. With fewer than kPhaseOrderBuckets buckets the buckets'
// write positions stay in cache anyway, and plain class order reads the pools in order instead.
class SlotBuckets {
 public:
  static constexpr std::int64_t kPhaseOrderBuckets = 1024;
  // Keeps b * quota (b < 2^16) in draws_before within int64.
  static constexpr std::int64_t kMaxSlots = std::int64_t{1} << 46;

  SlotBuckets(const std::vector<std::int64_t>& quotas, std::uint64_t key) : quotas_(quotas), key_(key) {
    std::int64_t total = 0;
    for (const std::int64_t q : quotas_) {
      if (q < 0) throw std::invalid_argument("quotas must be >= 0");
      total += q;
      if (total > kMaxSlots) throw std::invalid_argument("an epoch must have at most 2^46 slots");
    }
    count_ = std::min<std::int64_t>(std::max<std::int64_t>(total >> 14, 1), 1 << 16);
    RandomStream phases(mix64(key));
    phase_.resize(quotas_.size());
    // Only classes with draws take a phase, so classes of quota 0 do not shift the others'.
    for (std::size_t c = 0; c < quotas_.size(); ++c) {
      phase_[c] = quotas_[c] > 0 ? static_cast<std::int64_t>(phases.below(static_cast<std::uint64_t>(count_))) : 0;
    }
    start_.assign(static_cast<std::size_t>(count_) + 1, 0);
    count_slots();
    for (std::size_t b = 0; b < static_cast<std::size_t>(count_); ++b) start_[b + 1] += start_[b];
    order_.resize(quotas_.size());
    if (count_ < kPhaseOrderBuckets) {
      for (std::size_t c = 0; c < quotas_.size(); ++c) order_[c] = static_cast<std::int32_t>(c);
      return;
    }
    // Classes by (phase, class): a stable counting sort on the phase.
    std::vector<std::int64_t> first(static_cast<std::size_t>(count_) + 1, 0);
    for (const std::int64_t phase : phase_) ++first[static_cast<std::size_t>(phase) + 1];
    for (std::size_t b = 0; b < static_cast<std::size_t>(count_); ++b) first[b + 1] += first[b];
    for (std::size_t c = 0; c < quotas_.size(); ++c) {
      order_[static_cast<std::size_t>(first[static_cast<std::size_t>(phase_[c])]++)] = static_cast<std::int32_t>(c);
    }
  }

  std::int64_t count() const noexcept { return count_; }
  // Slot where bucket b starts; start(count()) is the epoch's size.
  std::int64_t start(std::int64_t b) const noexcept { return start_[static_cast<std::size_t>(b)]; }
  // Where each bucket starts: write cursors for filling the buckets class by class.
  std::vector<std::int64_t> starts() const { return {start_.begin(), start_.end() - 1}; }
  // How many of class c's draws go to buckets before b, for 0 <= b <= count(). Draw k is in bucket
  // b or later when k * B + phase >= b * q.
  std::int64_t draws_before(std::size_t c, std::int64_t b) const noexcept {
    const std::int64_t quota = quotas_[c];
    if (b >= count_) return quota;
    return std::min(quota, (b * quota - phase_[c] + count_ - 1) / count_);
  }
  // No class has two draws in one bucket.
  bool one_draw_per_class() const noexcept { return one_draw_per_class_; }
  // The classes in the order their slots take inside every bucket before the shuffle.
  const std::vector<std::int32_t>& class_order() const noexcept { return order_; }

  // The buckets of one class's draws in order, floor((k * B + phase) / q) for k = 0, 1, ..., stepped
  // without division.
  class Walk {
   public:
    // From draw `first` on (k * B + phase < 2^62: quotas are at most 2^46, B at most 2^16).
    Walk(std::int64_t buckets, std::int64_t quota, std::int64_t phase, std::int64_t first = 0) noexcept
        : quota_(quota),
          whole_(quota > 0 ? buckets / quota : 0),
          part_(quota > 0 ? buckets % quota : 0),
          bucket_(quota > 0 ? (first * buckets + phase) / quota : 0),
          remainder_(quota > 0 ? (first * buckets + phase) % quota : 0) {}
    std::int64_t next() noexcept {
      const std::int64_t bucket = bucket_;
      bucket_ += whole_;
      remainder_ += part_;
      if (remainder_ >= quota_) {
        remainder_ -= quota_;
        ++bucket_;
      }
      return bucket;
    }

   private:
    std::int64_t quota_, whole_, part_, bucket_, remainder_;
  };
  Walk walk(std::size_t c, std::int64_t first = 0) const noexcept { return Walk(count_, quotas_[c], phase_[c], first); }

  // The bucket that holds slot `slot` (0 <= slot < start(count())).
  std::int64_t bucket_of(std::int64_t slot) const noexcept {
    return static_cast<std::int64_t>(std::upper_bound(start_.begin(), start_.end(), slot) - start_.begin()) - 1;
  }

  RandomStream shuffle_stream(std::int64_t b) const noexcept {
    return RandomStream(mix64(key_ ^ mix64(static_cast<std::uint64_t>(b) + 1)));
  }

 private:
  // Adds every bucket's number of slots to start_[b + 1], and notes whether a class has two draws in one.
  //
  // A class of quota q = w B + p (p < B) has w draws in every bucket plus one in each bucket where a
  // class of quota p and the same phase has its draw (draws_before splits the same way); a class of
  // quota p and phase r has a draw in bucket b exactly when (r - b p) mod B < p. Where the classes
  // of one p have more such draws than there are buckets, they are counted per bucket from a
  // histogram of their phases, otherwise draw by draw.
  void count_slots() {
    const auto buckets = static_cast<std::size_t>(count_);
    std::vector<std::int64_t> first_of_part(buckets + 1, 0);  // CSR of phases by p = q mod B
    for (const std::int64_t quota : quotas_) ++first_of_part[static_cast<std::size_t>(quota % count_) + 1];
    const auto by_histogram = [&](std::int64_t part) {
      const auto p = static_cast<std::size_t>(part);
      return part > 0 && (first_of_part[p + 1] - first_of_part[p]) * part > 2 * count_;
    };
    for (std::size_t p = 0; p < buckets; ++p) first_of_part[p + 1] += first_of_part[p];
    std::vector<std::int64_t> phases(static_cast<std::size_t>(first_of_part[buckets]));
    std::vector<std::int64_t> next = first_of_part;
    std::int64_t in_every_bucket = 0;
    for (std::size_t c = 0; c < quotas_.size(); ++c) {
      const std::int64_t quota = quotas_[c];
      if (quota > count_) one_draw_per_class_ = false;
      in_every_bucket += quota / count_;
      const std::int64_t part = quota % count_;
      if (by_histogram(part)) {
        phases[static_cast<std::size_t>(next[static_cast<std::size_t>(part)]++)] = phase_[c];
        continue;
      }
      Walk walk(count_, part, phase_[c]);
      for (std::int64_t k = 0; k < part; ++k) ++start_[static_cast<std::size_t>(walk.next()) + 1];
    }
    std::vector<std::int64_t> below(buckets + 1);  // classes of the part with phase < r
    for (std::int64_t part = 1; part < count_; ++part) {
      if (!by_histogram(part)) continue;
      std::fill(below.begin(), below.end(), 0);
      const auto p = static_cast<std::size_t>(part);
      for (std::int64_t i = first_of_part[p]; i < first_of_part[p + 1]; ++i) {
        ++below[static_cast<std::size_t>(phases[static_cast<std::size_t>(i)]) + 1];
      }
      for (std::size_t r = 0; r < buckets; ++r) below[r + 1] += below[r];
      std::size_t window = 0;  // (b * p) mod B: the bucket's phases are [window, window + p) mod B
      for (std::size_t b = 0; b < buckets; ++b) {
        const std::size_t end = window + p;
        start_[b + 1] += end <= buckets ? below[end] - below[window]
                                        : below[buckets] - below[window] + below[end - buckets];
        window = end >= buckets ? end - buckets : end;
      }
    }
    for (std::size_t b = 0; b < buckets; ++b) start_[b + 1] += in_every_bucket;
  }

  std::vector<std::int64_t> quotas_;
  std::uint64_t key_;
  std::int64_t count_ = 1;
  std::vector<std::int64_t> phase_;
  std::vector<std::int64_t> start_;
  std::vector<std::int32_t> order_;
  bool one_draw_per_class_ = true;
};

// Writes the class of every slot of buckets [first, end) to slots[0, start(end) - start(first)):
// each class's draws of those buckets, in class order within a bucket, then each bucket shuffled.
// Costs O(classes + slots) whatever the epoch's size.
inline void arrange_buckets(const SlotBuckets& buckets, std::int64_t first, std::int64_t end, std::int32_t* slots) {
  const std::int64_t base = buckets.start(first);
  std::vector<std::int64_t> cursor(static_cast<std::size_t>(end - first));
  for (std::int64_t b = first; b < end; ++b) cursor[static_cast<std::size_t>(b - first)] = buckets.start(b) - base;
  for (const std::int32_t c : buckets.class_order()) {
    const auto cls = static_cast<std::size_t>(c);
    const std::int64_t from = buckets.draws_before(cls, first);
    const std::int64_t to = buckets.draws_before(cls, end);
    SlotBuckets::Walk walk = buckets.walk(cls, from);
    for (std::int64_t k = from; k < to; ++k) slots[cursor[static_cast<std::size_t>(walk.next() - first)]++] = c;
  }
  for (std::int64_t b = first; b < end; ++b) {
    buckets.shuffle_stream(b).shuffle(slots + buckets.start(b) - base, buckets.start(b + 1) - buckets.start(b));
  }
}

// Writes the class of every slot of an unbatched epoch (see SlotBuckets) to `slots`.
inline void arrange_slots(const std::vector<std::int64_t>& quotas, std::uint64_t key, std::int32_t* slots) {
  const SlotBuckets buckets(quotas, key);
  arrange_buckets(buckets, 0, buckets.count(), slots);
}

}  // namespace fast_balance
