// BalancedSampler: the index stream of an epoch as a pure function of (seed, epoch, position); a
// facade over the plan (plan.hpp), the workspaces (workspace.hpp) and the two fill paths.
//
// Semantics (the Python docs repeat them for users):
// * Every epoch draws quota_c samples of class c, quotas apportioned from integer target weights.
// * Unbatched, the epoch's class slots are laid out by SlotBuckets: every bucket of about 16k
//   slots holds floor or ceil of its share of each class, in a uniformly random order.
//   Batched, BatchSchedule fixes each batch's classes and the slots are shuffled inside the batch.
// * Within a class, slots take the class's draws in order. Draw k of class c in epoch e is draw
//   G = e * quota_c + k of the class's endless stream: without replacement that stream is the
//   class's pool in a fresh random order for every pass (pass = G / count_c), so pools carry over
//   epochs; with replacement draw G is an independent uniform member.
// * With sample weights, a class whose samples weigh differently draws by them instead: without
//   replacement each sample floor or ceil of its expected count per epoch, the fractions carried
//   over epochs (weighted_pool.hpp), its copies spread apart (copy_spread.hpp); with replacement
//   independent draws in proportion to the weights (alias_table.hpp).
// * repeats = how many times the same sample was emitted at earlier positions of the epoch.
// * Shard s of S owns the batches (unbatched: positions) congruent to s modulo S.
// * Only classes present in the labels take part; the output labels are their class ids.
//   How every random decision is derived: docs/determinism.md.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "class_index.hpp"
#include "fill_batched.hpp"
#include "fill_unbatched.hpp"
#include "plan.hpp"
#include "sample_weights.hpp"
#include "staging.hpp"
#include "workspace.hpp"

namespace fast_balance {

class BalancedSampler {
 public:
  // Throws std::invalid_argument when the weights or options do not fit the class index (SamplerPlan).
  // `weights` has one entry per class present in `index`, in its order (ClassIndex::class_ids);
  // `sample_weights`, if given, one per sample.
  BalancedSampler(std::shared_ptr<const ClassIndex> index, const std::vector<std::uint64_t>& weights,
                  const SamplerOptions& options, const SampleWeights* sample_weights = nullptr)
      : plan_(std::move(index), weights, options, sample_weights) {
    // Every size a batched epoch derives from the options is checked now, not at the first epoch.
    if (plan_.options().batch_size > 0) WindowLayout(plan_, plan_.num_batches());
  }

  BalancedSampler(ClassIndex index, const std::vector<std::uint64_t>& weights, const SamplerOptions& options,
                  const SampleWeights* sample_weights = nullptr)
      : BalancedSampler(std::make_shared<const ClassIndex>(std::move(index)), weights, options, sample_weights) {}

  const SamplerPlan& plan() const noexcept { return plan_; }
  const ClassIndex& index() const noexcept { return plan_.index(); }
  const SamplerOptions& options() const noexcept { return plan_.options(); }
  const std::vector<std::int64_t>& quotas() const noexcept { return plan_.quotas(); }
  std::int64_t shard_size() const noexcept { return plan_.shard_size(); }

  // Writes positions [start, stop) of this shard's part of `epoch`. Concurrent calls are safe:
  // each works in its own workspace.
  void fill_epoch(std::int64_t epoch, std::int64_t start, std::int64_t stop, const EpochOutput& out) const {
    if (epoch < 0) throw std::invalid_argument("epoch must be >= 0");
    if (start < 0 || stop < start || stop > shard_size()) {
      throw std::invalid_argument("positions [" + std::to_string(start) + ", " + std::to_string(stop) +
                                  ") are outside the shard's epoch of " + std::to_string(shard_size()));
    }
    if (start == stop) return;
    WorkspacePool::Lease lease(workspaces_);
    if (plan_.options().batch_size > 0) {
      fill_batched(plan_, epoch, start, stop, lease.workspace(), out);
    } else {
      fill_unbatched(plan_, epoch, start, stop, lease.workspace(), out);
    }
    // The fills number classes as the index does; the output names them by their ids.
    const ClassIndex& index = plan_.index();
    if (!index.identity_ids()) {
      const std::int32_t* ids = index.class_ids().data();
      const auto classes = static_cast<std::uint32_t>(index.num_classes());
      for (std::int64_t j = 0; j < stop - start; ++j) {
        const std::int32_t k = out.labels[j];
        if (static_cast<std::uint32_t>(k) >= classes) {  // the caller's array changed under us
          throw std::runtime_error("the output's labels changed while the epoch was written into them");
        }
        out.labels[j] = ids[k];
      }
    }
  }

 private:
  SamplerPlan plan_;
  mutable WorkspacePool workspaces_;
};

}  // namespace fast_balance
