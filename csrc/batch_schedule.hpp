// BatchSchedule: the classes of each batch of an epoch, every quota group one PfairSchedule task
// whose members take its slots in turn.
//
// Turn: a group's members take its subtasks in rotation, in a per-epoch order (the tie order);
// the member at turn t takes subtasks t, t + K, t + 2K, ... of a group of K.
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "pfair_schedule.hpp"
#include "quota_groups.hpp"
#include "slot_buckets.hpp"  // SlotBuckets::kMaxSlots, the limit of an epoch's slots

namespace fast_balance {

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
