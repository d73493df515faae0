// PfairSchedule: tasks spread over the batches of an epoch by the PD^2 Pfair algorithm, so every
// batch and every prefix of batches holds each task's share to within 1.
//
// Subtask i (from 1) of a task: its i-th slot beyond its fixed part (floor(quota / num_batches) in
// every batch); its window: the batches [release, deadline) it may run in for the schedule to be Pfair.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "task_queue.hpp"

namespace fast_balance {

// Tasks over the batches of one epoch, so that every batch holds floor or ceil of each task's
// share quota / num_batches, and after every prefix of batches each task's count is within 1 of
// its exact share (and exactly its quota at the end).
//
// The floor parts are fixed; the remaining fractional parts are scheduled as a Pfair problem
// (each batch slot a processor, task t of weight (quota_t mod num_batches) / num_batches) with
// the PD^2 algorithm of Anderson and Srinivasan, which is optimal: every subtask meets its
// window, which is exactly the "within 1 after every prefix" property.
//
// The ready light tasks and the tasks waiting for their release are TaskQueues: among tasks of
// equal urgency, and among tasks released at the same batch, the last queued comes first. Their
// dense layout (O(1) per task) costs about 12 bytes per batch; epochs of more than kDenseBatches
// batches use heaps (O(log tasks) per task), whose memory follows the tasks only.
class PfairSchedule {
 public:
  // Above this many batches the queues are heaps (at most about 50 MB of dense queues).
  static constexpr std::int64_t kDenseBatches = std::int64_t{1} << 22;
  enum class Layout { kAuto, kDense, kHeap };

  // `tie_order` is a permutation of the tasks: among equally urgent tasks, those that come later
  // in it are taken first. `layout` only chooses the queues' layout (the schedule is the same).
  PfairSchedule(const std::vector<std::int64_t>& quotas, std::int64_t num_batches,
                const std::vector<std::int32_t>& tie_order, Layout layout = Layout::kAuto)
      : num_batches_(checked_batches(num_batches)),
        ready_(2 * num_batches_ + 2, quotas.size(), dense(layout, num_batches_)),
        waiting_(num_batches_ + 1, quotas.size(), dense(layout, num_batches_), false) {
    const auto num_tasks = quotas.size();
    if (tie_order.size() != num_tasks) throw std::invalid_argument("tie_order has the wrong length");
    share_.resize(num_tasks);
    next_subtask_.assign(num_tasks, 1);
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
    while (waiting_.has(slot_)) make_ready(waiting_.pop(slot_));
    for (const auto& fixed : fixed_runs_) run(fixed.first, fixed.second);
    for (std::int64_t k = 0; k < extra_per_batch_; ++k) {
      const std::int32_t c = take_most_urgent();
      run(c, std::int64_t{1});
      const auto task = static_cast<std::size_t>(c);
      const std::int64_t subtask = ++next_subtask_[task];
      if (subtask <= share_[task]) {
        // A task runs at most once per batch, so its next subtask waits for the next slot at least.
        const std::int64_t release = std::max(release_of(task, subtask), slot_ + 1);
        waiting_.push(release, c);
      }
    }
    ++slot_;
  }

  // Appends the tasks of the next batch (batch_size() entries) to `out`.
  void next(std::vector<std::int32_t>& out) {
    next_runs([&](std::int32_t task, std::int64_t count) { out.insert(out.end(), static_cast<std::size_t>(count), task); });
  }

 private:
  static std::int64_t checked_batches(std::int64_t num_batches) {
    if (num_batches < 1) throw std::invalid_argument("num_batches must be >= 1");
    if (num_batches > INT32_MAX) throw std::invalid_argument("an epoch of more than 2^31 - 1 batches is not supported");
    return num_batches;
  }
  static bool dense(Layout layout, std::int64_t num_batches) noexcept {
    return layout == Layout::kDense || (layout == Layout::kAuto && num_batches <= kDenseBatches);
  }

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
    ready_.push(2 * deadline + (overlaps ? 0 : 1), c);
  }

  std::int32_t take_most_urgent() {
    const bool have_light = !ready_.empty();
    if (!heavy_.empty()) {
      const Heavy& top = heavy_.front();
      const std::int64_t heavy_key = 2 * top.deadline + (top.successor_overlaps ? 0 : 1);
      if (!have_light || heavy_key <= ready_.min_key()) {
        const std::int32_t c = top.task;
        std::pop_heap(heavy_.begin(), heavy_.end(), [](const Heavy& a, const Heavy& b) { return more_urgent(b, a); });
        heavy_.pop_back();
        return c;
      }
    }
    if (!have_light) throw std::logic_error("Pfair schedule ran out of ready tasks");
    return ready_.pop();
  }

  std::int64_t num_batches_;
  std::int64_t batch_size_ = 0;
  std::int64_t extra_per_batch_ = 0;
  std::int64_t slot_ = 0;
  std::vector<std::pair<std::int32_t, std::int64_t>> fixed_runs_;  // (task, quota / num_batches)
  std::vector<std::int64_t> share_;         // quota mod num_batches: the Pfair weight's numerator
  std::vector<std::int64_t> next_subtask_;  // 1-based
  TaskQueue ready_;                         // light tasks by key 2 * deadline + !b-bit
  TaskQueue waiting_;                       // tasks waiting for their release batch (the key)
  std::vector<Heavy> heavy_;                // binary heap, most urgent first
};

}  // namespace fast_balance
