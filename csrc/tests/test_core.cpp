// Unit tests of the C++ core, independent of Python. Exit status 0 when every check passes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../class_index.hpp"
#include "../random.hpp"
#include "../apportion.hpp"
#include "../batch_schedule.hpp"
#include "../min_key_set.hpp"
#include "../pfair_schedule.hpp"
#include "../quota_groups.hpp"
#include "../sampler.hpp"
#include "../slot_buckets.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::apportion;
using fast_balance::BalancedSampler;
using fast_balance::BatchSchedule;
using fast_balance::PfairSchedule;
using fast_balance::QuotaGroups;
using fast_balance::ClassIndex;
using fast_balance::EpochOutput;
using fast_balance::MinKeySet;
using fast_balance::RandomStream;
using fast_balance::SamplerOptions;

struct Epoch {
  std::vector<std::int64_t> indices;
  std::vector<std::int32_t> labels;
  std::vector<std::int32_t> repeats;
};

Epoch run(const BalancedSampler& sampler, std::int64_t epoch, std::int64_t start, std::int64_t stop) {
  Epoch result;
  const auto n = static_cast<std::size_t>(stop - start);
  result.indices.resize(n);
  result.labels.resize(n);
  result.repeats.resize(n);
  sampler.fill_epoch(epoch, start, stop, EpochOutput{result.indices.data(), result.labels.data(), result.repeats.data()});
  return result;
}

std::vector<std::int32_t> long_tailed_labels(std::int32_t num_classes, std::int32_t largest) {
  std::vector<std::int32_t> labels;
  for (std::int32_t c = 0; c < num_classes; ++c) {
    const std::int32_t count = std::max(1, largest >> c);
    for (std::int32_t k = 0; k < count; ++k) labels.push_back(c);
  }
  RandomStream(7).shuffle(labels.data(), static_cast<std::int64_t>(labels.size()));
  return labels;
}

void test_stream_keys_follow_the_documented_derivation() {
  using fast_balance::mix64;
  using fast_balance::StreamDomain;
  for (const std::uint64_t seed : {0ULL, 1ULL, 0xffffffffffffffffULL}) {
    for (const std::uint64_t a : {0ULL, 7ULL, 99999ULL}) {
      for (const std::uint64_t b : {0ULL, 3ULL, 1ULL << 40}) {
        const auto domain = StreamDomain::kPoolPass;
        const std::uint64_t spelled_out = mix64(mix64(mix64(mix64(seed) ^ 1) ^ a) ^ b);
        check(fast_balance::stream_key(seed, domain, a, b) == spelled_out, "stream_key derivation");
        check(fast_balance::stream_key_last(fast_balance::stream_key_prefix(seed, domain, a), b) == spelled_out,
              "stream_key in two steps");
      }
    }
  }
}

void test_slot_buckets_are_stratified_and_shuffled() {
  // Quotas above and below the bucket count (B = 200,000 >> 14 = 12).
  std::vector<std::int64_t> quotas = {100000, 60003, 39990, 5, 1, 1};
  const fast_balance::SlotBuckets buckets(quotas, 77);
  check(buckets.count() == 12, "bucket count");
  check(buckets.start(0) == 0 && buckets.start(12) == 200000, "buckets cover the epoch");
  std::vector<std::int32_t> slots(200000);
  fast_balance::arrange_slots(quotas, 77, slots.data());
  bool stratified = true;
  bool shuffled = false;
  for (std::int64_t b = 0; b < buckets.count(); ++b) {
    std::vector<std::int64_t> counts(quotas.size(), 0);
    for (std::int64_t t = buckets.start(b); t < buckets.start(b + 1); ++t) {
      ++counts[static_cast<std::size_t>(slots[static_cast<std::size_t>(t)])];
      if (t > buckets.start(b) && slots[static_cast<std::size_t>(t)] < slots[static_cast<std::size_t>(t) - 1]) shuffled = true;
    }
    for (std::size_t c = 0; c < quotas.size(); ++c) {
      const std::int64_t low = quotas[c] / buckets.count();
      if (counts[c] < low || counts[c] > low + 1) stratified = false;
    }
  }
  check(stratified, "every bucket holds floor or ceil of each class's share");
  check(shuffled, "buckets are shuffled");
  std::vector<std::int64_t> total(quotas.size(), 0);
  for (const std::int32_t c : slots) ++total[static_cast<std::size_t>(c)];
  check(total == quotas, "the arrangement holds the quotas");
  std::vector<std::int32_t> order = buckets.class_order();
  std::sort(order.begin(), order.end());
  check(order == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}, "the class order is a permutation of the classes");
}

