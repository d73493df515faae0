// The streaming rebalancer's schedule: which class takes the next turn (the rule is stated in
// rebalance.hpp), in O(log C) per turn and 16 bytes per class before a class has joined.
//
// Why the rule keeps every class within 1 of its share: while every class is present, the
// turns of class c are the subtasks of a Pfair task of weight w_c / W (turn j's window is
// [floor((j-1) W / w_c), ceil(j W / w_c)) in virtual slots), and the weights sum to 1. A Pfair
// schedule of such tasks on one processor exists (Baruah et al. 1996), and earliest deadline
// first with any tie-break is optimal for unit jobs with integer releases and deadlines on one
// processor, so every turn is taken inside its window: after N slots class c has taken
// floor(N w_c / W) or ceil(N w_c / W) turns. A class that starts late at slot s is a task that
// joins at s; a class skipped before its start is a task that has not yet joined. Neither
// adds weight, so the present tasks stay feasible and each keeps the bound from its own start.
//
// Data: the classes present are either eligible (their next turn's window has opened; a heap by
// (deadline, class)) or waiting (a heap by release); classes not yet started are taken in one
// fixed order by (first deadline, class), all of them being eligible from slot 0 with the same
// window as on joining. Slots are 128-bit: when only light classes are present the clock
// skips ahead by up to W / w_c slots per turn, which 64 bits cannot hold in general.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fast_balance {

class StreamSchedule {
 public:
  __extension__ typedef unsigned __int128 Slot;

  static constexpr std::int64_t kMaxClasses = std::numeric_limits<std::int32_t>::max();
  // What a class costs before it has joined: its weight, its member number and its place in
  // the order of classes not yet started. The rest is allocated when the class joins.
  static constexpr std::int64_t kBytesPerClass = sizeof(std::uint64_t) + 2 * sizeof(std::int32_t);

  // Member numbers of classes that are not members.
  static constexpr std::int32_t kNotStarted = -1;  // no record yet, never skipped
  static constexpr std::int32_t kSkipped = -2;     // skipped once for lack of records; starts late

  explicit StreamSchedule(std::vector<std::uint64_t> weights) : weights_(std::move(weights)) {
    if (weights_.empty()) throw std::invalid_argument("weights must name at least one class");
    if (weights_.size() > static_cast<std::size_t>(kMaxClasses)) {
      throw std::invalid_argument("at most " + std::to_string(kMaxClasses) + " classes, got " +
                                  std::to_string(weights_.size()));
    }
    for (const std::uint64_t w : weights_) {
      if (w > std::numeric_limits<std::uint64_t>::max() - total_) throw std::invalid_argument("weights sum to 2^64 or more");
      total_ += w;
    }
    if (total_ == 0) throw std::invalid_argument("weights are all zero");
    member_.assign(weights_.size(), kNotStarted);
    order_classes_by_first_deadline();
  }

  std::int64_t num_classes() const noexcept { return static_cast<std::int64_t>(weights_.size()); }
  std::uint64_t weight(std::int64_t c) const noexcept { return weights_[static_cast<std::size_t>(c)]; }
  // The class's number among the classes that have joined, in order of joining; < 0 before.
  std::int32_t member(std::int64_t c) const noexcept { return member_[static_cast<std::size_t>(c)]; }
  // Slots that have gone by (turns taken plus slots skipped while no class present could use them).
  Slot now() const noexcept { return now_; }

  // The class whose turn it is: the eligible member or not-yet-started class with the earliest
  // deadline, ties to the lower class. -1 when there is none (no class with weight can start).
  std::int32_t next() {
    while (true) {
      release_waiting();
      const bool unstarted = find_unstarted();
      if (!eligible_.empty() &&
          (!unstarted || eligible_.top() < eligible_entry(unstarted_deadline_, unstarted_class_, -1))) {
        return eligible_.top().cls;
      }
      if (unstarted) return unstarted_class_;
      if (waiting_.empty()) return -1;
      now_ = waiting_.top().key();  // no present class may use the slots before
    }
  }

  // Where a member's next turn stands. The caller keeps it with its own data for the class (one
  // fewer cache miss per turn than a separate array here) and hands it back with each turn.
  class Turns {
   private:
    friend class StreamSchedule;
    // Turn j may be taken from slot `release`; its window ends at end + end_remainder / weight,
    // i.e. at start + j * W / weight.
    Slot release = 0;
    Slot end = 0;
    std::uint64_t end_remainder = 0;
    std::uint64_t weight = 0;
    std::uint64_t step = 0;  // W / weight, whole part and remainder
    std::uint64_t step_remainder = 0;
  };

