// Unit tests of the streaming rebalancer (rebalance.hpp). Exit status 0 when every check passes.
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
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using Rebalancer = fast_balance::StreamRebalancer<std::string>;
using Emitted = std::vector<fast_balance::Emission<std::string>>;

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
    rebalancer.push(payloads, labels.data() + begin, end == labels.size(), out);
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
  for (const auto& e : out) {
    ++per_class[static_cast<std::size_t>(e.label)];
    check(e.payload.substr(0, e.payload.find(':')) == std::to_string(e.label), "rebalance: payload keeps its label");
    repeats_of[e.payload].push_back(e.repeats);
  }
  const auto [low, high] = std::minmax_element(per_class.begin(), per_class.end());
  check(*high - *low <= 1, "rebalance: classes emitted equally often (within 1), got " +
                               std::to_string(*low) + ".." + std::to_string(*high));
  const auto& stats = rebalancer.stats();
  check(stats.read == 560 && stats.fresh == 560, "rebalance: every record read is emitted once fresh");
  check(static_cast<std::int64_t>(repeats_of.size()) == 560, "rebalance: every record appears in the output");
  check(stats.emitted == static_cast<std::int64_t>(out.size()) && stats.emitted == stats.fresh + stats.replays,
        "rebalance: emitted = fresh + replays");
  check(static_cast<double>(stats.read) / static_cast<double>(stats.emitted) <= 1.0, "rebalance: reads per emitted <= 1");
  bool ordered = true;  // each record's emissions are numbered 0, 1, 2, ... in output order
  for (const auto& [payload, repeats] : repeats_of) {
    for (std::size_t k = 0; k < repeats.size(); ++k) ordered = ordered && repeats[k] == static_cast<int>(k);
  }
  // With capacity 16, class 2 (10 records) is never replaced, so its numbering is exact.
  check(ordered || stats.replaced > 0, "rebalance: repeats count earlier emissions");
  bool minority_ordered = true;
  for (const auto& [payload, repeats] : repeats_of) {
    if (payload[0] != '2') continue;
    for (std::size_t k = 0; k < repeats.size(); ++k) minority_ordered = minority_ordered && repeats[k] == static_cast<int>(k);
  }
  check(minority_ordered, "rebalance: repeats of never-replaced records are 0, 1, 2, ...");
  // Memory: at most capacity fresh + capacity kept per class.
  check(stats.peak_held_bytes <= 3 * 2 * 16 * 8, "rebalance: memory bounded by the capacities");
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
  check(std::abs(per_class[0] - 2 * per_class[1]) <= 2 && std::abs(per_class[1] - per_class[4]) <= 1,
        "rebalance: emissions follow the weights 2:1:1");
}

void test_rebalance_bounds_memory_with_small_capacity() {
  const auto labels = stream_labels({2000, 40}, 5);
  Rebalancer rebalancer(rebalance_options({1, 1}, 4, 0));
  const Emitted out = rebalance_in_chunks(rebalancer, labels, 100);
  const auto& stats = rebalancer.stats();
  check(stats.fresh == 2040, "rebalance (small capacity): nothing read is lost");
  check(stats.replaced > 0, "rebalance (small capacity): the reservoir replaces records");
  check(stats.peak_held_bytes <= 2 * 2 * 4 * 9, "rebalance (small capacity): memory bounded, peak " + std::to_string(stats.peak_held_bytes));
}

void test_rebalance_preconditions() {
  check_throws<std::invalid_argument>([] { Rebalancer(rebalance_options({}, 4, 0)); }, "no classes");
  check_throws<std::invalid_argument>([] { Rebalancer(rebalance_options({0, 0}, 4, 0)); }, "all-zero weights");
  check_throws<std::invalid_argument>([] { Rebalancer(rebalance_options({1, 1}, 0, 0)); }, "capacity 0");
  Rebalancer rebalancer(rebalance_options({1, 1}, 4, 0));
  Emitted out;
  std::vector<std::string> payloads{"a", "b"};
  const std::int64_t bad[] = {1, 2};
  check_throws<std::invalid_argument>([&] { rebalancer.push(payloads, bad, false, out); }, "label out of range");
  const std::int64_t negative[] = {-1, 0};
  check_throws<std::invalid_argument>([&] { rebalancer.push(payloads, negative, false, out); }, "negative label");
  const std::int64_t good[] = {0, 1};
  rebalancer.push(payloads, good, true, out);
  check(rebalancer.finished() && out.size() == 2, "rebalance: two records, two emissions");
  check_throws<std::logic_error>([&] { rebalancer.push(payloads, good, true, out); }, "push after the end");
}

void run_all() {
  test_rebalance_balances_without_losing_records();
  test_rebalance_is_deterministic_and_independent_of_chunking();
  test_rebalance_bounds_memory_with_small_capacity();
  test_rebalance_preconditions();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
