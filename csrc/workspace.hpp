// Workspace: the scratch buffers of one fill_epoch call of a BalancedSampler, and the WorkspacePool
// that keeps them between calls and hands one to each concurrent call.
#pragma once

#include <cstdint>
#include <vector>

#include "draws.hpp"
#include "lease_pool.hpp"

namespace fast_balance {

// Kept between calls so that their pages are not faulted in anew.
struct Workspace {
  DrawBuffers draws;
  std::vector<std::int32_t> slots;  // a window of an unbatched slice's class slots (fill_slice)
  // Assembling one bucket of a whole unbatched epoch (fill_unbatched.hpp):
  std::vector<std::int32_t> group_of;      // per slot: its class's group in the bucket
  std::vector<std::int32_t> group_next;    // per group: its next draw's place in the bucket
  std::vector<std::int32_t> group_label;   // per group: its class
  std::vector<std::int64_t> bucket_indices;
  std::vector<std::int32_t> bucket_repeats;
  std::vector<std::int64_t> packed_draws;  // with packed staging: the bucket's draws
  // Batched epochs (fill_batched.hpp, which defines rooms and slot values):
  std::vector<std::int64_t> staged_indices;  // per room of a window: its draw
  std::vector<std::int32_t> staged_labels;   // (packed into staged_indices where it fits)
  std::vector<std::int32_t> staged_repeats;
  std::vector<std::uint8_t> wanted;          // per room: its draw is this call's
  std::vector<std::int32_t> batch_values;    // a batch's slot values in their places, unless they wait in the output's labels
};

// One cached Workspace per sampler (lease_pool.hpp).
using WorkspacePool = LeasePool<Workspace>;

}  // namespace fast_balance