  // Class c, a member that next() returned, takes its turn; `turns` is what join(c) returned, as
  // updated by the class's earlier turns.
  void take_turn(std::int32_t c, Turns& turns) {
    if (eligible_.empty() || eligible_.top().cls != c) throw std::logic_error("take_turn: not this class's turn");
    const std::int32_t m = eligible_.top().member;
    eligible_.pop();
    ++now_;
    turns.release = turns.end;
    turns.end += turns.step;
    turns.end_remainder += turns.step_remainder;
    if (turns.end_remainder >= turns.weight) {
      turns.end_remainder -= turns.weight;
      ++turns.end;
    }
    if (turns.release <= now_) {
      eligible_.push(eligible_entry(deadline(turns), c, m));
    } else {
      waiting_.push(Waiting{static_cast<std::uint64_t>(turns.release >> 64), static_cast<std::uint64_t>(turns.release),
                            static_cast<std::uint64_t>(deadline(turns) - turns.release), c, m});
    }
  }

  // Class c (weight > 0, not a member) has its first record and becomes member number
  // member(c) (the number of members before it). It takes the windows it would have had from
  // slot 0 if it was never skipped, or starts at the current slot if it was.
  Turns join(std::int32_t c) {
    std::int32_t& number = member_[static_cast<std::size_t>(c)];
    const std::uint64_t w = weights_[static_cast<std::size_t>(c)];
    if (number >= 0 || w == 0) throw std::logic_error("join: the class has joined already or has weight 0");
    const Slot start = number == kSkipped ? now_ : 0;
    Turns turns;
    turns.weight = w;
    turns.step = total_ / w;
    turns.step_remainder = total_ % w;
    turns.release = start;
    turns.end = start + turns.step;
    turns.end_remainder = turns.step_remainder;
    number = members_++;
    eligible_.push(eligible_entry(deadline(turns), c, number));  // its window is open: start <= now
    return turns;
  }

  // Class c, not started and returned by next(), has no record and none can be read now: it
  // gives up its turns until join(c).
  void skip(std::int32_t c) {
    std::int32_t& number = member_[static_cast<std::size_t>(c)];
    if (number != kNotStarted || !find_unstarted() || unstarted_class_ != c) {
      throw std::logic_error("skip: not a class waiting for its first turn");
    }
    number = kSkipped;
  }

 private:
  // Heap entries. Slot numbers are split into words to keep entries small; a waiting entry also
  // carries its deadline (as the distance from its release, below W / w + 2), so that releasing
  // it does not visit its member.
  struct Eligible {
    std::uint64_t deadline_high;
    std::uint64_t deadline_low;
    std::int32_t cls;
    std::int32_t member;
    Slot key() const noexcept { return (static_cast<Slot>(deadline_high) << 64) | deadline_low; }
    // Earliest deadline first, ties to the lower class.
    bool operator<(const Eligible& other) const noexcept {
      if (deadline_high != other.deadline_high) return deadline_high < other.deadline_high;
      if (deadline_low != other.deadline_low) return deadline_low < other.deadline_low;
      return cls < other.cls;
    }
  };
  struct Waiting {
    std::uint64_t release_high;
    std::uint64_t release_low;
    std::uint64_t window;  // deadline - release
    std::int32_t cls;
    std::int32_t member;
    Slot key() const noexcept { return (static_cast<Slot>(release_high) << 64) | release_low; }
    bool operator<(const Waiting& other) const noexcept {
      return release_high != other.release_high ? release_high < other.release_high : release_low < other.release_low;
    }
  };

  // A 4-ary min-heap: half the levels of a binary heap, the children of a node side by side,
  // which matters once the heap outgrows the caches (10^5 classes and more).
  template <typename T>
  class MinHeap {
   public:
    bool empty() const noexcept { return items_.empty(); }
    const T& top() const noexcept { return items_.front(); }
    void push(const T& item) {
      std::size_t i = items_.size();
      items_.push_back(item);
      while (i > 0) {
        const std::size_t parent = (i - 1) / kArity;
        if (!(item < items_[parent])) break;
        items_[i] = items_[parent];
        i = parent;
      }
      items_[i] = item;
    }
    void pop() {
      const T last = items_.back();
      items_.pop_back();
      const std::size_t size = items_.size();
      if (size == 0) return;
      std::size_t i = 0;
      while (true) {
        const std::size_t first = kArity * i + 1;
        if (first >= size) break;
        std::size_t best = first;
        const std::size_t stop = std::min(first + kArity, size);
        for (std::size_t child = first + 1; child < stop; ++child) {
          if (items_[child] < items_[best]) best = child;
        }
        if (!(items_[best] < last)) break;
        items_[i] = items_[best];
        i = best;
      }
      items_[i] = last;
    }

