// SamplerPlan: everything an epoch is a function of, validated and derived once per sampler: the
// class index, the options, each class's quota, its quota group, its stream key prefix and, with
// sample weights, the pool or alias table of each class that draws by them.
//
// Classes are the classes present in the labels, numbered k = 0, 1, ... by the class index;
// streams are keyed by their class ids (docs/determinism.md), so absent ids change nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "apportion.hpp"
#include "class_index.hpp"
#include "epoch_layout.hpp"
#include "quota_groups.hpp"
#include "random.hpp"
#include "sample_weights.hpp"
#include "slot_buckets.hpp"
#include "weighted_classes.hpp"

namespace fast_balance {

struct SamplerOptions : EpochLayout {
  // Whether values travelling together are packed into one 64-bit word where they fit: draws
  // waiting for their places, and a first pass's members with their positions (faster; the output
  // is the same either way, which the core's tests check by turning it off).
  bool pack_words = true;
  // Target schedules: per present class, what is added to epoch * quota to number the epoch's
  // first draw, so that the draws of epochs sampled at other quotas continue where those ended
  // (docs/determinism.md). Empty: 0 for every class.
  std::vector<std::int64_t> draw_shifts;
};

// Immutable once built; every fill reads it through a const reference, so concurrent epochs
// share it freely.
class SamplerPlan {
 public:
  // Throws std::invalid_argument when the weights or options do not fit the class index.
  // The index is shared: samplers of several shards or options can be built on one. Without
  // `sample_weights` (null) every class draws its samples uniformly.
  SamplerPlan(std::shared_ptr<const ClassIndex> index, const std::vector<std::uint64_t>& weights,
              const SamplerOptions& options, const SampleWeights* sample_weights = nullptr)
      : index_(checked_index(std::move(index))),
        options_(options),
        quotas_(checked_quotas(*index_, weights, options_)),
        weighted_(sample_weights == nullptr
                      ? WeightedClasses()
                      : WeightedClasses(*index_, *sample_weights, quotas_, options_.seed, options_.replacement)),
        groups_(quotas_),
        max_repeats_(repeats_bound(*index_, quotas_, weighted_, options_.replacement)),
        key_prefixes_(draw_key_prefixes(*index_, weighted_, options_)),
        fingerprint_(fingerprint_of(*index_, weights, weighted_, options_)) {}

  // The batch schedule numbers batches in int32.
  static constexpr std::int64_t kMaxBatches = INT32_MAX;

  const ClassIndex& index() const noexcept { return *index_; }
  const SamplerOptions& options() const noexcept { return options_; }
  // Per class: its draws in every epoch.
  const std::vector<std::int64_t>& quotas() const noexcept { return quotas_; }
  const QuotaGroups& groups() const noexcept { return groups_; }
  // Which classes draw by sample weight, and from what.
  const WeightedClasses& weighted() const noexcept { return weighted_; }
  // A bound on any draw's repeats in an epoch.
  std::int64_t max_repeats() const noexcept { return max_repeats_; }
  // Class c's pool passes' key prefix (stream_key_prefix of kPoolPass); with replacement, its draw
  // key (of kWeightedDraw where it draws by sample weight).
  std::uint64_t key_prefix(std::size_t c) const noexcept { return key_prefixes_[c]; }
  std::int64_t shard_size() const noexcept { return options_.samples_per_epoch / options_.num_shards; }
  // Identifies the stream: a hash of the labels, the weights and every option that shapes it.
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }
  // Batches of the whole epoch (over all shards); batched plans only.
  std::int64_t num_batches() const noexcept { return options_.samples_per_epoch / options_.batch_size; }

 private:
  static std::shared_ptr<const ClassIndex> checked_index(std::shared_ptr<const ClassIndex> index) {
    if (!index) throw std::invalid_argument("the class index is missing");
    return index;
  }

  static std::vector<std::int64_t> checked_quotas(const ClassIndex& index, const std::vector<std::uint64_t>& weights,
                                                  const SamplerOptions& options) {
    const std::int64_t num_classes = index.num_classes();
    if (!options.draw_shifts.empty() && static_cast<std::int64_t>(options.draw_shifts.size()) != num_classes) {
      throw std::invalid_argument("draw_shifts has " + std::to_string(options.draw_shifts.size()) + " entries for " +
                                  std::to_string(num_classes) + " classes");
    }
    if (static_cast<std::int64_t>(weights.size()) != num_classes) {
      throw std::invalid_argument("weights has " + std::to_string(weights.size()) + " entries for " +
                                  std::to_string(num_classes) + " classes present in the labels");
    }
    check_layout(options);
    if (options.batch_size > 0 && options.samples_per_epoch / options.batch_size > kMaxBatches) {
      throw std::invalid_argument("an epoch must have at most 2^31 - 1 batches");
    }
    for (std::int64_t c = 0; c < num_classes; ++c) {
      if (index.count(c) > INT32_MAX) {
        throw std::invalid_argument("class " + std::to_string(index.class_id(c)) + " has more than 2^31 - 1 samples");
      }
    }
    return apportion(options.samples_per_epoch, weights);
  }

