// Unit tests of the streaming rebalancer (rebalance.hpp) and its schedule (stream_schedule.hpp).
// Exit status 0 when every check passes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../random.hpp"
#include "../rebalance.hpp"
#include "../stream_schedule.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::StreamSchedule;
using Slot = StreamSchedule::Slot;
using Rebalancer = fast_balance::StreamRebalancer<std::string>;
using Emitted = std::vector<fast_balance::Emission<std::string>>;

std::string to_string(Slot value) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value > 0);
  return digits;
}

// The schedule's rule written out directly, O(C) per turn, as rebalance.hpp states it.
class ScheduleModel {
 public:
  explicit ScheduleModel(std::vector<std::uint64_t> weights) : weights_(std::move(weights)), state_(weights_.size()) {
    for (const std::uint64_t w : weights_) total_ += w;
  }

  std::int32_t next() {
    while (true) {
      std::int32_t best = -1;
      Slot best_deadline = 0;
      bool any_member = false;
      Slot earliest_release = 0;
      for (std::size_t c = 0; c < weights_.size(); ++c) {
        const State& s = state_[c];
        if (weights_[c] == 0 || s.skipped) continue;
        if (s.joined) {
          const Slot release = s.start + static_cast<Slot>(s.turns) * total_ / weights_[c];
          if (!any_member || release < earliest_release) earliest_release = release;
          any_member = true;
          if (release > now_) continue;
        } else if (s.ever_skipped) {
          continue;
        }
        const Slot end = static_cast<Slot>(s.turns + 1) * total_;
        const Slot deadline = s.start + end / weights_[c] + (end % weights_[c] != 0 ? 1 : 0);
        if (best < 0 || deadline < best_deadline) {
          best = static_cast<std::int32_t>(c);
          best_deadline = deadline;
        }
      }
      if (best >= 0 || !any_member) return best;
      now_ = earliest_release;
    }
  }
  void take_turn(std::int32_t c) {
    ++state_[static_cast<std::size_t>(c)].turns;
    ++now_;
  }
  void join(std::int32_t c) {
    State& s = state_[static_cast<std::size_t>(c)];
    if (s.joined) return;
    s.joined = true;
    if (s.ever_skipped) s.start = now_;
    s.skipped = false;
  }
  void skip(std::int32_t c) {
    State& s = state_[static_cast<std::size_t>(c)];
    s.skipped = s.ever_skipped = true;
  }
  Slot now() const { return now_; }
  // The slot from which the class's turns are counted; false for a class skipped and not back.
  bool start(std::int32_t c, Slot& slot) const {
    const State& s = state_[static_cast<std::size_t>(c)];
    slot = s.start;
    return !s.skipped;
  }

 private:
  struct State {
    bool joined = false;
    bool skipped = false;
    bool ever_skipped = false;
    Slot start = 0;
    std::uint64_t turns = 0;
  };
  std::vector<std::uint64_t> weights_;
  std::vector<State> state_;
  std::uint64_t total_ = 0;
  Slot now_ = 0;
};

// The schedule with the members' turn states kept beside it, as the rebalancer keeps them.
class Schedule {
 public:
  explicit Schedule(std::vector<std::uint64_t> weights) : schedule_(std::move(weights)) {}
  std::int32_t next() { return schedule_.next(); }
  std::int32_t member(std::int32_t c) const { return schedule_.member(c); }
  Slot now() const { return schedule_.now(); }
  void join(std::int32_t c) {
    if (schedule_.member(c) < 0) turns_.push_back(schedule_.join(c));
  }
  void skip(std::int32_t c) { schedule_.skip(c); }
  void take_turn(std::int32_t c) {
    const std::int32_t m = schedule_.member(c);
    if (m < 0) throw std::logic_error("take_turn: not a member");
    schedule_.take_turn(c, turns_[static_cast<std::size_t>(m)]);
  }

 private:
  StreamSchedule schedule_;
  std::vector<StreamSchedule::Turns> turns_;
};

