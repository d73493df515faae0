// WeightedSampler: the index stream of a set without classes, drawn in proportion to sample
// weights, as a pure function of (seed, epoch, position): the core of WeightedIndexSampler.
//
// The samples are one class, of id 0 in every stream key (docs/determinism.md). Without replacement
// it is a weighted pool (weighted_pool.hpp) whose draws copy_spread.hpp orders, even where the weights
// are equal; with replacement, alias draws (alias_table.hpp), draw k of epoch e being draw
// e * samples_per_epoch + k. The epoch's draws in order are its positions. Shard s of S owns the
// batches (unbatched: positions) congruent to s modulo S, as in BalancedSampler, whose stream over
// labels all 0 with the same (unequal) sample weights this is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "alias_table.hpp"
#include "copy_spread.hpp"
#include "epoch_layout.hpp"
#include "lease_pool.hpp"
#include "random.hpp"
#include "sample_weights.hpp"
#include "slot_buckets.hpp"
#include "weighted_pool.hpp"

namespace fast_balance {

// A sampler without classes has nothing to add to the layout.
using WeightedOptions = EpochLayout;

// Where one epoch's output goes; each pointer has room for stop - start values.
struct WeightedOutput {
  std::int64_t* indices;
  std::int32_t* repeats;
};

// The scratch of one fill_epoch call, kept between calls. A call that does not write the whole
// epoch to its output computes the whole epoch here, and the next call on the same epoch reuses it.
struct WeightedWorkspace {
  SpreadScratch spread;
  std::vector<std::uint64_t> words;  // the epoch's draws as words (copy_spread.hpp)
  std::int64_t words_epoch = -1;     // whose draws `words` holds
  std::vector<std::uint32_t> times_seen;
};

class WeightedSampler {
 public:
  // The samples are one weighted class (weighted_pool.hpp).
  static constexpr std::int64_t kMaxSamples = WeightedPool::kMaxMembers;

  // Throws std::invalid_argument when the weights or options are out of range.
  WeightedSampler(const SampleWeights& weights, const WeightedOptions& options)
      : options_(checked(options, weights.size())), num_samples_(weights.size()) {
    const auto member_at = [](std::int64_t m) { return m; };
    const auto weight_of = [&](std::int64_t sample) { return weights[sample]; };
    if (options_.replacement) {
      table_ = std::make_unique<const AliasTable>(num_samples_, member_at, weight_of);
    } else {
      pool_ = std::make_unique<const WeightedPool>(options_.seed, 0, num_samples_, member_at, weight_of);
      if (pool_->max_copies(options_.samples_per_epoch) >= INT32_MAX) {
        throw std::invalid_argument("samples_per_epoch=" + std::to_string(options_.samples_per_epoch) +
                                    " would draw a sample 2^31 - 1 or more times per epoch, and repeats are int32");
      }
    }
    if (options_.replacement && options_.samples_per_epoch > INT32_MAX) {
      throw std::invalid_argument("with replacement an epoch must have at most 2^31 - 1 samples, as repeats are int32");
    }
    fingerprint_ = mix64(weights.hash() ^ static_cast<std::uint64_t>(num_samples_));
    for (const std::uint64_t value :
         {options_.seed, static_cast<std::uint64_t>(options_.samples_per_epoch),
          static_cast<std::uint64_t>(options_.batch_size), static_cast<std::uint64_t>(options_.replacement),
          static_cast<std::uint64_t>(options_.num_shards), static_cast<std::uint64_t>(options_.shard_index)}) {
      fingerprint_ = mix64(fingerprint_ ^ value);
    }
  }

  const WeightedOptions& options() const noexcept { return options_; }
  std::int64_t num_samples() const noexcept { return num_samples_; }
  std::int64_t shard_size() const noexcept { return options_.samples_per_epoch / options_.num_shards; }
  // Identifies the stream: a hash of the weights and every option.
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }

  // Every sample's integer weight (SampleWeights), as the sampler was built with.
  std::vector<std::uint32_t> integer_weights() const {
    std::vector<std::uint32_t> out(static_cast<std::size_t>(num_samples_));
    const auto put = [&](std::int64_t sample, std::uint32_t weight) { out[static_cast<std::size_t>(sample)] = weight; };
    if (pool_) pool_->for_each_weight(put);
    if (table_) table_->for_each_weight(put);
    return out;
  }

