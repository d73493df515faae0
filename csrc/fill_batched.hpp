// fill_batched: a batched epoch, each batch's classes from BatchSchedule in a random order inside
// the batch, filled a window of batches at a time.
//
// Terms:
// * Place: a position of the output. A batch's places hold its scheduled slots in a random order.
// * Window (not a Pfair window): consecutive batches filled together (WindowLayout), so that
//   every class takes its draws of a window in one run.
// * Room: a slot of a window's staging area (staging.hpp). Group g's rooms are its subtasks of the
//   window, in order: of a group of K, the member d turns after the group's first turn in the
//   window owns rooms d, d + K, d + 2K, ..., so members taking turns write side by side.
// * Several per batch: a group whose members' quota exceeds the epoch's batches, so that a batch
//   may hold several slots of one member. A class's draws must reach its places in place order:
//   with at most one slot per batch its subtasks are in that order already; with several, its
//   rooms are given out "by place", in the order of its places.
// * Slot value: what the schedule puts in a place before the draws are taken: its room, or, for
//   a class whose rooms go by place, ~(the class's index among those), its room given out later.
// * Wanted: a room whose draw this call writes; a slice or shard wants only some of a window's.
//
// Each window is filled in three steps, each in cache or streaming, instead of one random memory
// access per slot to each class's cursor and pool:
// 1. schedule_window: the window's batches are scheduled, each place getting its slot value;
// 2. take_window_draws: every class takes its draws of the window in one run into its rooms;
// 3. gather_places: each place takes its staged draw, in place order.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "batch_schedule.hpp"
#include "draws.hpp"
#include "plan.hpp"
#include "quota_groups.hpp"
#include "random.hpp"
#include "staging.hpp"
#include "workspace.hpp"

namespace fast_balance {

inline constexpr std::int64_t kCachedDrawsPerClass = 64;
inline constexpr std::int64_t kCachedWindow = std::int64_t{1} << 17;
inline constexpr std::int64_t kSpilledDrawsPerClass = 512;
// About 0.8 GB of staging and sources; keeps rooms far below 2^31.
inline constexpr std::int64_t kLargestWindow = std::int64_t{1} << 26;

// Slots per window. Where kCachedDrawsPerClass draws of every class fit in cache (the staging
// area is 8 bytes per slot), that many. Where they do not, kSpilledDrawsPerClass, up to
// kLargestWindow: every window costs each class a visit (cursor, pool and staging rows out of
// cache), which a few hundred draws repay, while larger windows spill the staging area further.
inline std::int64_t window_slots(const SamplerPlan& plan) noexcept {
  const auto classes = static_cast<std::int64_t>(plan.quotas().size());
  if (kCachedDrawsPerClass * classes <= kCachedWindow) {
    return std::max<std::int64_t>(kCachedDrawsPerClass * classes, std::int64_t{1} << 14);
  }
  return std::min(kSpilledDrawsPerClass * classes, kLargestWindow);
}

// How an epoch's batches divide into windows, and a window's staging area into rooms: per group,
// the most subtasks a window can hold, fewer than window * W + 2 for a group of weight W (its
// count is within 1 of exact after every prefix of batches).
struct WindowLayout {
  // At most `max_window` batches per window: a call that wants few batches stages few.
  WindowLayout(const SamplerPlan& plan, std::int64_t max_window) {
    __extension__ typedef unsigned __int128 uint128;  // (weight mod num_batches) * window: up to 92 bits
    const QuotaGroups& groups = plan.groups();
    const std::int64_t batch = plan.options().batch_size;
    const std::int64_t num_batches = plan.num_batches();
    window = std::min({num_batches, max_window, std::max<std::int64_t>(1, window_slots(plan) / batch)});
    window = std::max<std::int64_t>(window, 1);
    room_start.assign(groups.count() + 1, 0);
    several_per_batch.resize(groups.count());
    for (std::size_t g = 0; g < groups.count(); ++g) {
      several_per_batch[g] = groups.quota(g) > num_batches ? 1 : 0;
      const std::int64_t weight = groups.quota(g) * groups.size(g);  // <= 2^46
      const auto fraction = static_cast<uint128>(weight % num_batches) * static_cast<std::uint64_t>(window) /
                            static_cast<std::uint64_t>(num_batches);
      room_start[g + 1] = room_start[g] + weight / num_batches * window + static_cast<std::int64_t>(fraction) + 2;
    }
    // Rooms are int32 slot values: window_slots() keeps them below 2^26 + 2 per group.
    if (room_start.back() > INT32_MAX) throw std::invalid_argument("too many classes for batched epochs");
  }
  std::int64_t rooms() const noexcept { return room_start.back(); }