// Random weights, records arriving at random and classes skipped at random: the schedule makes
// the model's choices, and every class stays within 1 of its share of the slots since its start.
void test_schedule_follows_its_rule() {
  fast_balance::RandomStream random(42);
  const std::uint64_t choices[] = {0, 1, 1, 2, 3, 7, 100, std::uint64_t{1} << 40};
  for (int trial = 0; trial < 2000; ++trial) {
    const auto num_classes = static_cast<std::size_t>(1 + random.below(12));
    std::vector<std::uint64_t> weights(num_classes);
    for (auto& w : weights) w = choices[random.below(8)];
    if (std::all_of(weights.begin(), weights.end(), [](std::uint64_t w) { return w == 0; })) weights[0] = 5;
    const bool skips = trial % 2 == 1;
    Schedule schedule(weights);
    ScheduleModel model(weights);
    std::vector<std::uint64_t> turns(num_classes, 0);
    std::uint64_t total = 0;
    for (const std::uint64_t w : weights) total += w;
    bool same = true;
    bool within_one = true;
    for (int step = 0; step < 400 && same; ++step) {
      if (skips && random.below(4) == 0) {  // a record of some class arrives
        const auto c = static_cast<std::int32_t>(random.below(num_classes));
        if (weights[static_cast<std::size_t>(c)] > 0) {
          schedule.join(c);
          model.join(c);
        }
      }
      const std::int32_t c = schedule.next();
      same = c == model.next();
      if (c < 0) continue;
      if (schedule.member(c) < 0) {
        if (skips && random.below(2) == 0) {
          schedule.skip(c);
          model.skip(c);
        } else {
          schedule.join(c);
          model.join(c);
        }
        continue;
      }
      schedule.take_turn(c);
      model.take_turn(c);
      ++turns[static_cast<std::size_t>(c)];
      same = same && schedule.now() == model.now();
      // Every class not skipped (or back since) has floor or ceil of its share of the slots since its start.
      for (std::size_t k = 0; k < num_classes; ++k) {
        Slot start = 0;
        if (!model.start(static_cast<std::int32_t>(k), start)) continue;
        const Slot share = (schedule.now() - start) * weights[k];
        const Slot low = share / total;
        const Slot high = low + (share % total != 0 ? 1 : 0);
        within_one = within_one && turns[k] >= low && turns[k] <= high;
      }
    }
    check(same, "schedule: makes the choices of its rule (trial " + std::to_string(trial) + ")");
    check(within_one, "schedule: each class's turns are floor or ceil of its share since its start, after every turn (trial " +
                          std::to_string(trial) + ")");
  }
}

// A class skipped at first starts when its first record comes: no burst to catch up.
void test_schedule_late_class_starts_now() {
  Schedule schedule({1, 1, 2});
  std::vector<int> turns(3, 0);
  auto turn = [&] {
    std::int32_t c = schedule.next();
    while (schedule.member(c) < 0) {
      if (c == 1) {
        schedule.skip(c);
      } else {
        schedule.join(c);
      }
      c = schedule.next();
    }
    schedule.take_turn(c);
    ++turns[static_cast<std::size_t>(c)];
  };
  for (int i = 0; i < 300; ++i) turn();
  check(turns[1] == 0 && std::abs(turns[2] - 2 * turns[0]) <= 1, "schedule: a skipped class takes no turns, the others keep 2:1");
  schedule.join(1);
  const Slot start = schedule.now();
  turns.assign(3, 0);
  bool within_one = true;
  for (int i = 0; i < 400; ++i) {
    turn();
    const Slot share = (schedule.now() - start) * 1;
    within_one = within_one && static_cast<Slot>(turns[1]) * 4 + 4 > share && static_cast<Slot>(turns[1]) * 4 < share + 4;
  }
  check(within_one, "schedule: a late class keeps within 1 of its share from its start (no burst)");
}