// Bucket sizes are counted per draw, per bucket, or (many classes of one quota below the bucket
// count) from a histogram of phases; each way must agree with walking every draw.
void test_slot_bucket_sizes_match_the_draws() {
  struct Case {
    std::vector<std::int64_t> quotas;
    bool one_draw_per_class;
    std::int64_t buckets;
  };
  std::vector<Case> cases;
  {
    // B = 4,700,417 >> 14 = 286: 100,000 classes of quota 46 and 20,000 of 5 (histograms), ten of
    // 13 and one of 1 (walks), one of 286 (= B: one draw in every bucket), a zero.
    std::vector<std::int64_t> quotas(100000, 46);
    quotas.insert(quotas.end(), 20000, 5);
    quotas.insert(quotas.end(), 10, 13);
    quotas.insert(quotas.end(), {1, 286, 0});
    cases.push_back({quotas, true, 286});
    // With one of 100,000 more, B = 292: 342 draws in every bucket and a walk of the other 136.
    quotas.push_back(100000);
    cases.push_back({quotas, false, 292});
  }
  {
    // B = 1,324,004 >> 14 = 80: 4,000 classes of 306 = 3 B + 66 (a histogram of the 66) and one of
    // 100,001 = 1,250 B + 1 (a walk of the 1), one of 3.
    std::vector<std::int64_t> quotas(4000, 306);
    quotas.insert(quotas.end(), {100001, 3});
    cases.push_back({quotas, false, 80});
  }
  cases.push_back({{100000, 60003, 39990, 5, 1, 1}, false, 12});
  for (const Case& test : cases) {
    const fast_balance::SlotBuckets buckets(test.quotas, 5);
    check(buckets.count() == test.buckets, "bucket count");
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(buckets.count()), 0);
    for (std::size_t c = 0; c < test.quotas.size(); ++c) {
      fast_balance::SlotBuckets::Walk walk = buckets.walk(c);
      for (std::int64_t k = 0; k < test.quotas[c]; ++k) ++sizes[static_cast<std::size_t>(walk.next())];
    }
    bool equal = true;
    for (std::int64_t b = 0; b < buckets.count(); ++b) {
      equal = equal && buckets.start(b + 1) - buckets.start(b) == sizes[static_cast<std::size_t>(b)];
    }
    check(equal, "bucket sizes equal the draws walked into them (" + std::to_string(test.quotas.size()) + " classes)");
    check(buckets.one_draw_per_class() == test.one_draw_per_class, "one_draw_per_class");
  }
}

void test_apportion() {
  RandomStream random(1);
  for (int trial = 0; trial < 200; ++trial) {
    const auto classes = static_cast<std::size_t>(1 + random.below(20));
    std::vector<std::uint64_t> weights(classes);
    std::uint64_t sum = 0;
    for (auto& w : weights) sum += (w = random.below(1000));
    if (sum == 0) weights[0] = sum = 1;
    const auto total = static_cast<std::int64_t>(random.below(5000));
    const auto quotas = apportion(total, weights);
    std::int64_t got = 0;
    bool within = true;
    for (std::size_t c = 0; c < classes; ++c) {
      got += quotas[c];
      const double exact = static_cast<double>(total) * static_cast<double>(weights[c]) / static_cast<double>(sum);
      within = within && quotas[c] >= static_cast<std::int64_t>(exact) && quotas[c] <= static_cast<std::int64_t>(exact) + 1;
    }
    check(got == total, "apportion sums to total");
    check(within, "apportion gives floor or ceil of each share");
  }
  check_throws<std::invalid_argument>([] { apportion(10, {0, 0}); }, "apportion with zero weights");
}

