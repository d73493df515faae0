// TaskQueue: tasks by integer key, taken smallest key first and, among equal keys, last in first
// out: PfairSchedule's queues of ready tasks (by urgency) and waiting tasks (by release batch).
//
// Two layouts give the same order. Dense: a LIFO list per key and a MinKeySet of the keys in use,
// O(1) per task, memory of the key range (a few bytes per batch of the epoch). Heap: entries
// numbered as they come, O(log tasks) per task, memory of the tasks only; for epochs of so many
// batches that the dense layout would cost more than a slice of them should.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "min_key_set.hpp"

namespace fast_balance {

class TaskQueue {
 public:
  // Keys are in [0, key_range), tasks in [0, num_tasks); a task is queued at most once at a time.
  // Without `any_key`, tasks are only taken by key (has / pop(key)), and the dense layout keeps no
  // set of the keys in use.
  TaskQueue(std::int64_t key_range, std::size_t num_tasks, bool dense, bool any_key = true)
      : dense_(dense),
        any_key_(any_key),
        keys_(dense && any_key ? key_range : 1),
        head_(dense ? static_cast<std::size_t>(key_range) : 0, -1),
        link_(dense ? num_tasks : 0, -1) {}

  bool empty() const noexcept { return dense_ ? keys_.empty() : heap_.empty(); }

  // The smallest key queued; the queue must not be empty.
  std::int64_t min_key() const noexcept { return dense_ ? keys_.first() : heap_.front().key; }

  // Whether a task is queued with `key`, which is no larger than any key queued.
  bool has(std::int64_t key) const noexcept {
    return dense_ ? head_[static_cast<std::size_t>(key)] != -1 : !heap_.empty() && heap_.front().key == key;
  }

  void push(std::int64_t key, std::int32_t task) {
    if (!dense_) {
      heap_.push_back(Entry{key, entries_++, task});
      std::push_heap(heap_.begin(), heap_.end(), later);
      return;
    }
    auto& head = head_[static_cast<std::size_t>(key)];
    link_[static_cast<std::size_t>(task)] = head;
    if (head == -1 && any_key_) keys_.insert(key);
    head = task;
  }

  // Takes the last task queued with the smallest key; the queue must not be empty.
  std::int32_t pop() {
    if (!dense_) {
      const std::int32_t task = heap_.front().task;
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
      return task;
    }
    return pop(keys_.first());
  }

  // Takes the last task queued with `key` (has(key) must hold).
  std::int32_t pop(std::int64_t key) {
    if (!dense_) return pop();
    auto& head = head_[static_cast<std::size_t>(key)];
    const std::int32_t task = head;
    head = link_[static_cast<std::size_t>(task)];
    if (head == -1 && any_key_) keys_.erase(key);
    return task;
  }

 private:
  // A heap entry; a later entry (a larger number) of the same key comes first.
  struct Entry {
    std::int64_t key;
    std::uint64_t number;
    std::int32_t task;
  };
  // The heap's order (std heaps keep the greatest first: "later" means less urgent).
  static bool later(const Entry& a, const Entry& b) noexcept {
    return a.key != b.key ? a.key > b.key : a.number < b.number;
  }

  bool dense_;
  bool any_key_;
  MinKeySet keys_;                 // dense, any key: the keys with a task
  std::vector<std::int32_t> head_;  // dense: per key, its last task (-1: none)
  std::vector<std::int32_t> link_;  // dense: per task, the task queued before it with its key
  std::vector<Entry> heap_;         // heap
  std::uint64_t entries_ = 0;       // heap: entries made so far, numbering them
};

}  // namespace fast_balance
