// EpochLayout: what both samplers' epochs share: the seed, the length over all shards, the
// batches and the shards, and the checks every layout passes before anything is derived from it.
//
// Shard s of S owns the batches (unbatched: positions) congruent to s modulo S; a layout whose
// length is a multiple of batch_size * num_shards gives every shard the same number of them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "slot_buckets.hpp"

namespace fast_balance {

struct EpochLayout {
  std::uint64_t seed = 0;
  std::int64_t samples_per_epoch = 0;  // over all shards
  std::int64_t batch_size = 0;         // 0: unbatched
  bool replacement = false;
  std::int64_t num_shards = 1;
  std::int64_t shard_index = 0;
};

// The largest batch: a batch must fit in one window of the batched fill.
inline constexpr std::int64_t kMaxBatchSize = std::int64_t{1} << 26;

// std::invalid_argument unless every size of the layout is in range and the shards are equal.
inline void check_layout(const EpochLayout& layout) {
  if (layout.samples_per_epoch < 1) throw std::invalid_argument("samples_per_epoch must be >= 1");
  if (layout.samples_per_epoch > SlotBuckets::kMaxSlots) {
    throw std::invalid_argument("samples_per_epoch must be at most 2^46");
  }
  if (layout.batch_size < 0) throw std::invalid_argument("batch_size must be >= 0");
  if (layout.batch_size > kMaxBatchSize) throw std::invalid_argument("batch_size must be at most 2^26");
  if (layout.num_shards < 1) throw std::invalid_argument("num_shards must be >= 1");
  if (layout.shard_index < 0 || layout.shard_index >= layout.num_shards) {
    throw std::invalid_argument("shard_index must be in [0, num_shards)");
  }
  // A multiple of batch * num_shards is at least that product: compared by division first, as the
  // product of two valid arguments can pass 2^63 (and wrap to a divisor of 0).
  const std::int64_t batch = std::max<std::int64_t>(layout.batch_size, 1);
  if (layout.num_shards > layout.samples_per_epoch / batch ||
      layout.samples_per_epoch % (batch * layout.num_shards) != 0) {
    throw std::invalid_argument("samples_per_epoch must be a multiple of batch_size * num_shards");
  }
}

// Position j of shard layout.shard_index in the global epoch.
inline std::int64_t global_position(const EpochLayout& layout, std::int64_t j) noexcept {
  const std::int64_t shards = layout.num_shards;
  if (layout.batch_size == 0) return j * shards + layout.shard_index;
  const std::int64_t batch = layout.batch_size;
  return ((j / batch) * shards + layout.shard_index) * batch + j % batch;
}

}  // namespace fast_balance