   private:
    static constexpr std::size_t kArity = 4;
    std::vector<T> items_;
  };

  static Slot deadline(const Turns& turns) noexcept { return turns.end + (turns.end_remainder > 0 ? 1 : 0); }

  static Eligible eligible_entry(Slot deadline, std::int32_t cls, std::int32_t member) noexcept {
    return Eligible{static_cast<std::uint64_t>(deadline >> 64), static_cast<std::uint64_t>(deadline), cls, member};
  }

  void release_waiting() {
    while (!waiting_.empty() && waiting_.top().key() <= now_) {
      const Waiting e = waiting_.top();
      waiting_.pop();
      eligible_.push(eligible_entry(e.key() + e.window, e.cls, e.member));
    }
  }

  std::uint64_t first_deadline(std::size_t c) const noexcept {
    const std::uint64_t w = weights_[c];
    return total_ / w + (total_ % w != 0 ? 1 : 0);
  }

  // Classes not started are taken by (first deadline, class); this order is stored only when it
  // is not the class order (it is for equal weights).
  void order_classes_by_first_deadline() {
    bool in_class_order = true;
    std::uint64_t previous = 0;
    for (std::size_t c = 0; c < weights_.size() && in_class_order; ++c) {
      if (weights_[c] == 0) continue;
      const std::uint64_t d = first_deadline(c);
      in_class_order = d >= previous;
      previous = d;
    }
    if (in_class_order) return;
    order_.reserve(weights_.size());
    for (std::size_t c = 0; c < weights_.size(); ++c) {
      if (weights_[c] > 0) order_.push_back(static_cast<std::int32_t>(c));
    }
    // The first deadline falls as the weight grows: sort by weight, then put each run of equal
    // deadlines (heavier classes first, so runs are contiguous) back in class order.
    std::sort(order_.begin(), order_.end(), [&](std::int32_t a, std::int32_t b) {
      return weights_[static_cast<std::size_t>(a)] != weights_[static_cast<std::size_t>(b)]
                 ? weights_[static_cast<std::size_t>(a)] > weights_[static_cast<std::size_t>(b)]
                 : a < b;
    });
    for (std::size_t begin = 0; begin < order_.size();) {
      const std::uint64_t d = first_deadline(static_cast<std::size_t>(order_[begin]));
      std::size_t end = begin + 1;
      while (end < order_.size() && first_deadline(static_cast<std::size_t>(order_[end])) == d) ++end;
      std::sort(order_.begin() + static_cast<std::ptrdiff_t>(begin), order_.begin() + static_cast<std::ptrdiff_t>(end));
      begin = end;
    }
  }

  // Moves the cursor to the first class, in start order, that has weight and has neither joined
  // nor been skipped; false if none is left.
  bool find_unstarted() {
    const std::size_t count = order_.empty() ? weights_.size() : order_.size();
    while (cursor_ < count) {
      const auto c = order_.empty() ? cursor_ : static_cast<std::size_t>(order_[cursor_]);
      if (weights_[c] > 0 && member_[c] == kNotStarted) {
        if (unstarted_class_ != static_cast<std::int32_t>(c)) {
          unstarted_class_ = static_cast<std::int32_t>(c);
          unstarted_deadline_ = first_deadline(c);
        }
        return true;
      }
      ++cursor_;
    }
    return false;
  }

  std::vector<std::uint64_t> weights_;
  std::vector<std::int32_t> member_;  // by class
  std::vector<std::int32_t> order_;   // classes by (first deadline, class); empty when that is class order
  std::uint64_t total_ = 0;
  std::int32_t members_ = 0;
  MinHeap<Eligible> eligible_;        // members whose next turn is released
  MinHeap<Waiting> waiting_;          // the other members
  Slot now_ = 0;
  std::size_t cursor_ = 0;            // into the start order; classes before it have started or been skipped
  std::int32_t unstarted_class_ = -1;
  Slot unstarted_deadline_ = 0;
};

}  // namespace fast_balance