void test_min_key_set() {
  RandomStream random(2);
  MinKeySet keys(100000);
  std::set<std::int64_t> reference;
  for (int step = 0; step < 20000; ++step) {
    const auto key = static_cast<std::int64_t>(random.below(100000));
    if (random.below(2) == 0) {
      keys.insert(key);
      reference.insert(key);
    } else if (reference.count(key) != 0) {
      keys.erase(key);
      reference.erase(key);
    }
    check(keys.empty() == reference.empty(), "MinKeySet emptiness");
    if (!reference.empty()) check(keys.first() == *reference.begin(), "MinKeySet smallest key");
  }
}

// Whether per-batch counts (batches x classes) are floor/ceil of each share, every prefix is
// within 1 of exact, and the totals are the quotas.
bool is_pfair(const std::vector<std::vector<std::int64_t>>& per_batch, const std::vector<std::int64_t>& quotas) {
  const auto batches = static_cast<std::int64_t>(per_batch.size());
  std::vector<std::int64_t> seen(quotas.size(), 0);
  for (std::int64_t b = 0; b < batches; ++b) {
    for (std::size_t c = 0; c < quotas.size(); ++c) {
      const std::int64_t count = per_batch[static_cast<std::size_t>(b)][c];
      const std::int64_t low = quotas[c] / batches;
      if (count < low || count > low + (quotas[c] % batches != 0 ? 1 : 0)) return false;
      seen[c] += count;
      // |seen - (b+1) * quota / batches| < 1, in integers.
      const std::int64_t lag = seen[c] * batches - (b + 1) * quotas[c];
      if (lag <= -batches || lag >= batches) return false;
    }
  }
  return seen == quotas;
}

// Random schedule problems: quotas of `classes` classes over `batches` batches of `batch` slots.
struct ScheduleCase {
  std::vector<std::int64_t> quotas;
  std::int64_t batches;
  std::int64_t batch;
  std::vector<std::int32_t> order;
};
ScheduleCase random_schedule_case(RandomStream& random, bool small, bool repeated_weights) {
  ScheduleCase problem;
  const auto classes = static_cast<std::size_t>(1 + random.below(small ? 8 : 60));
  problem.batches = static_cast<std::int64_t>(1 + random.below(small ? 30 : 80));
  problem.batch = static_cast<std::int64_t>(1 + random.below(small ? 6 : 16));
  // Repeated weights give classes of equal quota: the groups BatchSchedule rotates.
  const std::uint64_t distinct = repeated_weights ? 1 + random.below(3) : ~std::uint64_t{0};
  std::vector<std::uint64_t> weights(classes);
  for (auto& w : weights) {
    w = small ? 1 + random.below(50) : (random.below(4) == 0 ? 0 : 1 + random.below(1000));
    if (repeated_weights && w > 0) w = 1 + w % distinct;
  }
  if (std::all_of(weights.begin(), weights.end(), [](std::uint64_t w) { return w == 0; })) weights[0] = 1;
  problem.quotas = apportion(problem.batches * problem.batch, weights);
  problem.order.resize(classes);
  for (std::size_t c = 0; c < classes; ++c) problem.order[c] = static_cast<std::int32_t>(c);
  random.shuffle(problem.order.data(), static_cast<std::int64_t>(classes));
  return problem;
}

// PD^2 itself: every batch has floor/ceil of each share; after every prefix each task is within 1.
void test_pfair_schedule() {
  // Small instances with heavy tasks are where a wrong tie-break misses a window (seen with
  // 20,000 of them when the group deadline is dropped); larger ones cover many tasks.
  RandomStream random(4);
  for (int trial = 0; trial < 20400; ++trial) {
    const ScheduleCase problem = random_schedule_case(random, trial < 20000, false);
    PfairSchedule schedule(problem.quotas, problem.batches, problem.order);
    check(schedule.batch_size() == problem.batch, "Pfair schedule batch size");
    std::vector<std::vector<std::int64_t>> per_batch;
    for (std::int64_t b = 0; b < problem.batches; ++b) {
      std::vector<std::int32_t> out;
      schedule.next(out);
      per_batch.emplace_back(problem.quotas.size(), 0);
      for (const auto c : out) ++per_batch.back()[static_cast<std::size_t>(c)];
    }
    if (!is_pfair(per_batch, problem.quotas)) {
      check(false, "Pfair trial " + std::to_string(trial) + ": floor/ceil per batch, prefix within 1, quotas");
      return;
    }
  }
  check(true, "20,400 Pfair schedules");
  PfairSchedule schedule({3, 1}, 2, {0, 1});
  std::vector<std::int32_t> out;
  schedule.next(out);
  schedule.next(out);
  check_throws<std::out_of_range>([&] { schedule.next(out); }, "Pfair schedule past its last batch");
}

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