// Light classes alone skip W / w slots per turn; the clock must not wrap at 2^64.
void test_schedule_clock_beyond_64_bits() {
  const std::uint64_t heavy = std::numeric_limits<std::uint64_t>::max() - 1;
  Schedule schedule({1, heavy});
  ScheduleModel model({1, heavy});
  std::int32_t c = schedule.next();
  check(c == 1 && model.next() == 1, "schedule: the heavy class comes first");
  schedule.skip(1);
  model.skip(1);
  schedule.join(0);
  model.join(0);
  for (int i = 0; i < 5; ++i) {
    c = schedule.next();
    check(c == 0 && model.next() == 0, "schedule: the light class alone takes the turns");
    schedule.take_turn(0);
    model.take_turn(0);
  }
  const Slot total = static_cast<Slot>(heavy) + 1;
  check(schedule.now() == model.now() && schedule.now() == 4 * total + 1,
        "schedule: slots counted past 2^64, got " + to_string(schedule.now()));
  schedule.join(1);
  c = schedule.next();
  check(c == 1 && schedule.member(1) >= 0, "schedule: the heavy class starts at the current slot");
}

void test_schedule_preconditions() {
  check_throws<std::invalid_argument>([] { StreamSchedule({}); }, "schedule: no classes");
  check_throws<std::invalid_argument>([] { StreamSchedule({0, 0}); }, "schedule: all-zero weights");
  check_throws<std::invalid_argument>([] { StreamSchedule({std::numeric_limits<std::uint64_t>::max(), 1}); },
                                      "schedule: weights summing past 2^64");
  StreamSchedule schedule({1, 0, 1});
  check_throws<std::logic_error>([&] { schedule.join(1); }, "schedule: weight-0 class joins");
  StreamSchedule::Turns turns = schedule.join(0);
  check_throws<std::logic_error>([&] { schedule.join(0); }, "schedule: a class joins twice");
  check(schedule.next() == 0, "schedule: the member with the earliest deadline is next");
  check_throws<std::logic_error>([&] { schedule.take_turn(2, turns); }, "schedule: turn of a class whose turn it is not");
  schedule.take_turn(0, turns);
  check(schedule.next() == 2, "schedule: then the class not yet started");
  check_throws<std::logic_error>([&] { schedule.skip(0); }, "schedule: skip of a member");
  schedule.skip(2);
  check(schedule.next() == 0 && schedule.member(2) == StreamSchedule::kSkipped, "schedule: a skipped class waits");
}

// A shuffled stream with counts[c] records of class c; record payloads are "c:k".
std::vector<std::int64_t> stream_labels(const std::vector<int>& counts, std::uint64_t seed) {
  std::vector<std::int64_t> labels;
  for (std::size_t c = 0; c < counts.size(); ++c) labels.insert(labels.end(), static_cast<std::size_t>(counts[c]), static_cast<std::int64_t>(c));
  fast_balance::RandomStream(seed).shuffle(labels.data(), static_cast<std::int64_t>(labels.size()));
  return labels;
}

Emitted rebalance_in_chunks(Rebalancer& rebalancer, const std::vector<std::int64_t>& labels, std::size_t chunk) {
  Emitted out;
  for (std::size_t begin = 0; begin < labels.size() || begin == 0; begin += chunk) {
    const std::size_t end = std::min(labels.size(), begin + chunk);
    std::vector<std::string> payloads;
    for (std::size_t i = begin; i < end; ++i) payloads.push_back(std::to_string(labels[i]) + ":" + std::to_string(i));
    const std::vector<std::int64_t> part(labels.begin() + static_cast<std::ptrdiff_t>(begin),
                                         labels.begin() + static_cast<std::ptrdiff_t>(end));
    rebalancer.push(payloads, part, end == labels.size(), out);
    if (end == labels.size()) break;
  }
  return out;
}

fast_balance::RebalanceOptions rebalance_options(std::vector<std::uint64_t> weights, std::int64_t capacity,
                                                 std::uint64_t seed) {
  fast_balance::RebalanceOptions options;
  options.weights = std::move(weights);
  options.capacity_per_class = capacity;
  options.seed = seed;
  return options;
}