  // Writes positions [start, stop) of this shard's part of `epoch`. Concurrent calls are safe:
  // each works in its own workspace.
  void fill_epoch(std::int64_t epoch, std::int64_t start, std::int64_t stop, const WeightedOutput& out) const {
    __extension__ typedef unsigned __int128 u128;
    if (epoch < 0) throw std::invalid_argument("epoch must be >= 0");
    if ((static_cast<u128>(epoch) + 1) * static_cast<std::uint64_t>(options_.samples_per_epoch) > (u128{1} << 62)) {
      throw std::overflow_error("epoch too large for the draw counter");
    }
    if (start < 0 || stop < start || stop > shard_size()) {
      throw std::invalid_argument("positions [" + std::to_string(start) + ", " + std::to_string(stop) +
                                  ") are outside the shard's epoch of " + std::to_string(shard_size()));
    }
    if (start == stop) return;
    LeasePool<WeightedWorkspace>::Lease lease(workspaces_);
    WeightedWorkspace& work = lease.workspace();
    const std::int64_t size = options_.samples_per_epoch;
    if (options_.num_shards == 1 && start == 0 && stop == size) {
      // The words are staged in the output's indices and unpacked as they are put in place.
      epoch_words(epoch, reinterpret_cast<std::uint64_t*>(out.indices), work, [&](std::int64_t j, std::uint64_t word) {
        out.indices[j] = sample_of(word);
        out.repeats[j] = repeats_of(word);
      });
      return;
    }
    if (work.words_epoch != epoch) {
      work.words_epoch = -1;
      work.words.resize(static_cast<std::size_t>(size));
      std::uint64_t* words = work.words.data();
      epoch_words(epoch, words, work, [&](std::int64_t j, std::uint64_t word) { words[j] = word; });
      work.words_epoch = epoch;
    }
    const std::uint64_t* words = work.words.data();
    for (std::int64_t j = start; j < stop; ++j) {
      const std::uint64_t word = words[global_position(options_, j)];
      out.indices[j - start] = sample_of(word);
      out.repeats[j - start] = repeats_of(word);
    }
  }

 private:
  static WeightedOptions checked(const WeightedOptions& options, std::int64_t num_samples) {
    if (num_samples < 1 || num_samples > kMaxSamples) throw std::invalid_argument("weights must have 1 to 2^31 - 1 entries");
    check_layout(options);
    return options;
  }

  // The global epoch's draws in order: put(position, word) for each, words[0, samples_per_epoch)
  // the staging area (spread_copies).
  template <typename Put>
  void epoch_words(std::int64_t epoch, std::uint64_t* words, WeightedWorkspace& work, Put&& put) const {
    const std::int64_t size = options_.samples_per_epoch;
    if (pool_) {
      spread_copies(*pool_, size, epoch, words, work.spread, put);
      return;
    }
    // With replacement a draw's repeats count the same sample's draws before it in the epoch.
    work.times_seen.assign(static_cast<std::size_t>(num_samples_), 0);
    std::uint32_t* seen = work.times_seen.data();
    const std::uint64_t key = stream_key(options_.seed, StreamDomain::kWeightedDraw, 0, 0);
    const auto first = static_cast<std::uint64_t>(epoch) * static_cast<std::uint64_t>(size);
    // A large table's columns and counters miss the cache: each draw's column is found and loaded
    // kColumnsAhead draws before its use, and its sample's counter kSamplesAhead before.
    constexpr std::int64_t kColumnsAhead = 64;
    constexpr std::int64_t kSamplesAhead = 32;
    std::size_t columns[kColumnsAhead];
    std::int64_t samples[kSamplesAhead];
    const auto g = [&](std::int64_t k) { return first + static_cast<std::uint64_t>(k); };
    const auto load_column = [&](std::int64_t k) {
      const std::size_t c = table_->column(key, g(k));
      columns[k % kColumnsAhead] = c;
      table_->prefetch(c);
    };
    const auto load_sample = [&](std::int64_t k) {
      const std::int64_t sample = table_->sample_in(columns[k % kColumnsAhead], key, g(k));
      samples[k % kSamplesAhead] = sample;
      __builtin_prefetch(seen + sample);
    };
    for (std::int64_t k = 0; k < std::min(kColumnsAhead, size); ++k) load_column(k);
    for (std::int64_t k = 0; k < std::min(kSamplesAhead, size); ++k) {
      load_sample(k);
      if (k + kColumnsAhead < size) load_column(k + kColumnsAhead);
    }
    for (std::int64_t k = 0; k < size; ++k) {
      const std::int64_t sample = samples[k % kSamplesAhead];
      put(k, word_of(static_cast<std::uint32_t>(sample), seen[sample]++));
      if (k + kSamplesAhead < size) load_sample(k + kSamplesAhead);
      if (k + kSamplesAhead + kColumnsAhead < size) load_column(k + kSamplesAhead + kColumnsAhead);
    }
  }

  WeightedOptions options_;
  std::int64_t num_samples_;
  std::unique_ptr<const WeightedPool> pool_;  // without replacement
  std::unique_ptr<const AliasTable> table_;   // with replacement
  std::uint64_t fingerprint_ = 0;
  mutable LeasePool<WeightedWorkspace> workspaces_;
};

}  // namespace fast_balance