void test_class_index() {
  const std::vector<std::int16_t> labels = {2, 0, 2, 1, 0};
  const auto index = ClassIndex::from_labels(labels.data(), 5, 3);
  check(index.count(0) == 2 && index.count(1) == 1 && index.count(2) == 2, "class counts");
  check(index.members() == std::vector<std::int64_t>({1, 4, 3, 0, 2}), "members grouped, ascending");
  const std::vector<std::int8_t> negative = {0, -1};
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(negative.data(), 2, 3); }, "negative label");
  const std::vector<std::uint64_t> huge = {0, ~std::uint64_t{0}};
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(huge.data(), 2, 3); }, "label beyond uint63");
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(labels.data(), 5, 2); }, "label >= num_classes");
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(labels.data(), 0, 2); }, "empty labels");
}

void test_sampler_semantics() {
  const auto labels = long_tailed_labels(5, 64);
  const auto n = static_cast<std::int64_t>(labels.size());
  for (const std::int64_t batch : {std::int64_t{0}, std::int64_t{8}}) {
    for (const bool replacement : {false, true}) {
      SamplerOptions options;
      options.seed = 11;
      options.batch_size = batch;
      options.replacement = replacement;
      options.samples_per_epoch = 5 * 64;
      const std::string name = "batch " + std::to_string(batch) + (replacement ? " with" : " without") + " replacement";
      BalancedSampler sampler(ClassIndex::from_labels(labels.data(), n, 5), std::vector<std::uint64_t>(5, 1), options);
      const Epoch whole = run(sampler, 3, 0, 320);
      // Labels agree with the data, counts equal the quotas, repeats count earlier emissions.
      std::map<std::int64_t, std::int32_t> emitted;
      std::vector<std::int64_t> per_class(5, 0);
      bool consistent = true;
      for (std::size_t t = 0; t < whole.indices.size(); ++t) {
        const auto index = whole.indices[t];
        consistent = consistent && labels[static_cast<std::size_t>(index)] == whole.labels[t];
        consistent = consistent && whole.repeats[t] == emitted[index]++;
        ++per_class[static_cast<std::size_t>(whole.labels[t])];
      }
      check(consistent, name + ": labels and repeats");
      check(per_class == std::vector<std::int64_t>(5, 64), name + ": balanced counts");
      // Slices and shards reproduce the whole epoch.
      const Epoch head = run(sampler, 3, 0, 100);
      const Epoch tail = run(sampler, 3, 100, 320);
      std::vector<std::int64_t> joined = head.indices;
      joined.insert(joined.end(), tail.indices.begin(), tail.indices.end());
      std::vector<std::int32_t> joined_repeats = head.repeats;
      joined_repeats.insert(joined_repeats.end(), tail.repeats.begin(), tail.repeats.end());
      check(joined == whole.indices && joined_repeats == whole.repeats, name + ": slices equal the epoch");
      options.num_shards = 2;
      std::vector<std::int64_t> from_shards(320);
      for (std::int64_t s = 0; s < 2; ++s) {
        options.shard_index = s;
        BalancedSampler shard(ClassIndex::from_labels(labels.data(), n, 5), std::vector<std::uint64_t>(5, 1), options);
        const Epoch part = run(shard, 3, 0, 160);
        for (std::int64_t j = 0; j < 160; ++j) {
          const std::int64_t global = batch > 0 ? ((j / batch) * 2 + s) * batch + j % batch : j * 2 + s;
          from_shards[static_cast<std::size_t>(global)] = part.indices[static_cast<std::size_t>(j)];
        }
      }
      check(from_shards == whole.indices, name + ": shards interleave to the epoch");
    }
  }
}