void test_rebalance_balances_without_losing_records() {
  // Every class present from the start: a class cannot be served before its first record arrives.
  auto labels = stream_labels({500, 50, 10}, 3);
  for (std::size_t c = 0; c < 3; ++c) {
    const auto first = std::find(labels.begin() + static_cast<std::ptrdiff_t>(c), labels.end(), static_cast<std::int64_t>(c));
    std::iter_swap(labels.begin() + static_cast<std::ptrdiff_t>(c), first);
  }
  Rebalancer rebalancer(rebalance_options({1, 1, 1}, 16, 7));
  const Emitted out = rebalance_in_chunks(rebalancer, labels, 64);
  check(rebalancer.finished(), "rebalance: finished after the final push");
  std::vector<int> per_class(3, 0);
  std::map<std::string, std::vector<int>> repeats_of;
  bool prefixes_within_one = true;
  for (std::size_t n = 0; n < out.size(); ++n) {
    const auto& e = out[n];
    ++per_class[static_cast<std::size_t>(e.label)];
    for (const int count : per_class) prefixes_within_one = prefixes_within_one && std::abs(3 * count - static_cast<int>(n + 1)) < 3;
    check(e.payload.substr(0, e.payload.find(':')) == std::to_string(e.label), "rebalance: payload keeps its label");
    repeats_of[e.payload].push_back(e.repeats);
  }
  check(prefixes_within_one, "rebalance: after every prefix each class is emitted within 1 of its share");
  const auto& stats = rebalancer.stats();
  check(stats.read == 560 && stats.fresh == 560, "rebalance: every record read is emitted once fresh");
  check(static_cast<std::int64_t>(repeats_of.size()) == 560, "rebalance: every record appears in the output");
  check(stats.emitted == static_cast<std::int64_t>(out.size()) && stats.emitted == stats.fresh + stats.replays,
        "rebalance: emitted = fresh + replays");
  check(static_cast<double>(stats.read) / static_cast<double>(stats.emitted) <= 1.0, "rebalance: reads per emitted <= 1");
  // With capacity 16, class 2 (10 records) is never replaced, so its numbering is exact.
  bool minority_ordered = true;
  for (const auto& [payload, repeats] : repeats_of) {
    if (payload[0] != '2') continue;
    for (std::size_t k = 0; k < repeats.size(); ++k) minority_ordered = minority_ordered && repeats[k] == static_cast<int>(k);
  }
  check(minority_ordered, "rebalance: repeats of never-replaced records are 0, 1, 2, ...");
  // Memory: at most capacity fresh + capacity kept per class ("c:kkk" is at most 5 bytes).
  check(stats.peak_held_bytes <= 3 * 2 * 16 * 5, "rebalance: memory bounded by the capacities");
}

void test_rebalance_is_deterministic_and_independent_of_chunking() {
  const auto labels = stream_labels({300, 40, 7, 0, 25}, 11);
  auto run = [&](std::size_t chunk, std::uint64_t seed) {
    Rebalancer rebalancer(rebalance_options({2, 1, 1, 0, 1}, 5, seed));
    return rebalance_in_chunks(rebalancer, labels, chunk);
  };
  auto same = [](const Emitted& a, const Emitted& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].payload != b[i].payload || a[i].label != b[i].label || a[i].repeats != b[i].repeats) return false;
    }
    return true;
  };
  const Emitted whole = run(1000, 1);
  check(same(whole, run(1, 1)) && same(whole, run(13, 1)), "rebalance: output does not depend on chunk sizes");
  check(!same(whole, run(1000, 2)), "rebalance: the seed changes the replays");
  std::vector<int> per_class(5, 0);
  for (const auto& e : whole) ++per_class[static_cast<std::size_t>(e.label)];
  check(per_class[3] == 0, "rebalance: weight-0 class not emitted");
  // Classes 0 and 1 take part from the start; 2 and 4 are skipped until their first record
  // (class 0's FIFO fills before it) and then start late, behind by the turns they missed.
  check(std::abs(per_class[0] - 2 * per_class[1]) <= 1, "rebalance: emissions follow the weights 2:1");
  check(per_class[4] < per_class[1] && per_class[2] < per_class[1], "rebalance: late classes do not catch up");
}