  std::int64_t window = 0;                      // batches per window
  std::vector<std::int64_t> room_start;         // per group (CSR)
  std::vector<std::uint8_t> several_per_batch;  // per group
};

// The rooms of the current window: where each group's start, and for the classes whose rooms go
// by place (by group, then turn), the next room of each and the step to the one after.
class WindowRooms {
 public:
  WindowRooms(const QuotaGroups& groups, const WindowLayout& layout)
      : groups_(groups), layout_(layout), window_first_(groups.count()), first_by_place_(groups.count(), 0) {
    std::int64_t by_place = 0;
    for (std::size_t g = 0; g < groups.count(); ++g) {
      first_by_place_[g] = by_place;
      if (layout.several_per_batch[g] != 0) by_place += groups.size(g);
    }
    next_room_.resize(static_cast<std::size_t>(by_place));
  }

  // Starts a window at the subtasks the schedule has given out so far.
  void start_window(const BatchSchedule& schedule) {
    for (std::size_t g = 0; g < groups_.count(); ++g) {
      window_first_[g] = schedule.scheduled(g);
      if (layout_.several_per_batch[g] == 0) continue;
      // The member at turn t has rooms d, d + K, ... where d counts turns from the window's first.
      const std::int64_t size = groups_.size(g);
      const std::int64_t first_turn = window_first_[g] % size;
      for (std::int64_t t = 0; t < size; ++t) {
        const std::int64_t d = t >= first_turn ? t - first_turn : t - first_turn + size;
        next_room_[static_cast<std::size_t>(first_by_place_[g] + t)] =
            NextRoom{static_cast<std::int32_t>(layout_.room_start[g] + d), static_cast<std::int32_t>(size)};
      }
    }
  }

  // Group g's first subtask of the window, and the room it takes.
  std::int64_t window_first(std::size_t g) const noexcept { return window_first_[g]; }
  std::int64_t first_room(std::size_t g) const noexcept { return layout_.room_start[g]; }

  // Calls use(value) with the slot value of every slot of a run that BatchSchedule::next_runs gives.
  template <typename Use>
  void run_values(std::int32_t group, std::int64_t subtask, std::int64_t count, std::int64_t turn, Use&& use) const {
    const auto g = static_cast<std::size_t>(group);
    if (layout_.several_per_batch[g] == 0) {
      const auto room = static_cast<std::int32_t>(layout_.room_start[g] + subtask - window_first_[g]);
      for (std::int32_t k = 0; k < static_cast<std::int32_t>(count); ++k) use(room + k);
      return;
    }
    const std::int64_t size = groups_.size(g);
    for (std::int64_t k = 0; k < count; ++k) {
      use(~static_cast<std::int32_t>(first_by_place_[g] + turn));
      turn = turn + 1 == size ? 0 : turn + 1;
    }
  }

  // room_of for a value read back from memory the caller owns (a whole window's places wait in the
  // output's labels): throws instead of indexing out of bounds if the value is not one we wrote.
  std::int32_t checked_room_of(std::int32_t value) {
    const bool valid = value >= 0 ? value < layout_.rooms() : static_cast<std::size_t>(~value) < next_room_.size();
    const std::int32_t room = valid ? room_of(value) : -1;
    if (room < 0 || room >= layout_.rooms()) {
      throw std::runtime_error("the output's labels changed while the epoch was written into them");
    }
    return room;
  }