// A whole unbatched epoch is built by filling buckets class by class (packed or plain staging,
// in blocks or not); a slice goes slot by slot through arrange_slots. Both must give one stream.
void test_whole_epochs_equal_their_slices_on_every_fill_path() {
  struct Case {
    std::string name;
    std::vector<std::int64_t> counts;   // samples per class
    std::vector<std::uint64_t> weights; // quotas, as the weights sum to samples_per_epoch
    std::int64_t batch_size = 0;
  };
  std::vector<Case> cases;
  // Two buckets in each (40,000 slots).
  cases.push_back({"one draw per bucket (packed)", std::vector<std::int64_t>(20000, 3),
                   std::vector<std::uint64_t>(20000, 2)});
  {
    Case few{"a few draws per bucket (packed, grouped)", {}, {}};
    for (int c = 0; c < 8000; ++c) {
      few.counts.push_back(1 + c % 4);
      few.weights.push_back(static_cast<std::uint64_t>(3 + c % 5));
    }
    cases.push_back(few);
  }
  cases.push_back({"blocks (plain)", std::vector<std::int64_t>(10, 900), std::vector<std::uint64_t>(10, 4000)});
  {
    Case mixed{"blocks and single draws (plain)", std::vector<std::int64_t>(9, 700), std::vector<std::uint64_t>(9, 4000)};
    mixed.counts.insert(mixed.counts.end(), 4000, 1);
    mixed.weights.insert(mixed.weights.end(), 4000, 1);
    cases.push_back(mixed);
  }
  // Batched, 80,000 slots in batches of 16: five windows of draws in turns (quotas below the
  // 5,000 batches), and with classes of several slots in every batch beside them (their rooms
  // given out in the order of their places).
  cases.push_back({"batched in turns, several windows", std::vector<std::int64_t>(200, 7),
                   std::vector<std::uint64_t>(200, 400), 16});
  {
    Case mixed{"batched, several slots per batch and in turns", std::vector<std::int64_t>(4, 3000), std::vector<std::uint64_t>(4, 8000), 16};
    mixed.counts.insert(mixed.counts.end(), 200, 5);
    mixed.weights.insert(mixed.weights.end(), 200, 240);
    cases.push_back(mixed);
  }
  for (const Case& test : cases) {
    std::vector<std::int32_t> labels;
    for (std::size_t c = 0; c < test.counts.size(); ++c) labels.insert(labels.end(), static_cast<std::size_t>(test.counts[c]), static_cast<std::int32_t>(c));
    RandomStream(3).shuffle(labels.data(), static_cast<std::int64_t>(labels.size()));
    std::int64_t total = 0;
    for (const std::uint64_t w : test.weights) total += static_cast<std::int64_t>(w);
    for (const bool replacement : {false, true}) {
      SamplerOptions options;
      options.seed = 21;
      options.samples_per_epoch = total;
      options.replacement = replacement;
      options.batch_size = test.batch_size;
      const auto num_classes = static_cast<std::int64_t>(test.counts.size());
      BalancedSampler sampler(ClassIndex::from_labels(labels.data(), static_cast<std::int64_t>(labels.size()), num_classes),
                              test.weights, options);
      const std::string name = test.name + (replacement ? ", with replacement" : "");
      for (const std::int64_t epoch : {0, 1}) {
        const Epoch whole = run(sampler, epoch, 0, total);
        const Epoch head = run(sampler, epoch, 0, 1);
        const Epoch rest = run(sampler, epoch, 1, total);
        bool equal = head.indices[0] == whole.indices[0] && head.labels[0] == whole.labels[0] &&
                     head.repeats[0] == whole.repeats[0];
        for (std::size_t t = 1; t < whole.indices.size(); ++t) {
          equal = equal && rest.indices[t - 1] == whole.indices[t] && rest.labels[t - 1] == whole.labels[t] &&
                  rest.repeats[t - 1] == whole.repeats[t];
        }
        check(equal, name + ": whole epoch " + std::to_string(epoch) + " equals its slices");
        bool labelled = true;
        for (std::size_t t = 0; t < whole.indices.size(); ++t) {
          labelled = labelled && labels[static_cast<std::size_t>(whole.indices[t])] == whole.labels[t];
        }
        check(labelled, name + ": labels are the samples' classes");
        SamplerOptions unpacked = options;
        unpacked.pack_words = false;
        const BalancedSampler plain(
            ClassIndex::from_labels(labels.data(), static_cast<std::int64_t>(labels.size()), num_classes), test.weights,
            unpacked);
        const Epoch plain_whole = run(plain, epoch, 0, total);
        check(plain_whole.indices == whole.indices && plain_whole.labels == whole.labels &&
                  plain_whole.repeats == whole.repeats,
              name + ": the same epoch without packed words");
      }
    }
  }
}

