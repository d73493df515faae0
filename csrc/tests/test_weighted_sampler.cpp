// Unit tests of WeightedSampler (weighted_sampler.hpp): slices, shards and batches equal the whole
// epoch; it is the stream of a BalancedSampler over labels all 0 with the same weights.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../class_index.hpp"
#include "../sample_weights.hpp"
#include "../sampler.hpp"
#include "../weighted_sampler.hpp"
#include "check.hpp"
#include "sampler_cases.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::SampleWeights;
using fast_balance::WeightedOptions;
using fast_balance::WeightedSampler;

struct Output {
  std::vector<std::int64_t> indices;
  std::vector<std::int32_t> repeats;
};

Output run(const WeightedSampler& sampler, std::int64_t epoch, std::int64_t start, std::int64_t stop) {
  Output out{std::vector<std::int64_t>(static_cast<std::size_t>(stop - start)),
             std::vector<std::int32_t>(static_cast<std::size_t>(stop - start))};
  sampler.fill_epoch(epoch, start, stop, fast_balance::WeightedOutput{out.indices.data(), out.repeats.data()});
  return out;
}

std::vector<double> weights_for(std::int64_t n) {
  std::vector<double> weights(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) weights[static_cast<std::size_t>(i)] = i % 7 == 0 ? 0.0 : 1.0 + static_cast<double>(i * 37 % 11) / 4.0;
  return weights;
}

void test_slices_shards_and_batches() {
  const SampleWeights weights = SampleWeights::of_one_class(weights_for(5000));
  for (const bool replacement : {false, true}) {
    for (const std::int64_t batch : {std::int64_t{0}, std::int64_t{8}}) {
      WeightedOptions options;
      options.seed = 5;
      options.samples_per_epoch = 48000;
      options.batch_size = batch;
      options.replacement = replacement;
      const std::string name = std::string(replacement ? "with" : "without") + " replacement, batch " + std::to_string(batch);
      const WeightedSampler sampler(weights, options);
      const Output whole = run(sampler, 2, 0, 48000);
      Output joined;
      for (const auto& cut : {std::pair<std::int64_t, std::int64_t>{0, 7}, {7, 40001}, {40001, 48000}}) {
        const Output part = run(sampler, 2, cut.first, cut.second);
        joined.indices.insert(joined.indices.end(), part.indices.begin(), part.indices.end());
        joined.repeats.insert(joined.repeats.end(), part.repeats.begin(), part.repeats.end());
      }
      check(joined.indices == whole.indices && joined.repeats == whole.repeats, name + ": slices equal the epoch");
      options.num_shards = 3;
      std::vector<std::int64_t> from_shards(48000);
      for (std::int64_t s = 0; s < 3; ++s) {
        options.shard_index = s;
        const Output part = run(WeightedSampler(weights, options), 2, 0, 16000);
        for (std::int64_t j = 0; j < 16000; ++j) {
          const std::int64_t global = batch > 0 ? ((j / batch) * 3 + s) * batch + j % batch : j * 3 + s;
          from_shards[static_cast<std::size_t>(global)] = part.indices[static_cast<std::size_t>(j)];
        }
      }
      check(from_shards == whole.indices, name + ": shards interleave to the epoch");
    }
  }
}

void test_equals_a_balanced_sampler_of_one_class() {
  const std::vector<double> values = weights_for(3000);
  const std::vector<std::int32_t> labels(values.size(), 0);
  const fast_balance::ClassIndex index = fast_balance::ClassIndex::from_labels(labels.data(), 3000, 1);
  const SampleWeights by_class = SampleWeights::of_classes(values, index);
  for (const bool replacement : {false, true}) {
    fast_balance::SamplerOptions balanced;
    balanced.seed = 9;
    balanced.samples_per_epoch = 50000;
    balanced.replacement = replacement;
    const fast_balance::BalancedSampler reference(index, {1}, balanced, &by_class);
    WeightedOptions options;
    options.seed = 9;
    options.samples_per_epoch = 50000;
    options.replacement = replacement;
    const WeightedSampler sampler(SampleWeights::of_one_class(values), options);
    for (const std::int64_t epoch : {0, 3}) {
      const auto expected = fast_balance_tests::run(reference, epoch, 0, 50000);
      const Output got = run(sampler, epoch, 0, 50000);
      check(got.indices == expected.indices && got.repeats == expected.repeats,
            std::string("the stream of a BalancedSampler of one class ") + (replacement ? "with" : "without") + " replacement");
    }
  }
}

void test_preconditions() {
  const SampleWeights weights = SampleWeights::of_one_class({1, 2, 3});
  WeightedOptions options;
  options.samples_per_epoch = 0;
  check_throws<std::invalid_argument>([&] { WeightedSampler(weights, options); }, "empty epoch");
  options.samples_per_epoch = 10;
  options.batch_size = 3;
  check_throws<std::invalid_argument>([&] { WeightedSampler(weights, options); }, "epoch not whole batches");
  // batch_size * num_shards past 2^63 once wrapped to a divisor of 0: refused by division first.
  options.samples_per_epoch = std::int64_t{1} << 40;
  options.batch_size = std::int64_t{1} << 26;
  options.num_shards = INT64_MAX;
  check_throws<std::invalid_argument>([&] { WeightedSampler(weights, options); }, "shards times batch past 2^63");
  options.num_shards = 1;
  options.batch_size = (std::int64_t{1} << 26) + 1;
  options.samples_per_epoch = 4 * options.batch_size;
  check_throws<std::invalid_argument>([&] { WeightedSampler(weights, options); }, "batch past 2^26");
  options.samples_per_epoch = 10;
  options.batch_size = 0;
  check_throws<std::invalid_argument>([&] { WeightedSampler(SampleWeights::of_one_class({0, 0}), options); }, "all zero");
  const WeightedSampler sampler(weights, options);
  check_throws<std::invalid_argument>([&] { run(sampler, 0, 0, 11); }, "slice past the epoch");
  check_throws<std::overflow_error>([&] { run(sampler, std::int64_t{1} << 62, 0, 1); }, "epoch past the draw counter");
  check(sampler.integer_weights() == weights.values(), "integer weights recovered");
}

void run_all() {
  test_slices_shards_and_batches();
  test_equals_a_balanced_sampler_of_one_class();
  test_preconditions();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
