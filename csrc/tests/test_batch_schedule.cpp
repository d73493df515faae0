// Unit tests of BatchSchedule (batch_schedule.hpp) and QuotaGroups: every class Pfair, groups'
// members taking turns.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../batch_schedule.hpp"
#include "../quota_groups.hpp"
#include "../random.hpp"
#include "check.hpp"
#include "schedule_cases.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;
using fast_balance_tests::is_pfair;
using fast_balance_tests::random_schedule_case;
using fast_balance_tests::ScheduleCase;

using fast_balance::BatchSchedule;
using fast_balance::QuotaGroups;
using fast_balance::RandomStream;

// BatchSchedule: every class Pfair, with classes of equal quota taking their group's slots in turn.
void test_batch_schedule_is_pfair() {
  RandomStream random(5);
  for (int trial = 0; trial < 20400; ++trial) {
    const ScheduleCase problem = random_schedule_case(random, trial < 20000, trial % 2 == 0);
    const QuotaGroups groups(problem.quotas);
    BatchSchedule schedule(groups, problem.batches, problem.order);
    std::vector<std::vector<std::int64_t>> per_batch;
    std::vector<std::int64_t> subtasks(groups.count(), 0);
    bool turns = true;
    for (std::int64_t b = 0; b < problem.batches; ++b) {
      per_batch.emplace_back(problem.quotas.size(), 0);
      std::int64_t slots = 0;
      schedule.next([&](std::int32_t cls, std::int32_t group, std::int64_t subtask) {
        const auto g = static_cast<std::size_t>(group);
        ++per_batch.back()[static_cast<std::size_t>(cls)];
        ++slots;
        // Subtasks count up per group and go to the members in turn.
        turns = turns && groups.group_of(static_cast<std::size_t>(cls)) == group && subtask == subtasks[g]++ &&
                schedule.members(g)[subtask % groups.size(g)] == cls;
      });
      turns = turns && slots == problem.batch;
    }
    for (std::size_t g = 0; g < groups.count(); ++g) turns = turns && schedule.scheduled(g) == subtasks[g];
    if (!turns || !is_pfair(per_batch, problem.quotas)) {
      check(false, "schedule trial " + std::to_string(trial) + ": turns, floor/ceil per batch, prefix within 1");
      return;
    }
  }
  check(true, "20,400 batch schedules are Pfair for every class");
  // Members take turns in tie order; a permutation is required.
  const QuotaGroups groups({2, 2, 2, 0});
  BatchSchedule schedule(groups, 2, {3, 2, 0, 1});
  check(std::vector<std::int32_t>(schedule.members(0), schedule.members(0) + 3) == std::vector<std::int32_t>({2, 0, 1}),
        "members in tie order");
  check_throws<std::invalid_argument>([&] { BatchSchedule(groups, 2, {0, 0, 1, 2}); }, "tie order with a repeat");
}

void run_all() { test_batch_schedule_is_pfair(); }

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