  // The room of a slot value; for a class whose rooms go by place, its next one (so a window's
  // places must ask in place order).
  std::int32_t room_of(std::int32_t value) noexcept {
    if (value >= 0) return value;
    NextRoom& next = next_room_[static_cast<std::size_t>(~value)];
    const std::int32_t room = next.room;
    next.room += next.step;
    return room;
  }

 private:
  struct NextRoom {
    std::int32_t room;
    std::int32_t step;
  };

  const QuotaGroups& groups_;
  const WindowLayout& layout_;
  std::vector<std::int64_t> window_first_;    // per group
  std::vector<std::int64_t> first_by_place_;  // per group: its members' index among the classes by place
  std::vector<NextRoom> next_room_;           // per class by place
};

// The batches of one window [first, end); whole when the call wants every slot of it.
struct Window {
  std::int64_t first;
  std::int64_t end;
  bool whole;
};

// The places a window fills, [begin, end) from the call's start; empty (-1, -1) when it owns no batch.
struct PlaceRange {
  std::int64_t begin = -1;
  std::int64_t end = -1;
};

// Schedules the next batch: calls use(value) with each of its slots' slot values.
template <typename Use>
inline void schedule_batch(BatchSchedule& schedule, const WindowRooms& rooms, Use&& use) {
  schedule.next_runs([&](std::int32_t group, std::int64_t subtask, std::int64_t count, std::int64_t turn) {
    rooms.run_values(group, subtask, count, turn, use);
  });
}

// Schedules batch b into placed[0, batch) in a uniformly random order: inside-out Fisher-Yates of
// its slot values as scheduled, by the stream (seed, kBatchOrder, epoch, b).
inline void place_batch(const SamplerPlan& plan, std::int64_t epoch, std::int64_t b, BatchSchedule& schedule,
                        const WindowRooms& rooms, std::int32_t* placed) {
  RandomStream random(stream_key(plan.options().seed, StreamDomain::kBatchOrder, static_cast<std::uint64_t>(epoch),
                                 static_cast<std::uint64_t>(b)));
  std::uint32_t scheduled = 0;
  schedule_batch(schedule, rooms, [&](std::int32_t value) {
    if (scheduled == 0) {
      placed[0] = value;
    } else {
      const std::uint32_t k = random.below_u32(scheduled + 1);
      placed[scheduled] = placed[k];
      placed[k] = value;
    }
    ++scheduled;
  });
}

// Step 1: schedules the window's batches. Each place of the call's [start, stop) gets, in
// `sources` (relative to start), its slot value for a whole window (gather_places resolves them
// to rooms, in place order), otherwise its room, with work.wanted marking every room of the window
// wanted or not. Returns the places the window fills.
inline PlaceRange schedule_window(const SamplerPlan& plan, std::int64_t epoch, std::int64_t start, std::int64_t stop,
                                  const Window& window, BatchSchedule& schedule, WindowRooms& rooms, Workspace& work,
                                  std::int32_t* sources) {
  const std::int64_t batch = plan.options().batch_size;
  const std::int64_t shards = plan.options().num_shards;
  std::uint8_t* wanted = work.wanted.data();
  PlaceRange places;
  for (std::int64_t b = window.first; b < window.end; ++b) {
    const std::int64_t local_start = (b / shards) * batch;  // this batch's position in its shard
    if (b % shards != plan.options().shard_index || local_start + batch <= start) {
      schedule_batch(schedule, rooms, [&](std::int32_t value) { wanted[rooms.room_of(value)] = 0; });
      continue;
    }
    // Straight into the batch's places when the window is whole.
    std::int32_t* placed = window.whole ? sources + (local_start - start) : work.batch_values.data();
    place_batch(plan, epoch, b, schedule, rooms, placed);
    const std::int64_t batch_begin = std::max(local_start, start) - start;
    const std::int64_t batch_end = std::min(local_start + batch, stop) - start;
    if (places.begin < 0) places.begin = batch_begin;
    places.end = batch_end;
    if (window.whole) continue;
    for (std::int64_t k = 0; k < batch; ++k) {
      const std::int32_t room = rooms.room_of(placed[k]);
      const std::int64_t j = local_start + k - start;
      const bool is_wanted = j >= batch_begin && j < batch_end;
      wanted[room] = is_wanted ? 1 : 0;
      if (is_wanted) sources[j] = room;
    }
  }
  return places;
}

// Group g's draws of one window, class by class into their rooms (from first_room, in subtask
// order): the group's subtasks taken .. scheduled(g) - 1, member (taken + d) mod K taking every
// K-th from d. Classes none of whose rooms are wanted (when `wanted` is given) skip their draws.
template <typename Staging>
inline void take_group_draws(const QuotaGroups& groups, const BatchSchedule& schedule, std::size_t g,
                             std::int64_t taken, std::int64_t first_room, const std::uint8_t* wanted,
                             const Staging& staging, Draws& draws) {
  const std::int64_t count = schedule.scheduled(g) - taken;
  const std::int64_t size = groups.size(g);
  const std::int32_t* members = schedule.members(g);
  const std::int64_t first_cursor = schedule.first_member(g);
  const std::int64_t classes = std::min(size, count);
  const std::int64_t first_turn = taken % size;
  // The member d turns from the first: its place among the members, which numbers its cursor.
  const auto turn_of = [&](std::int64_t d) {
    const std::int64_t turn = first_turn + d;
    return turn < size ? turn : turn - size;
  };
  const auto cursor = [&](std::int64_t d) { return static_cast<std::int32_t>(first_cursor + turn_of(d)); };
  // Member d has ceil((count - d) / size) rooms: `rows` or, for the first `longer`, one more.
  const std::int64_t rows = count / size;
  const std::int64_t longer = count % size;
  constexpr std::int64_t kCursorAhead = 8;
  constexpr std::int64_t kClassAhead = 4;
  for (std::int64_t d = 0; d < classes; ++d) {
    if (d + kCursorAhead < classes) draws.prefetch_cursor(cursor(d + kCursorAhead));
    if (d + kClassAhead < classes) draws.prefetch_class(cursor(d + kClassAhead));
    const std::int32_t label = members[static_cast<std::size_t>(turn_of(d))];
    const std::int64_t draws_here = rows + (d < longer ? 1 : 0);
    if (wanted != nullptr) {
      bool any = false;
      for (std::int64_t m = 0; m < draws_here; ++m) any = any || wanted[first_room + d + m * size] != 0;
      if (!any) {
        draws.skip(cursor(d), draws_here);
        continue;
      }
    }
    std::int64_t room = first_room + d;
    draws.take_each(cursor(d), draws_here, [&](std::int64_t sample, std::int32_t repeats) {
      staging.put(room, sample, repeats, label);
      room += size;
    });
  }
}

// Step 2: every group's draws of the window into their rooms.
template <typename Staging>
inline void take_window_draws(const QuotaGroups& groups, const BatchSchedule& schedule, const WindowRooms& rooms,
                              const std::uint8_t* wanted, const Staging& staging, Draws& draws) {
  for (std::size_t g = 0; g < groups.count(); ++g) {
    take_group_draws(groups, schedule, g, rooms.window_first(g), rooms.first_room(g), wanted, staging, draws);
  }
}

// Step 3: each place takes its staged draw, in place order (the order rooms by place are given
// out in). A place's source waits in the output's label, which the write then overwrites.
template <typename Staging>
inline void gather_places(const PlaceRange& places, WindowRooms& rooms, const Staging& staging, const EpochOutput& out) {
  const std::int32_t* sources = out.labels;
  for (std::int64_t j = std::max<std::int64_t>(places.begin, 0); j < places.end; ++j) {
    write(out, j, staging.get(rooms.checked_room_of(sources[j])));
  }
}

// The classes in this epoch's turn order: a shuffle of the classes of positive quota (in
// increasing class) by the stream (seed, kClassRank, epoch, 0), then those of quota 0, which take
// no turns. Each group's members take turns in it.
inline std::vector<std::int32_t> turn_order(const SamplerPlan& plan, std::int64_t epoch) {
  std::vector<std::int32_t> order;
  order.reserve(plan.quotas().size());
  for (std::size_t c = 0; c < plan.quotas().size(); ++c) {
    if (plan.quotas()[c] > 0) order.push_back(static_cast<std::int32_t>(c));
  }
  RandomStream(stream_key(plan.options().seed, StreamDomain::kClassRank, static_cast<std::uint64_t>(epoch), 0))
      .shuffle(order.data(), static_cast<std::int64_t>(order.size()));
  for (std::size_t c = 0; c < plan.quotas().size(); ++c) {
    if (plan.quotas()[c] == 0) order.push_back(static_cast<std::int32_t>(c));
  }
  return order;
}

// The order of the Draws' cursors: classes take their draws in turn order, so their cursors and
// pools are read in memory order (classes of quota 0 last).
inline std::vector<std::int32_t> draw_order(const SamplerPlan& plan, const BatchSchedule& schedule) {
  std::vector<std::int32_t> order = schedule.member_order();
  for (std::size_t c = 0; c < plan.quotas().size(); ++c) {
    if (plan.quotas()[c] == 0) order.push_back(static_cast<std::int32_t>(c));
  }
  return order;
}

template <typename Staging>
inline void fill_batched(const SamplerPlan& plan, std::int64_t epoch, std::int64_t start, std::int64_t stop,
                         const WindowLayout& layout, Workspace& work, const EpochOutput& out, const Staging& staging) {
  const std::int64_t batch = plan.options().batch_size;
  const std::int64_t shards = plan.options().num_shards;
  BatchSchedule schedule(plan.groups(), plan.num_batches(), turn_order(plan, epoch));
  Draws draws(plan, epoch, work.draws, draw_order(plan, schedule).data());
  WindowRooms rooms(plan.groups(), layout);
  work.batch_values.resize(static_cast<std::size_t>(batch));
  const std::int64_t last_batch = ((stop - 1) / batch) * shards + plan.options().shard_index;
  for (std::int64_t first = 0; first <= last_batch; first += layout.window) {
    const std::int64_t end = std::min(first + layout.window, last_batch + 1);
    const Window window{first, end, shards == 1 && first * batch >= start && end * batch <= stop};
    if (!window.whole) work.wanted.resize(static_cast<std::size_t>(layout.rooms()));
    rooms.start_window(schedule);
    const PlaceRange places = schedule_window(plan, epoch, start, stop, window, schedule, rooms, work, out.labels);
    take_window_draws(plan.groups(), schedule, rooms, window.whole ? nullptr : work.wanted.data(), staging, draws);
    gather_places(places, rooms, staging, out);
  }
}

// Positions [start, stop) of this shard's part of a batched epoch, staged packed where the
// draws fit in 64-bit words.
inline void fill_batched(const SamplerPlan& plan, std::int64_t epoch, std::int64_t start, std::int64_t stop,
                         Workspace& work, const EpochOutput& out) {
  // The batches of the global epoch that [start, stop) of this shard spans.
  const std::int64_t span = ((stop - 1) / plan.options().batch_size - start / plan.options().batch_size + 1) *
                            plan.options().num_shards;
  const WindowLayout layout(plan, span);
  const auto rooms = static_cast<std::size_t>(layout.rooms());
  work.staged_indices.resize(rooms);
  const PackedStaging packed(EpochOutput{work.staged_indices.data(), nullptr, nullptr}, plan.index().num_samples(),
                             plan.index().num_classes());
  if (plan.options().pack_words && packed.fits(plan.max_repeats())) {
    fill_batched(plan, epoch, start, stop, layout, work, out, packed);
    return;
  }
  work.staged_labels.resize(rooms);
  work.staged_repeats.resize(rooms);
  const PlainStaging plain{EpochOutput{work.staged_indices.data(), work.staged_labels.data(), work.staged_repeats.data()}};
  fill_batched(plan, epoch, start, stop, layout, work, out, plain);
}

}  // namespace fast_balance