  static std::int64_t repeats_bound(const ClassIndex& index, const std::vector<std::int64_t>& quotas,
                                    const WeightedClasses& weighted, bool replacement) {
    std::int64_t bound = 0;
    for (std::size_t c = 0; c < quotas.size(); ++c) {
      // repeats and pass numbers are int32: a sample may come at most 2^31 - 1 times per epoch.
      const std::int64_t count = index.count(static_cast<std::int64_t>(c));
      const std::int64_t quota = quotas[c];
      const std::string name = "class " + std::to_string(index.class_id(static_cast<std::int64_t>(c)));
      if (quota / count >= INT32_MAX) {
        throw std::invalid_argument(name + " would repeat a sample 2^31 - 1 or more times per epoch");
      }
      // With replacement every draw may hit one sample: its repeats reach quota - 1.
      if (replacement && quota > INT32_MAX) {
        throw std::invalid_argument(name + " would be drawn more than 2^31 - 1 times per epoch with replacement, "
                                           "and repeats are int32");
      }
      // Without replacement a draw's repeats are at most the passes it follows in the epoch, or
      // drawing by sample weight, the most copies a sample gets less one.
      if (const WeightedPool* pool = weighted.pool(c)) {
        const std::int64_t copies = pool->max_copies(quota);
        if (copies >= INT32_MAX) throw std::invalid_argument(name + " would repeat a sample 2^31 - 1 or more times per epoch");
        bound = std::max(bound, copies - 1);
      } else if (quota > 0) {
        bound = std::max(bound, replacement ? quota - 1 : quota / count + 1);
      }
    }
    return bound;
  }

  // Pass keys (or with replacement the draw key) differ only in their last step.
  static std::vector<std::uint64_t> draw_key_prefixes(const ClassIndex& index, const WeightedClasses& weighted,
                                                       const SamplerOptions& options) {
    std::vector<std::uint64_t> prefixes(static_cast<std::size_t>(index.num_classes()));
    for (std::size_t c = 0; c < prefixes.size(); ++c) {
      const auto id = static_cast<std::uint64_t>(index.class_id(static_cast<std::int64_t>(c)));
      const StreamDomain draw = weighted.table(c) != nullptr ? StreamDomain::kWeightedDraw : StreamDomain::kReplacementDraw;
      prefixes[c] = options.replacement ? stream_key(options.seed, draw, id, 0)
                                        : stream_key_prefix(options.seed, StreamDomain::kPoolPass, id);
    }
    return prefixes;
  }

  static std::uint64_t fingerprint_of(const ClassIndex& index, const std::vector<std::uint64_t>& weights,
                                      const WeightedClasses& weighted, const SamplerOptions& options) noexcept {
    std::uint64_t h = mix64(index.label_hash() ^ static_cast<std::uint64_t>(index.num_ids()));
    for (std::size_t c = 0; c < weights.size(); ++c) {
      h = mix64(h ^ static_cast<std::uint64_t>(index.class_id(static_cast<std::int64_t>(c))));
      h = mix64(h ^ weights[c]);
    }
    for (const std::uint64_t value :
         {options.seed, static_cast<std::uint64_t>(options.samples_per_epoch), static_cast<std::uint64_t>(options.batch_size),
          static_cast<std::uint64_t>(options.replacement), static_cast<std::uint64_t>(options.num_shards),
          static_cast<std::uint64_t>(options.shard_index)}) {
      h = mix64(h ^ value);
    }
    // Sample weights shape the stream only where a class draws by them.
    if (weighted.any()) h = mix64(h ^ weighted.hash());
    return h;
  }

  std::shared_ptr<const ClassIndex> index_;
  SamplerOptions options_;
  std::vector<std::int64_t> quotas_;
  WeightedClasses weighted_;
  QuotaGroups groups_;
  std::int64_t max_repeats_;
  std::vector<std::uint64_t> key_prefixes_;
  std::uint64_t fingerprint_;
};

}  // namespace fast_balance