void test_pools_cover_each_class_once_per_pass() {
  const auto labels = long_tailed_labels(4, 40);  // 40, 20, 10, 5
  SamplerOptions options;
  options.samples_per_epoch = 4 * 40;
  BalancedSampler sampler(ClassIndex::from_labels(labels.data(), 75, 4), std::vector<std::uint64_t>(4, 1), options);
  // Over epochs 0..4, class c's draws, in order, are whole passes over its members.
  std::vector<std::vector<std::int64_t>> stream(4);
  for (std::int64_t e = 0; e < 5; ++e) {
    const Epoch epoch = run(sampler, e, 0, 160);
    for (std::size_t t = 0; t < 160; ++t) stream[static_cast<std::size_t>(epoch.labels[t])].push_back(epoch.indices[t]);
  }
  bool passes_ok = true;
  for (std::size_t c = 0; c < 4; ++c) {
    const std::size_t count = 40u >> c;
    for (std::size_t begin = 0; begin + count <= stream[c].size(); begin += count) {
      std::set<std::int64_t> pass(stream[c].begin() + static_cast<std::ptrdiff_t>(begin),
                                  stream[c].begin() + static_cast<std::ptrdiff_t>(begin + count));
      passes_ok = passes_ok && pass.size() == count;
    }
  }
  check(passes_ok, "every pass of a pool holds each member once");
}

void test_sampler_preconditions() {
  const std::vector<std::int32_t> labels = {0, 1, 1};
  const auto make = [&](std::vector<std::uint64_t> weights, SamplerOptions options) {
    return BalancedSampler(ClassIndex::from_labels(labels.data(), 3, 3), weights, options);
  };
  SamplerOptions good;
  good.samples_per_epoch = 4;
  check_throws<std::invalid_argument>([&] { make({1, 1, 1}, good); }, "empty class with positive weight");
  check_throws<std::invalid_argument>([&] { make({1, 1}, good); }, "weights of the wrong length");
  check_throws<std::invalid_argument>([&] { make({0, 0, 0}, good); }, "all-zero weights");
  SamplerOptions bad = good;
  bad.samples_per_epoch = 0;
  check_throws<std::invalid_argument>([&] { make({1, 1, 0}, bad); }, "samples_per_epoch 0");
  bad.samples_per_epoch = (std::int64_t{1} << 46) + 1;
  check_throws<std::invalid_argument>([&] { make({1, 1, 0}, bad); }, "samples_per_epoch over 2^46");
  bad.samples_per_epoch = std::int64_t{1} << 32;  // class 0's one sample 2^31 times
  check_throws<std::invalid_argument>([&] { make({1, 1, 0}, bad); }, "a sample repeated 2^31 times");
  bad = good;
  bad.batch_size = 3;
  check_throws<std::invalid_argument>([&] { make({1, 1, 0}, bad); }, "epoch not a multiple of batch");
  bad = good;
  bad.num_shards = 2;
  bad.shard_index = 2;
  check_throws<std::invalid_argument>([&] { make({1, 1, 0}, bad); }, "shard index out of range");
  const auto sampler = make({1, 1, 0}, good);
  check_throws<std::invalid_argument>([&] { run(sampler, 0, 0, 5); }, "slice past the epoch");
  check_throws<std::invalid_argument>([&] { run(sampler, -1, 0, 4); }, "negative epoch");
}

void run_all() {
  test_stream_keys_follow_the_documented_derivation();
  test_slot_buckets_are_stratified_and_shuffled();
  test_slot_bucket_sizes_match_the_draws();
  test_apportion();
  test_min_key_set();
  test_pfair_schedule();
  test_batch_schedule_is_pfair();
  test_class_index();
  test_sampler_semantics();
  test_whole_epochs_equal_their_slices_on_every_fill_path();
  test_pools_cover_each_class_once_per_pass();
  test_sampler_preconditions();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
