// fill_unbatched: an unbatched epoch, whole (bucket by bucket, from draws taken class by class)
// or a slice or shard of it (slot by slot).
//
// Both give the stream of arrange_slots (slot_buckets.hpp) with each class's slots taking its
// draws in slot order. Terms:
// * Staged: a whole epoch's draws are written class by class to their buckets, grouped by class
//   inside each bucket (staging.hpp), and later assembled.
// * Assembling a bucket: putting its staged draws in the bucket's shuffled order, in cache.
//   A bucket's group (not a quota group): the run of one class's staged draws in it.
// * Block: up to kBlockClasses consecutive classes of the class order, each with at least
//   kBlockDrawsPerBucket draws in every bucket, filled bucket by bucket instead of class by class.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "draws.hpp"
#include "plan.hpp"
#include "random.hpp"
#include "slot_buckets.hpp"
#include "staging.hpp"
#include "workspace.hpp"

namespace fast_balance {

// The key of an epoch's slot arrangement (SlotBuckets).
inline std::uint64_t epoch_order_key(const SamplerPlan& plan, std::int64_t epoch) noexcept {
  return stream_key(plan.options().seed, StreamDomain::kEpochOrder, static_cast<std::uint64_t>(epoch), 0);
}

inline constexpr std::size_t kBlockClasses = 4096;
// With fewer draws per bucket, a class's set-up in every bucket costs more than the scattered
// writes of a class-by-class fill.
inline constexpr std::int64_t kBlockDrawsPerBucket = 4;
// The smallest quota filled in blocks.
inline std::int64_t block_quota(const SlotBuckets& buckets) noexcept { return kBlockDrawsPerBucket * buckets.count(); }

// The shuffle of bucket b, whose slots hold draws grouped by class (label_at(j) is slot j's
// class), as arrange_slots applies it to the grouped labels: calls emit(j, from, label) for
// every slot j of the shuffled bucket, `from` being the grouped place of its draw.
template <typename LabelAt, typename Emit>
inline void shuffle_groups(const SlotBuckets& buckets, std::int64_t b, Workspace& work, LabelAt&& label_at,
                           Emit&& emit) {
  const std::int64_t size = buckets.start(b + 1) - buckets.start(b);
  const auto n = static_cast<std::size_t>(size);
  work.group_of.resize(n);
  work.group_next.resize(n);
  work.group_label.resize(n);
  std::int32_t* group_of = work.group_of.data();
  std::int32_t* group_next = work.group_next.data();
  std::int32_t* group_label = work.group_label.data();
  std::int32_t group = -1;
  for (std::size_t j = 0; j < n; ++j) {
    const std::int32_t label = label_at(j);
    if (j == 0 || label != group_label[group]) {
      group_next[++group] = static_cast<std::int32_t>(j);
      group_label[group] = label;
    }
    group_of[j] = group;
  }
  // The permutation arrange_slots applies to the class-grouped labels, applied to their groups.
  buckets.shuffle_stream(b).shuffle(group_of, size);
  for (std::size_t j = 0; j < n; ++j) {
    const std::int32_t g = group_of[j];
    emit(static_cast<std::int64_t>(j), static_cast<std::size_t>(group_next[g]++), group_label[g]);
  }
}

// Bucket b's slots hold its draws grouped by class; puts them in the bucket's shuffled order.
inline void assemble_bucket(const SlotBuckets& buckets, std::int64_t b, const PlainStaging&, Workspace& work,
                            const EpochOutput& out) {
  const std::int64_t begin = buckets.start(b);
  const std::int64_t size = buckets.start(b + 1) - begin;
  work.bucket_indices.assign(out.indices + begin, out.indices + begin + size);
  work.bucket_repeats.assign(out.repeats + begin, out.repeats + begin + size);
  const std::int32_t* labels = out.labels + begin;
  shuffle_groups(
      buckets, b, work, [&](std::size_t j) { return labels[j]; },
      [&](std::int64_t j, std::size_t from, std::int32_t label) {
        write(out, begin + j, Draw{work.bucket_indices[from], work.bucket_repeats[from], label});
      });
}

// The same for packed staging. The bucket's packed draws are copied to cache first (a random
// access to the bucket where the fill left it would miss the cache). When every class has one
// draw in the bucket, the shuffle permutes the draws themselves and each is unpacked where it lands.
inline void assemble_bucket(const SlotBuckets& buckets, std::int64_t b, const PackedStaging& staging,
                            Workspace& work, const EpochOutput& out) {
  const std::int64_t begin = buckets.start(b);
  const std::int64_t size = buckets.start(b + 1) - begin;
  work.packed_draws.assign(out.indices + begin, out.indices + begin + size);
  const std::int64_t* packed = work.packed_draws.data();
  if (buckets.one_draw_per_class()) {
    buckets.shuffle_stream(b).shuffle(work.packed_draws.data(), size);
    for (std::int64_t j = 0; j < size; ++j) write(out, begin + j, staging.unpack(packed[j]));
    return;
  }
  shuffle_groups(
      buckets, b, work, [&](std::size_t j) { return staging.unpack(packed[j]).label; },
      [&](std::int64_t j, std::size_t from, std::int32_t) { write(out, begin + j, staging.unpack(packed[from])); });
}

// A block's draws, bucket by bucket, so that each bucket receives one run of all their draws (in
// class order) instead of one short run per class. With `work`, each bucket is assembled as soon
// as it is filled, while it is in cache.
template <typename Staging>
inline void fill_block(const SlotBuckets& buckets, const std::int32_t* classes, std::size_t count, Draws& draws,
                       std::vector<std::int64_t>& cursor, const Staging& staging, const EpochOutput& out,
                       Workspace* work) {
  std::vector<std::int64_t> taken(count, 0);  // per class: draws in the buckets before b
  for (std::int64_t b = 0; b < buckets.count(); ++b) {
    std::int64_t slot = cursor[static_cast<std::size_t>(b)];  // a local: the output cannot alias it
    for (std::size_t k = 0; k < count; ++k) {
      const std::int32_t label = classes[k];
      const std::int64_t through = buckets.draws_before(static_cast<std::size_t>(label), b + 1);
      const std::int64_t here = through - taken[k];
      taken[k] = through;
      draws.take_each(label, here, [&](std::int64_t sample, std::int32_t repeats) {
        staging.put(slot++, sample, repeats, label);
      });
    }
    cursor[static_cast<std::size_t>(b)] = slot;
    if (work != nullptr) assemble_bucket(buckets, b, staging, *work, out);
  }
}

// Every class's draws staged in its buckets, in the buckets' class order (blocks where classes
// qualify, the others class by class), then every bucket assembled. Kept out of line: inlined
// into fill_unbatched, as GCC does in the Python module, the whole epoch's loops compile slower.
template <typename Staging>
__attribute__((noinline)) void fill_buckets(const SamplerPlan& plan, const SlotBuckets& buckets, Draws& draws,
                                            Workspace& work, const EpochOutput& out, const Staging& staging) {
  const std::vector<std::int64_t>& quotas = plan.quotas();
  std::vector<std::int64_t> cursor = buckets.starts();
  const std::vector<std::int32_t>& order = buckets.class_order();
  const std::int64_t smallest_in_block = block_quota(buckets);
  const auto in_block = [&](std::size_t i) { return quotas[static_cast<std::size_t>(order[i])] >= smallest_in_block; };
  // In phase order consecutive classes lie anywhere in the pool: load them ahead of use.
  constexpr std::size_t kCursorAhead = 8;
  constexpr std::size_t kClassAhead = 4;
  bool assembled = false;
  for (std::size_t i = 0; i < order.size();) {
    if (in_block(i)) {
      std::size_t end = i + 1;
      while (end < order.size() && end - i < kBlockClasses && in_block(end)) ++end;
      // With every class in one block, each bucket is complete as soon as the block has filled it.
      assembled = i == 0 && end == order.size();
      fill_block(buckets, order.data() + i, end - i, draws, cursor, staging, out, assembled ? &work : nullptr);
      i = end;
      continue;
    }
    if (i + kCursorAhead < order.size()) draws.prefetch_cursor(order[i + kCursorAhead]);
    if (i + kClassAhead < order.size()) draws.prefetch_class(order[i + kClassAhead]);
    const std::int32_t label = order[i];
    const auto c = static_cast<std::size_t>(label);
    SlotBuckets::Walk walk = buckets.walk(c);
    draws.take_each(label, quotas[c], [&](std::int64_t sample, std::int32_t repeats) {
      staging.put(cursor[static_cast<std::size_t>(walk.next())]++, sample, repeats, label);
    });
    ++i;
  }
  if (!assembled) {
    for (std::int64_t b = 0; b < buckets.count(); ++b) assemble_bucket(buckets, b, staging, work, out);
  }
}

// The same stream as arrange_slots followed by draws in slot order, built without a random memory
// access per slot: each class's draws are taken in order and written to its slots in the
// buckets (SlotBuckets keeps them in draw order), then every bucket is shuffled in cache the way
// arrange_slots shuffles it, each class's draws staying in order. Classes go in SlotBuckets'
// class order, which keeps the buckets being written to few at a time.
inline void fill_whole_epoch(const SamplerPlan& plan, std::int64_t epoch, Draws& draws, Workspace& work,
                             const EpochOutput& out) {
  const std::vector<std::int64_t>& quotas = plan.quotas();
  const SlotBuckets buckets(quotas, epoch_order_key(plan, epoch));
  const PackedStaging packed(out, plan.index().num_samples(), plan.index().num_classes());
  // Packed staging pays where draws are scattered over the buckets, not where blocks write runs.
  const bool blocks = *std::max_element(quotas.begin(), quotas.end()) >= block_quota(buckets);
  if (!blocks && plan.options().pack_words && packed.fits(plan.max_repeats())) {
    fill_buckets(plan, buckets, draws, work, out, packed);
  } else {
    fill_buckets(plan, buckets, draws, work, out, PlainStaging{out});
  }
}

// Slots arranged at a time by fill_slice, unless one bucket is larger.
inline constexpr std::int64_t kSliceWindow = std::int64_t{1} << 20;

// Positions [start, stop) of this shard: the buckets that hold them are arranged a window at a
// time (arrange_buckets), and their slots take their draws in slot order, the others' draws
// passed over. Memory is a window's slots and the classes' cursors, not the epoch's size.
inline void fill_slice(const SamplerPlan& plan, std::int64_t epoch, std::int64_t start, std::int64_t stop,
                       Draws& draws, Workspace& work, const EpochOutput& out) {
  const std::int64_t shards = plan.options().num_shards;
  const std::int64_t shard = plan.options().shard_index;
  const SlotBuckets buckets(plan.quotas(), epoch_order_key(plan, epoch));
  const std::int64_t first_slot = start * shards + shard;
  const std::int64_t last_slot = (stop - 1) * shards + shard;
  std::int64_t b = buckets.bucket_of(first_slot);
  for (std::size_t c = 0; c < plan.quotas().size(); ++c) {
    draws.skip(static_cast<std::int32_t>(c), buckets.draws_before(c, b));
  }
  // With many classes, cursors and pools do not fit in cache: prefetch them ahead of use.
  constexpr std::int64_t kCursorAhead = 32;
  constexpr std::int64_t kEntryAhead = 16;
  std::vector<std::int32_t>& scratch = work.slots;
  std::int64_t j = 0;  // the next position of the output
  while (b < buckets.count() && buckets.start(b) <= last_slot) {
    std::int64_t end = b + 1;
    while (end < buckets.count() && buckets.start(end + 1) - buckets.start(b) <= kSliceWindow) ++end;
    const std::int64_t base = buckets.start(b);
    const std::int64_t size = buckets.start(end) - base;
    scratch.resize(static_cast<std::size_t>(std::max<std::int64_t>(size, 1)));
    const std::int32_t* slots = scratch.data();
    arrange_buckets(buckets, b, end, scratch.data());
    const std::int64_t finish = std::min(buckets.start(end), last_slot + 1);
    for (std::int64_t t = base; t < finish; ++t) {
      const std::int32_t c = slots[t - base];
      const bool owned = t >= first_slot && (shards == 1 || (t - shard) % shards == 0);
      if (!owned) {
        draws.pass_over(c);
        continue;
      }
      if (t + kCursorAhead < finish) draws.prefetch_cursor(slots[t + kCursorAhead - base]);
      if (t + kEntryAhead < finish) draws.prefetch_entry(slots[t + kEntryAhead - base]);
      out.labels[j] = c;
      out.indices[j] = draws.take(c, out.repeats[j]);
      ++j;
    }
    b = end;
  }
}

// Positions [start, stop) of this shard's part of an unbatched epoch.
inline void fill_unbatched(const SamplerPlan& plan, std::int64_t epoch, std::int64_t start, std::int64_t stop,
                           Workspace& work, const EpochOutput& out) {
  Draws draws(plan, epoch, work.draws, nullptr);
  if (plan.options().num_shards == 1 && start == 0 && stop == plan.options().samples_per_epoch) {
    fill_whole_epoch(plan, epoch, draws, work, out);
  } else {
    fill_slice(plan, epoch, start, stop, draws, work, out);
  }
}

}  // namespace fast_balance
