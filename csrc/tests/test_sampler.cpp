// Unit tests of BalancedSampler (sampler.hpp): semantics, slices and shards on every fill path,
// pool passes, preconditions.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "../class_index.hpp"
#include "../random.hpp"
#include "../sample_weights.hpp"
#include "../sampler.hpp"
#include "check.hpp"
#include "sampler_cases.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;
using fast_balance_tests::Epoch;
using fast_balance_tests::long_tailed_labels;
using fast_balance_tests::run;

using fast_balance::BalancedSampler;
using fast_balance::ClassIndex;
using fast_balance::RandomStream;
using fast_balance::SamplerOptions;

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
  const std::vector<std::int32_t> labels = {0, 1, 1};  // ids 0 and 1 of 3: two classes present
  const auto make = [&](std::vector<std::uint64_t> weights, SamplerOptions options) {
    return BalancedSampler(ClassIndex::from_labels(labels.data(), 3, 3), weights, options);
  };
  SamplerOptions good;
  good.samples_per_epoch = 4;
  check_throws<std::invalid_argument>([&] { make({1, 1, 1}, good); }, "a weight per class id instead of present class");
  check_throws<std::invalid_argument>([&] { make({1}, good); }, "weights of the wrong length");
  check_throws<std::invalid_argument>([&] { make({0, 0}, good); }, "all-zero weights");
  SamplerOptions bad = good;
  bad.samples_per_epoch = 0;
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "samples_per_epoch 0");
  bad.samples_per_epoch = (std::int64_t{1} << 46) + 1;
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "samples_per_epoch over 2^46");
  bad.samples_per_epoch = std::int64_t{1} << 32;  // class 0's one sample 2^31 times
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "a sample repeated 2^31 times");
  bad.replacement = true;
  bad.samples_per_epoch = std::int64_t{1} << 33;  // class 1 drawn 2^32 times: repeats would overflow
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "more than 2^31 - 1 draws with replacement");
  bad = good;
  bad.batch_size = 3;
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "epoch not a multiple of batch");
  bad.batch_size = (std::int64_t{1} << 26) * 2;
  bad.samples_per_epoch = bad.batch_size;
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "batch_size over 2^26");
  bad.batch_size = 1;
  bad.samples_per_epoch = std::int64_t{1} << 33;
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "more than 2^31 - 1 batches");
  bad = good;
  bad.num_shards = 2;
  bad.shard_index = 2;
  check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "shard index out of range");
  bad = good;
  bad.batch_size = std::int64_t{1} << 26;
  for (const int shift : {37, 38}) {  // batch_size * num_shards of 2^63 and 2^64: overflows, once a division by 0
    bad.num_shards = std::int64_t{1} << shift;
    check_throws<std::invalid_argument>([&] { make({1, 1}, bad); }, "batch_size * num_shards past int64");
  }
  const auto sampler = make({1, 1}, good);
  check_throws<std::invalid_argument>([&] { run(sampler, 0, 0, 5); }, "slice past the epoch");
  check_throws<std::invalid_argument>([&] { run(sampler, -1, 0, 4); }, "negative epoch");
}

// Classes absent from the labels take no part: the arrangement of labels with ids {0, 2, 5}
// equals that of the same labels renamed {0, 1, 2}, class for class (draws differ: pools are keyed
// by class id), and the whole stream is the same however many ids there are.
void test_absent_classes_take_no_part() {
  const std::vector<std::int32_t> sparse = {5, 0, 2, 2, 5, 5, 0, 5, 2, 5};
  std::vector<std::int32_t> dense(sparse.size());
  for (std::size_t i = 0; i < sparse.size(); ++i) dense[i] = sparse[i] == 5 ? 2 : sparse[i] / 2;
  for (const std::int64_t batch : {std::int64_t{0}, std::int64_t{4}}) {
    SamplerOptions options;
    options.samples_per_epoch = 24;
    options.batch_size = batch;
    options.seed = 3;
    const std::vector<std::uint64_t> weights = {1, 2, 3};
    const BalancedSampler renamed(ClassIndex::from_labels(dense.data(), 10, 3), weights, options);
    const BalancedSampler few_ids(ClassIndex::from_labels(sparse.data(), 10, 6), weights, options);
    const BalancedSampler many_ids(ClassIndex::from_labels(sparse.data(), 10, std::int64_t{1} << 30), weights, options);
    for (const std::int64_t epoch : {0, 1, 5}) {
      const auto a = run(renamed, epoch, 0, 24);
      const auto b = run(few_ids, epoch, 0, 24);
      const auto c = run(many_ids, epoch, 0, 24);
      const std::string where = " (batch " + std::to_string(batch) + ", epoch " + std::to_string(epoch) + ")";
      bool arranged = true;
      for (std::size_t j = 0; j < a.labels.size(); ++j) arranged = arranged && b.labels[j] == (a.labels[j] == 2 ? 5 : a.labels[j] * 2);
      check(arranged, "absent classes do not change the arrangement" + where);
      check(b.labels == c.labels && b.indices == c.indices && b.repeats == c.repeats, "the number of ids changes nothing" + where);
      bool members = true;
      for (std::size_t j = 0; j < b.labels.size(); ++j) members = members && sparse[static_cast<std::size_t>(b.indices[j])] == b.labels[j];
      check(members, "each index is a sample of its class id" + where);
      const auto slice = run(many_ids, epoch, 5, 19);
      check(std::equal(slice.labels.begin(), slice.labels.end(), c.labels.begin() + 5), "slices name the class ids" + where);
    }
  }
}