void test_rebalance_bounds_memory_with_small_capacity() {
  const auto labels = stream_labels({2000, 40}, 5);
  Rebalancer rebalancer(rebalance_options({1, 1}, 4, 0));
  const Emitted out = rebalance_in_chunks(rebalancer, labels, 100);
  const auto& stats = rebalancer.stats();
  check(stats.fresh == 2040, "rebalance (small capacity): nothing read is lost");
  check(stats.replaced > 0, "rebalance (small capacity): the reservoir replaces records");
  check(stats.peak_held_bytes <= 2 * 2 * 4 * 6, "rebalance (small capacity): memory bounded, peak " + std::to_string(stats.peak_held_bytes));
}

// Class 1's first record comes after class 0's FIFO has filled: class 1 is skipped meanwhile,
// then starts at the current slot and alternates with class 0 instead of catching up.
void test_rebalance_late_class_alternates() {
  std::vector<std::int64_t> labels(40, 0);
  labels.insert(labels.end(), 20, 1);
  Rebalancer rebalancer(rebalance_options({1, 1}, 4, 0));
  Emitted out;
  std::vector<std::string> payloads(labels.size(), "x");
  rebalancer.push(payloads, labels, true, out);
  std::size_t first = 0;
  while (out[first].label == 0) ++first;
  int longest_run = 0;
  for (std::size_t i = first, run = 0; i < out.size(); ++i) {
    run = i > first && out[i].label == out[i - 1].label ? run + 1 : 1;
    if (out[i].label == 1) longest_run = std::max(longest_run, static_cast<int>(run));
  }
  check(first > 0 && longest_run == 1, "rebalance: a late class does not come in a burst");
  check(rebalancer.stats().fresh == 60, "rebalance: every record of the late class is emitted");
}

void test_rebalance_many_classes_cost_only_what_they_use() {
  // 10^7 classes would need gigabytes if each allocated buffers up front.
  Rebalancer rebalancer(rebalance_options(std::vector<std::uint64_t>(10'000'000, 1), 8, 0));
  Emitted out;
  std::vector<std::string> payloads{"a", "b", "c"};
  rebalancer.push(payloads, {9'999'999, 5, 5}, true, out);
  check(rebalancer.finished() && rebalancer.stats().fresh == 3, "rebalance: 10^7 classes, three records");
}

void test_rebalance_preconditions() {
  check_throws<std::invalid_argument>([] { Rebalancer(rebalance_options({}, 4, 0)); }, "no classes");
  check_throws<std::invalid_argument>([] { Rebalancer(rebalance_options({0, 0}, 4, 0)); }, "all-zero weights");
  check_throws<std::invalid_argument>([] { Rebalancer(rebalance_options({1, 1}, 0, 0)); }, "capacity 0");
  Rebalancer rebalancer(rebalance_options({1, 1}, 4, 0));
  Emitted out;
  std::vector<std::string> payloads{"a", "b"};
  check_throws<std::invalid_argument>([&] { rebalancer.push(payloads, {1, 2}, false, out); }, "label out of range");
  check_throws<std::invalid_argument>([&] { rebalancer.push(payloads, {-1, 0}, false, out); }, "negative label");
  check_throws<std::invalid_argument>([&] { rebalancer.push(payloads, {0}, false, out); }, "lengths differ");
  check(rebalancer.stats().read == 0 && out.empty(), "rebalance: a rejected push changes nothing");
  rebalancer.push(payloads, {0, 1}, true, out);
  check(rebalancer.finished() && out.size() == 2, "rebalance: two records, two emissions");
  check_throws<std::logic_error>([&] { rebalancer.push(payloads, {0, 1}, true, out); }, "push after the end");
}

void run_all() {
  test_schedule_follows_its_rule();
  test_schedule_late_class_starts_now();
  test_schedule_clock_beyond_64_bits();
  test_schedule_preconditions();
  test_rebalance_balances_without_losing_records();
  test_rebalance_is_deterministic_and_independent_of_chunking();
  test_rebalance_bounds_memory_with_small_capacity();
  test_rebalance_late_class_alternates();
  test_rebalance_many_classes_cost_only_what_they_use();
  test_rebalance_preconditions();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
