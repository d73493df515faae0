// Class schedules: how many draws each class gets per epoch (apportion), per bucket of an unbatched
// epoch (SlotBuckets) and per batch (BatchSchedule).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "random.hpp"

namespace fast_balance {

__extension__ typedef unsigned __int128 uint128;
__extension__ typedef __int128 int128;

// Splits `total` draws over classes in proportion to integer `weights` by largest remainders
// (Hamilton's method): each class gets floor or ceil of its exact share, ties go to the lower class.
inline std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<std::uint64_t>& weights) {
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

// The buckets of an unbatched epoch: consecutive runs of about 16k slots, each holding its share
// of every class and shuffled on its own.
//
// Class c's quota q draws are spread evenly over the B buckets with a random phase r in [0, B):
// draw k goes to bucket floor((k * B + r) / q), so every bucket holds floor or ceil of q / B of the
// class, in draw order, and a class with fewer draws than buckets lands in evenly spaced buckets.
// Inside a bucket the slots are a uniformly random arrangement of its classes. The epoch is thus
// stratified at the scale of a bucket (every 16k-slot stretch is on target) and random below it,
// and both can be built in cache: that is what lets a whole epoch be written class by class and
// then assembled bucket by bucket (BalancedSampler) instead of one random memory access per slot.
//
// Randomness: the phases are below(B) draws of the stream mix64(key), one per class in order; the
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
    for (std::int64_t& phase : phase_) phase = static_cast<std::int64_t>(phases.below(static_cast<std::uint64_t>(count_)));
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
    Walk(std::int64_t buckets, std::int64_t quota, std::int64_t phase) noexcept
        : quota_(quota),
          whole_(quota > 0 ? buckets / quota : 0),
          part_(quota > 0 ? buckets % quota : 0),
          bucket_(quota > 0 ? phase / quota : 0),
          remainder_(quota > 0 ? phase % quota : 0) {}
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
  Walk walk(std::size_t c) const noexcept { return Walk(count_, quotas_[c], phase_[c]); }

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

// Writes the class of every slot of an unbatched epoch (see SlotBuckets) to `slots`.
inline void arrange_slots(const std::vector<std::int64_t>& quotas, std::uint64_t key, std::int32_t* slots) {
  const SlotBuckets buckets(quotas, key);
  std::vector<std::int64_t> cursor = buckets.starts();
  for (const std::int32_t c : buckets.class_order()) {
    SlotBuckets::Walk walk = buckets.walk(static_cast<std::size_t>(c));
    for (std::int64_t k = 0; k < quotas[static_cast<std::size_t>(c)]; ++k) {
      slots[cursor[static_cast<std::size_t>(walk.next())]++] = c;
    }
  }
  for (std::int64_t b = 0; b < buckets.count(); ++b) {
    buckets.shuffle_stream(b).shuffle(slots + buckets.start(b), buckets.start(b + 1) - buckets.start(b));
  }
}

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

// Tasks over the batches of one epoch, so that every batch holds floor or ceil of each task's
// share quota / num_batches, and after every prefix of batches each task's count is within 1 of
// its exact share (and exactly its quota at the end).
//
// The floor parts are fixed; the remaining fractional parts are scheduled as a Pfair problem
// (each batch slot a processor, task t of weight (quota_t mod num_batches) / num_batches) with
// the PD^2 algorithm of Anderson and Srinivasan, which is optimal: every subtask meets its
// window, which is exactly the "within 1 after every prefix" property.
class PfairSchedule {
 public:
  // `tie_order` is a permutation of the tasks: among equally urgent tasks, those that come later
  // in it are taken first.
  PfairSchedule(const std::vector<std::int64_t>& quotas, std::int64_t num_batches,
                const std::vector<std::int32_t>& tie_order)
      : num_batches_(num_batches),
        ready_keys_(2 * num_batches + 2),
        ready_head_(static_cast<std::size_t>(2 * num_batches + 2), -1),
        release_head_(static_cast<std::size_t>(num_batches + 1), -1) {
    if (num_batches < 1) throw std::invalid_argument("num_batches must be >= 1");
    if (num_batches > INT32_MAX) throw std::invalid_argument("an epoch of more than 2^31 - 1 batches is not supported");
    const auto num_tasks = quotas.size();
    if (tie_order.size() != num_tasks) throw std::invalid_argument("tie_order has the wrong length");
    share_.resize(num_tasks);
    next_subtask_.assign(num_tasks, 1);
    link_.assign(num_tasks, -1);
    std::int64_t fixed = 0;
    for (std::size_t c = 0; c < num_tasks; ++c) {
      if (quotas[c] < 0) throw std::invalid_argument("quotas must be >= 0");
      const std::int64_t base = quotas[c] / num_batches;
      share_[c] = quotas[c] % num_batches;
      if (base > 0) fixed_runs_.emplace_back(static_cast<std::int32_t>(c), base);
      fixed += base;
    }
    std::int64_t fractional = 0;
    for (const std::int64_t s : share_) fractional += s;
    if (fractional % num_batches != 0) {
      throw std::invalid_argument("quotas must sum to a multiple of num_batches");
    }
    extra_per_batch_ = fractional / num_batches;
    batch_size_ = fixed + extra_per_batch_;
    for (const std::int32_t c : tie_order) {
      if (c < 0 || static_cast<std::size_t>(c) >= num_tasks) {
        throw std::invalid_argument("tie_order is not a permutation");
      }
      if (share_[static_cast<std::size_t>(c)] > 0) make_ready(c);
    }
  }

  std::int64_t batch_size() const noexcept { return batch_size_; }

  // Schedules the next batch: calls run(task, count) for each task with count > 0 slots in it
  // (a task's fixed part in one run, then its one extra slot, if any, in another).
  template <typename Run>
  void next_runs(Run&& run) {
    if (slot_ >= num_batches_) throw std::out_of_range("the epoch's batches are exhausted");
    for (std::int32_t c = release_head_[static_cast<std::size_t>(slot_)]; c != -1;) {
      const std::int32_t following = link_[static_cast<std::size_t>(c)];
      make_ready(c);
      c = following;
    }
    for (const auto& fixed : fixed_runs_) run(fixed.first, fixed.second);
    for (std::int64_t k = 0; k < extra_per_batch_; ++k) {
      const std::int32_t c = take_most_urgent();
      run(c, std::int64_t{1});
      const auto task = static_cast<std::size_t>(c);
      const std::int64_t subtask = ++next_subtask_[task];
      if (subtask <= share_[task]) {
        // A task runs at most once per batch, so its next subtask waits for the next slot at least.
        const std::int64_t release = std::max(release_of(task, subtask), slot_ + 1);
        link_[task] = release_head_[static_cast<std::size_t>(release)];
        release_head_[static_cast<std::size_t>(release)] = c;
      }
    }
    ++slot_;
  }

  // Appends the tasks of the next batch (batch_size() entries) to `out`.
  void next(std::vector<std::int32_t>& out) {
    next_runs([&](std::int32_t task, std::int64_t count) { out.insert(out.end(), static_cast<std::size_t>(count), task); });
  }

 private:
  struct Heavy {
    std::int64_t deadline;
    bool successor_overlaps;  // PD^2's b-bit
    std::int64_t group_deadline;
    std::int32_t task;
  };

  // Subtask i (from 1) of task c may run in batches [release, deadline). i <= share < num_batches
  // < 2^31, so the products below fit in 64 bits.
  std::int64_t release_of(std::size_t c, std::int64_t i) const noexcept {
    return (i - 1) * num_batches_ / share_[c];
  }
  std::int64_t deadline_of(std::size_t c, std::int64_t i) const noexcept {
    return ceil_div(i * num_batches_, share_[c]);
  }
  bool successor_overlaps(std::size_t c, std::int64_t i) const noexcept {
    return i * num_batches_ % share_[c] != 0;
  }
  bool is_heavy(std::size_t c) const noexcept { return 2 * share_[c] >= num_batches_; }
  // PD^2's group deadline of a heavy task: D = ceil(ceil(d * (1 - w)) / (1 - w)), w = share / batches.
  std::int64_t group_deadline_of(std::size_t c, std::int64_t i) const noexcept {
    const std::int64_t idle = num_batches_ - share_[c];
    const std::int64_t g = ceil_div(deadline_of(c, i) * idle, num_batches_);
    return ceil_div(g * num_batches_, idle);
  }
  static std::int64_t ceil_div(std::int64_t a, std::int64_t b) noexcept { return (a + b - 1) / b; }
  // PD^2 order: earlier deadline, then b-bit set, then (heavy) later group deadline.
  static bool more_urgent(const Heavy& a, const Heavy& b) noexcept {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    if (a.successor_overlaps != b.successor_overlaps) return a.successor_overlaps;
    return a.group_deadline > b.group_deadline;
  }

  void make_ready(std::int32_t c) {
    const auto task = static_cast<std::size_t>(c);
    const std::int64_t i = next_subtask_[task];
    const std::int64_t deadline = deadline_of(task, i);
    const bool overlaps = successor_overlaps(task, i);
    if (is_heavy(task)) {
      heavy_.push_back(Heavy{deadline, overlaps, group_deadline_of(task, i), c});
      std::push_heap(heavy_.begin(), heavy_.end(), [](const Heavy& a, const Heavy& b) { return more_urgent(b, a); });
      return;
    }
    // Light tasks have group deadline 0, so (deadline, b-bit) orders them completely.
    const std::int64_t key = 2 * deadline + (overlaps ? 0 : 1);
    link_[task] = ready_head_[static_cast<std::size_t>(key)];
    if (link_[task] == -1) ready_keys_.insert(key);
    ready_head_[static_cast<std::size_t>(key)] = c;
  }

  std::int32_t take_most_urgent() {
    const bool have_light = !ready_keys_.empty();
    if (!heavy_.empty()) {
      const Heavy& top = heavy_.front();
      const std::int64_t heavy_key = 2 * top.deadline + (top.successor_overlaps ? 0 : 1);
      if (!have_light || heavy_key <= ready_keys_.first()) {
        const std::int32_t c = top.task;
        std::pop_heap(heavy_.begin(), heavy_.end(), [](const Heavy& a, const Heavy& b) { return more_urgent(b, a); });
        heavy_.pop_back();
        return c;
      }
    }
    if (!have_light) throw std::logic_error("Pfair schedule ran out of ready tasks");
    const std::int64_t key = ready_keys_.first();
    const std::int32_t c = ready_head_[static_cast<std::size_t>(key)];
    ready_head_[static_cast<std::size_t>(key)] = link_[static_cast<std::size_t>(c)];
    if (link_[static_cast<std::size_t>(c)] == -1) ready_keys_.erase(key);
    link_[static_cast<std::size_t>(c)] = -1;
    return c;
  }

  std::int64_t num_batches_;
  std::int64_t batch_size_ = 0;
  std::int64_t extra_per_batch_ = 0;
  std::int64_t slot_ = 0;
  std::vector<std::pair<std::int32_t, std::int64_t>> fixed_runs_;  // (task, quota / num_batches)
  std::vector<std::int64_t> share_;         // quota mod num_batches: the Pfair weight's numerator
  std::vector<std::int64_t> next_subtask_;  // 1-based
  std::vector<std::int32_t> link_;          // intrusive list links for ready and release lists
  MinKeySet ready_keys_;
  std::vector<std::int32_t> ready_head_;    // light tasks by key 2 * deadline + !b-bit
  std::vector<std::int32_t> release_head_;  // tasks waiting for their release batch
  std::vector<Heavy> heavy_;                // binary heap, most urgent first
};

// The classes of positive quota, grouped by quota: classes of equal quota are interchangeable to
// a schedule, so BatchSchedule schedules each group as one task. Built once per sampler.
class QuotaGroups {
 public:
  explicit QuotaGroups(const std::vector<std::int64_t>& quotas) : group_of_(quotas.size(), -1) {
    std::vector<std::int32_t> classes;
    for (std::size_t c = 0; c < quotas.size(); ++c) {
      if (quotas[c] < 0) throw std::invalid_argument("quotas must be >= 0");
      if (quotas[c] > 0) classes.push_back(static_cast<std::int32_t>(c));
    }
    const auto quota_of = [&](std::int32_t c) { return quotas[static_cast<std::size_t>(c)]; };
    std::stable_sort(classes.begin(), classes.end(),
                     [&](std::int32_t a, std::int32_t b) { return quota_of(a) < quota_of(b); });
    for (std::size_t k = 0; k < classes.size(); ++k) {
      if (k == 0 || quota_of(classes[k]) != quota_of(classes[k - 1])) {
        quota_.push_back(quota_of(classes[k]));
        size_.push_back(0);
      }
      group_of_[static_cast<std::size_t>(classes[k])] = static_cast<std::int32_t>(quota_.size() - 1);
      ++size_.back();
    }
  }

  std::size_t count() const noexcept { return quota_.size(); }
  // Class c's group, or -1 for a class of quota 0.
  std::int32_t group_of(std::size_t c) const noexcept { return group_of_[c]; }
  std::size_t num_classes() const noexcept { return group_of_.size(); }
  // Every member's quota, and the number of members.
  std::int64_t quota(std::size_t g) const noexcept { return quota_[g]; }
  std::int64_t size(std::size_t g) const noexcept { return size_[g]; }

 private:
  std::vector<std::int32_t> group_of_;
  std::vector<std::int64_t> quota_;
  std::vector<std::int64_t> size_;
};

// The classes of each batch of one epoch, with PfairSchedule's guarantees for every class: every
// batch holds floor or ceil of each class's share quota / num_batches, and after every prefix of
// batches each class's count is within 1 of its exact share (exactly its quota at the end).
//
// A group of K classes of quota q (QuotaGroups) is one Pfair task of quota K q, and its members
// take the group's slots in turn: the group's subtask J (from 1) goes to member (J - 1) mod K. Why
// this keeps each member Pfair: with n batches, w = q / n and W = K w, the group's subtask J lies
// in batch [floor((J - 1) / W), ceil(J / W)) (its count after every prefix is within 1 of exact);
// member k's i-th slot is J = (i - 1) K + k + 1, so that interval is
// [floor((i - 1) / w + k / W), ceil((i - 1) / w + (k + 1) / W)), inside the member's own window
// [floor((i - 1) / w), ceil(i / w)) as 0 <= k < K. A batch's n_g slots of the group are
// consecutive turns, so each member gets floor or ceil of n_g / K, within floor(q / n) and
// ceil(q / n) since n_g is floor or ceil of K q / n.
//
// Equal quotas are the common case (a balanced target gives at most two values), so the work per
// slot is a turn of a rotation, not a priority queue operation per class; and a member's slots are
// every K-th of its group's subtasks, which lets a sampler take each class's draws in one run.
class BatchSchedule {
 public:
  // `tie_order` is a permutation of the classes; each group's members take turns in its order.
  BatchSchedule(const QuotaGroups& groups, std::int64_t num_batches, const std::vector<std::int32_t>& tie_order)
      : groups_(groups),
        pfair_(group_quotas(groups), num_batches, identity(groups.count())),
        first_member_(groups.count() + 1, 0),
        turn_(groups.count(), 0),
        scheduled_(groups.count(), 0) {
    const auto num_classes = groups.num_classes();
    if (tie_order.size() != num_classes) throw std::invalid_argument("tie_order has the wrong length");
    for (std::size_t g = 0; g < groups.count(); ++g) first_member_[g + 1] = first_member_[g] + groups.size(g);
    members_.resize(static_cast<std::size_t>(first_member_.back()));
    std::vector<std::int64_t> fill(first_member_.begin(), first_member_.end() - 1);
    std::vector<std::uint8_t> seen(num_classes, 0);
    for (const std::int32_t c : tie_order) {
      const auto cls = static_cast<std::size_t>(c);
      if (c < 0 || cls >= num_classes || seen[cls] != 0) throw std::invalid_argument("tie_order is not a permutation");
      seen[cls] = 1;
      const std::int32_t g = groups.group_of(cls);
      if (g >= 0) members_[static_cast<std::size_t>(fill[static_cast<std::size_t>(g)]++)] = c;
    }
  }

  std::int64_t batch_size() const noexcept { return pfair_.batch_size(); }
  // Group g's members in turn order.
  const std::int32_t* members(std::size_t g) const noexcept {
    return members_.data() + first_member_[g];
  }
  // Every group's members, group by group, and where group g's start among them.
  const std::vector<std::int32_t>& member_order() const noexcept { return members_; }
  std::int64_t first_member(std::size_t g) const noexcept { return first_member_[g]; }
  // Subtasks of group g scheduled so far.
  std::int64_t scheduled(std::size_t g) const noexcept { return scheduled_[g]; }

  // Schedules the next batch: calls emit_run(group, subtask, count, turn) for runs of its slots,
  // `count` of group `group` in each: the group's subtasks subtask, subtask + 1, ... (counted from
  // 0), taken by the members at turns turn, turn + 1, ... (mod the group's size).
  template <typename EmitRun>
  void next_runs(EmitRun&& emit_run) {
    pfair_.next_runs([&](std::int32_t group, std::int64_t count) {
      const auto g = static_cast<std::size_t>(group);
      const std::int64_t turn = turn_[g];
      const std::int64_t subtask = scheduled_[g];
      scheduled_[g] += count;
      turn_[g] = (turn + count) % groups_.size(g);
      emit_run(group, subtask, count, turn);
    });
  }

  // The same slot by slot: calls emit(cls, group, subtask) for each of the batch's batch_size() slots.
  template <typename Emit>
  void next(Emit&& emit) {
    next_runs([&](std::int32_t group, std::int64_t subtask, std::int64_t count, std::int64_t turn) {
      const auto g = static_cast<std::size_t>(group);
      for (std::int64_t k = 0; k < count; ++k) {
        emit(members_[static_cast<std::size_t>(first_member_[g] + turn)], group, subtask + k);
        turn = turn + 1 == groups_.size(g) ? 0 : turn + 1;
      }
    });
  }

 private:
  static std::vector<std::int64_t> group_quotas(const QuotaGroups& groups) {
    std::vector<std::int64_t> quotas(groups.count());
    for (std::size_t g = 0; g < quotas.size(); ++g) {
      if (groups.quota(g) > SlotBuckets::kMaxSlots / groups.size(g)) throw std::invalid_argument("an epoch must have at most 2^46 slots");
      quotas[g] = groups.quota(g) * groups.size(g);
    }
    return quotas;
  }
  static std::vector<std::int32_t> identity(std::size_t n) {
    std::vector<std::int32_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    return order;
  }
  const QuotaGroups& groups_;
  PfairSchedule pfair_;
  std::vector<std::int64_t> first_member_;  // per group (CSR) into members_
  std::vector<std::int32_t> members_;
  std::vector<std::int64_t> turn_;          // per group: the member whose turn is next
  std::vector<std::int64_t> scheduled_;     // per group: subtasks scheduled so far
};

}  // namespace fast_balance