// Equal sample weights change no stream; unequal ones keep slices and shards equal to the epoch
// on every fill path, with and without replacement.
void test_sample_weights() {
  const auto labels = long_tailed_labels(6, 3000);
  const auto n = static_cast<std::int64_t>(labels.size());
  const auto index = std::make_shared<const ClassIndex>(ClassIndex::from_labels(labels.data(), n, 6));
  std::vector<double> equal(static_cast<std::size_t>(n), 2.5);
  std::vector<double> unequal(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) unequal[static_cast<std::size_t>(i)] = labels[static_cast<std::size_t>(i)] == 1 ? 1.0 : static_cast<double>(1 + i % 5);
  const fast_balance::SampleWeights same = fast_balance::SampleWeights::of_classes(equal, *index);
  const fast_balance::SampleWeights varied = fast_balance::SampleWeights::of_classes(unequal, *index);
  for (const std::int64_t batch : {std::int64_t{0}, std::int64_t{16}}) {
    for (const bool replacement : {false, true}) {
      SamplerOptions options;
      options.seed = 4;
      options.batch_size = batch;
      options.replacement = replacement;
      options.samples_per_epoch = 6 * 16 * 600;
      const std::string name = "batch " + std::to_string(batch) + (replacement ? " with" : " without") + " replacement";
      const std::vector<std::uint64_t> weights(6, 1);
      const BalancedSampler plain(index, weights, options);
      const BalancedSampler equal_weights(index, weights, options, &same);
      const Epoch a = run(plain, 2, 0, options.samples_per_epoch);
      const Epoch b = run(equal_weights, 2, 0, options.samples_per_epoch);
      check(a.indices == b.indices && a.repeats == b.repeats && plain.plan().fingerprint() == equal_weights.plan().fingerprint(),
            name + ": equal sample weights change nothing");
      const BalancedSampler weighted(index, weights, options, &varied);
      const Epoch whole = run(weighted, 2, 0, options.samples_per_epoch);
      check(whole.indices != a.indices && weighted.plan().fingerprint() != plain.plan().fingerprint(),
            name + ": unequal weights make another stream");
      std::map<std::int64_t, std::int32_t> emitted;
      bool consistent = true;
      for (std::size_t t = 0; t < whole.indices.size(); ++t) {
        consistent = consistent && labels[static_cast<std::size_t>(whole.indices[t])] == whole.labels[t];
        consistent = consistent && whole.repeats[t] == emitted[whole.indices[t]]++;
      }
      check(consistent, name + ": weighted labels and repeats");
      std::vector<std::int64_t> joined;
      for (const auto& cut : {std::pair<std::int64_t, std::int64_t>{0, 100}, {100, 20000}, {20000, options.samples_per_epoch}}) {
        const Epoch part = run(weighted, 2, cut.first, cut.second);
        joined.insert(joined.end(), part.indices.begin(), part.indices.end());
      }
      check(joined == whole.indices, name + ": weighted slices equal the epoch");
      options.num_shards = 2;
      options.shard_index = 1;
      const BalancedSampler shard(index, weights, options, &varied);
      const Epoch part = run(shard, 2, 0, options.samples_per_epoch / 2);
      bool interleaved = true;
      for (std::int64_t j = 0; j < options.samples_per_epoch / 2; ++j) {
        const std::int64_t global = batch > 0 ? ((j / batch) * 2 + 1) * batch + j % batch : j * 2 + 1;
        interleaved = interleaved && part.indices[static_cast<std::size_t>(j)] == whole.indices[static_cast<std::size_t>(global)];
      }
      check(interleaved, name + ": a weighted shard interleaves to the epoch");
    }
  }
  std::vector<double> zero_class = unequal;
  for (std::int64_t i = 0; i < n; ++i) {
    if (labels[static_cast<std::size_t>(i)] == 5) zero_class[static_cast<std::size_t>(i)] = 0;
  }
  const fast_balance::SampleWeights zeros = fast_balance::SampleWeights::of_classes(zero_class, *index);
  SamplerOptions options;
  options.samples_per_epoch = 600;
  check_throws<std::invalid_argument>([&] { BalancedSampler(index, std::vector<std::uint64_t>(6, 1), options, &zeros); },
                                      "a class with draws but only zero sample weights");
}

void run_all() {
  test_sampler_semantics();
  test_sample_weights();
  test_whole_epochs_equal_their_slices_on_every_fill_path();
  test_pools_cover_each_class_once_per_pass();
  test_sampler_preconditions();
  test_absent_classes_take_no_part();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
