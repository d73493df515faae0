// Draws: each class's draws of one epoch in order, read from its cursor (Cursor) and, without
// replacement, from its pool pass by pass, or for a class that draws by sample weight, from its
// epoch's sequence.
//
// Pool: a class's members in the random order of one pass; draw G of class c over all epochs is
// position G mod n_c of pass G div n_c (docs/determinism.md). A class's first pass
// of an epoch may have begun in an earlier epoch: the members drawn then are "consumed", and were
// seen once less in this epoch than the pass number says.
// Sequence: a weighted class's draws of the epoch, all of them, as spread_copies (copy_spread.hpp)
// writes them; made at its first draw and kept for later calls on the same epoch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "alias_table.hpp"
#include "class_index.hpp"
#include "copy_spread.hpp"
#include "plan.hpp"
#include "random.hpp"
#include "staging.hpp"
#include "weighted_pool.hpp"

namespace fast_balance {

// A class's draw cursor in one epoch (Draws): everything a draw touches, in one place for the cache.
struct Cursor {
  std::int64_t begin = 0;         // the class's range of the pool (and of the consumed flags), or of the sequences
  std::int64_t end = 0;
  std::int64_t members = 0;       // where its members start in the class index
  std::int64_t position = 0;      // next draw's place in the pool
  std::int64_t first_pass = 0;    // pass and offset of the class's first draw in the epoch
  std::int64_t first_offset = 0;
  std::uint64_t key_prefix = 0;   // stream_key_prefix of the pool passes; with replacement, the draw key
  std::int32_t pass = 0;          // passes begun since the epoch's first draw
  std::int32_t loaded = -1;       // the pass whose order the pool holds; a weighted class's 0 once its sequence is made
};

// The buffers Draws works in, kept in the Workspace between calls.
struct DrawBuffers {
  std::vector<Cursor> cursors;             // per class, in the Draws' order
  std::vector<std::int64_t> pool;          // per class (CSR, in the Draws' order): the loaded pass, sample | kConsumed
  std::vector<std::uint8_t> consumed;      // per class member (in its class's pool range): emitted in the first pass before the epoch
  std::vector<std::int32_t> pass_order;    // scratch: a pass as class-local positions
  std::vector<std::uint32_t> times_seen;   // with replacement: draws of each sample so far this epoch
  // Classes that draw by sample weight, without replacement:
  std::vector<std::uint64_t> sequences;    // per class (CSR, in the Draws' order): its epoch's draws as words
  std::vector<std::uint8_t> sequence_made; // per cursor: its sequence is that of sequence_epoch
  std::int64_t sequence_epoch = -1;
  SpreadScratch spread;
};

// The per-class draw cursors of one epoch, and the pool orders they read.
class Draws {
 public:
  // Cursors are numbered by `order` (a permutation of the classes; null: by class), which also
  // lays out the pool, so that visiting classes in that order reads both in order. The methods
  // below name a class by its cursor's number.
  Draws(const SamplerPlan& plan, std::int64_t epoch, DrawBuffers& buffers, const std::int32_t* order)
      : replacement_(plan.options().replacement),
        index_(plan.index()),
        buffers_(buffers),
        pack_words_(plan.options().pack_words),
        sample_bits_(bits_for(index_.num_samples() - 1)),
        weighted_(plan.weighted().any()),
        epoch_(epoch),
        cursors_(buffers.cursors) {
    __extension__ typedef unsigned __int128 uint128;  // epoch * quota needs up to 109 bits
    cursors_.assign(static_cast<std::size_t>(index_.num_classes()), Cursor{});
    consumed_known_.assign(cursors_.size(), 0);
    if (weighted_) {
      pools_.assign(cursors_.size(), nullptr);
      tables_.assign(cursors_.size(), nullptr);
      if (buffers_.sequence_epoch != epoch) buffers_.sequence_made.assign(cursors_.size(), 0);
      buffers_.sequence_epoch = epoch;
    }
    std::int64_t pool = 0;
    std::int64_t sequences = 0;
    for (std::size_t k = 0; k < cursors_.size(); ++k) {
      const auto c = order != nullptr ? static_cast<std::size_t>(order[k]) : k;
      const auto cls = static_cast<std::int64_t>(c);
      const std::int64_t count = index_.count(cls);
      if (count == 0) continue;
      const std::int64_t quota = plan.quotas()[c];
      auto first_draw = static_cast<uint128>(epoch) * static_cast<std::uint64_t>(quota);
      if (!plan.options().draw_shifts.empty()) {
        const std::int64_t shift = plan.options().draw_shifts[c];
        const auto magnitude = static_cast<uint128>(shift < 0 ? -static_cast<uint128>(shift) : static_cast<uint128>(shift));
        if (shift < 0 && magnitude > first_draw) throw std::invalid_argument("draw_shifts put a first draw below 0");
        first_draw = shift < 0 ? first_draw - magnitude : first_draw + magnitude;
      }
      if (first_draw >> 62) throw std::overflow_error("epoch too large for this class's draw counter");
      Cursor& cursor = cursors_[k];
      cursor.key_prefix = plan.key_prefix(c);
      if (weighted_) {
        pools_[k] = plan.weighted().pool(c);
        tables_[k] = plan.weighted().table(c);
      }
      if (weighted_ && pools_[k] != nullptr) {
        cursor.begin = sequences;
        cursor.end = sequences + quota;
        cursor.position = cursor.begin;
        cursor.loaded = buffers_.sequence_made[k] != 0 ? 0 : -1;
        sequences += quota;
        continue;
      }
      cursor.first_pass = static_cast<std::int64_t>(first_draw) / count;
      cursor.first_offset = static_cast<std::int64_t>(first_draw) % count;
      cursor.members = index_.offset(cls);
      cursor.begin = pool;
      cursor.end = pool + count;
      cursor.position = cursor.begin + cursor.first_offset;
      pool += count;
    }
    if (replacement_) {
      buffers_.times_seen.assign(static_cast<std::size_t>(index_.num_samples()), 0);
    } else {
      buffers_.pool.resize(static_cast<std::size_t>(pool));
      if (weighted_) buffers_.sequences.resize(static_cast<std::size_t>(sequences));
    }
  }

  // Moves past the next draw of class c without output. With replacement, later repeats depend
  // on every earlier draw, so it is taken; without, they depend only on the pass.
  void pass_over(std::int32_t c) {
    if (replacement_) {
      std::int32_t unused;
      take(c, unused);
      return;
    }
    Cursor& cursor = cursors_[static_cast<std::size_t>(c)];
    if (in_sequence(c)) {
      ++cursor.position;
      return;
    }
    if (++cursor.position == cursor.end) {
      cursor.position = cursor.begin;
      ++cursor.pass;
    }
  }

  // Moves past the next `count` draws of class c without output.
  void skip(std::int32_t c, std::int64_t count) {
    if (replacement_) {
      for (std::int64_t k = 0; k < count; ++k) pass_over(c);
      return;
    }
    Cursor& cursor = cursors_[static_cast<std::size_t>(c)];
    if (in_sequence(c)) {
      cursor.position += count;
      return;
    }
    const std::int64_t size = cursor.end - cursor.begin;
    const std::int64_t place = cursor.position - cursor.begin + count;
    cursor.pass += static_cast<std::int32_t>(place / size);
    cursor.position = cursor.begin + place % size;
  }

  // Starts loading what take(c) will read: the cursor first, its pool entry a few draws later.
  void prefetch_cursor(std::int32_t c) const noexcept { __builtin_prefetch(&cursors_[static_cast<std::size_t>(c)]); }
  void prefetch_entry(std::int32_t c) const noexcept {
    if (replacement_) return;
    const std::int64_t position = cursors_[static_cast<std::size_t>(c)].position;
    if (in_sequence(c)) {
      __builtin_prefetch(buffers_.sequences.data() + position);
    } else {
      __builtin_prefetch(buffers_.pool.data() + position);
    }
  }

  // Starts loading the pool entries and members that take_each(c) reads first.
  void prefetch_class(std::int32_t c) const noexcept {
    const Cursor& cursor = cursors_[static_cast<std::size_t>(c)];
    if (in_sequence(c)) {
      __builtin_prefetch(buffers_.sequences.data() + cursor.position);
      return;
    }
    if (!replacement_) __builtin_prefetch(buffers_.pool.data() + cursor.position);
    __builtin_prefetch(index_.members().data() + cursor.members);
  }

  // Takes the next draw of class c: its sample index, and in `repeats` how often that sample
  // was emitted earlier in the epoch.
  std::int64_t take(std::int32_t c, std::int32_t& repeats) {
    const auto cls = static_cast<std::size_t>(c);
    Cursor& cursor = cursors_[cls];
    std::int64_t sample;
    if (replacement_) {
      const std::int64_t count = cursor.end - cursor.begin;
      const std::int64_t draw = (cursor.first_pass + cursor.pass) * count + (cursor.position - cursor.begin);
      if (weighted_ && tables_[cls] != nullptr) {
        sample = tables_[cls]->draw(cursor.key_prefix, static_cast<std::uint64_t>(draw));
      } else {
        const auto member = static_cast<std::int64_t>(scale_to_range(
            stream_value(cursor.key_prefix, static_cast<std::uint64_t>(draw)), static_cast<std::uint64_t>(count)));
        sample = index_.members()[static_cast<std::size_t>(cursor.members + member)];
      }
      repeats = static_cast<std::int32_t>(buffers_.times_seen[static_cast<std::size_t>(sample)]++);
    } else if (in_sequence(c)) {
      const std::uint64_t word = sequence_word(cls);
      repeats = repeats_of(word);
      return sample_of(word);
    } else {
      if (cursor.loaded != cursor.pass) load_pass(cls, cursor.pass);
      const std::int64_t entry = buffers_.pool[static_cast<std::size_t>(cursor.position)];
      sample = entry & ~kConsumed;
      // A sample whose place in the epoch's first pass went to an earlier epoch was seen once less.
      repeats = cursor.pass - (entry < 0 ? 1 : 0);
    }
    if (++cursor.position == cursor.end) {
      cursor.position = cursor.begin;
      ++cursor.pass;
    }
    return sample;
  }

  // Takes the next `count` draws of class c in order, calling emit(sample, repeats) for each.
  template <typename Emit>
  void take_each(std::int32_t c, std::int64_t count, Emit&& emit) {
    Cursor& cursor = cursors_[static_cast<std::size_t>(c)];
    if (replacement_ && weighted_ && tables_[static_cast<std::size_t>(c)] != nullptr) {
      take_alias_run(c, count, emit);
      return;
    }
    if (replacement_) {
      for (std::int64_t k = 0; k < count; ++k) {
        std::int32_t repeats;
        const std::int64_t sample = take(c, repeats);
        emit(sample, repeats);
      }
      return;
    }
    if (in_sequence(c)) {
      if (cursor.loaded < 0) make_sequence(static_cast<std::size_t>(c));
      const std::uint64_t* words = buffers_.sequences.data() + cursor.position;
      for (std::int64_t k = 0; k < count; ++k) emit(sample_of(words[k]), repeats_of(words[k]));
      cursor.position += count;
      return;
    }
    if (cursor.end - cursor.begin == 1) {  // every pass is the one member, and none is part-used
      const std::int64_t sample = index_.members()[static_cast<std::size_t>(cursor.members)];
      for (std::int64_t k = 0; k < count; ++k) emit(sample, static_cast<std::int32_t>(cursor.pass + k));
      cursor.pass += static_cast<std::int32_t>(count);
      return;
    }
    // Without replacement, a pass's draws are a run of the pool.
    while (count > 0) {
      if (cursor.loaded != cursor.pass) load_pass(static_cast<std::size_t>(c), cursor.pass);
      const std::int64_t run = std::min(count, cursor.end - cursor.position);
      const std::int64_t* entries = buffers_.pool.data() + cursor.position;
      for (std::int64_t i = 0; i < run; ++i) emit(entries[i] & ~kConsumed, cursor.pass - (entries[i] < 0 ? 1 : 0));
      count -= run;
      cursor.position += run;
      if (cursor.position == cursor.end) {
        cursor.position = cursor.begin;
        ++cursor.pass;
      }
    }
  }

 private:
  static constexpr std::int64_t kCachedPool = std::int64_t{1} << 15;  // members; 256 KiB of pool
  static constexpr std::int64_t kPlacesAhead = 16;
  // Marks a pool entry whose sample was drawn in the epoch's first pass before the epoch began.
  static constexpr std::int64_t kConsumed = std::numeric_limits<std::int64_t>::min();

  // take_each for a class drawing by alias table: its draws' columns are found and loaded
  // kColumnsAhead draws before their use (a large table misses the cache).
  template <typename Emit>
  void take_alias_run(std::int32_t c, std::int64_t count, Emit&& emit) {
    constexpr std::int64_t kColumnsAhead = 32;
    Cursor& cursor = cursors_[static_cast<std::size_t>(c)];
    const AliasTable& table = *tables_[static_cast<std::size_t>(c)];
    const std::int64_t size = cursor.end - cursor.begin;
    const auto first = static_cast<std::uint64_t>((cursor.first_pass + cursor.pass) * size + (cursor.position - cursor.begin));
    std::size_t columns[kColumnsAhead];
    const auto load = [&](std::int64_t k) {
      const std::size_t column = table.column(cursor.key_prefix, first + static_cast<std::uint64_t>(k));
      columns[k % kColumnsAhead] = column;
      table.prefetch(column);
    };
    for (std::int64_t k = 0; k < std::min(count, kColumnsAhead); ++k) load(k);
    for (std::int64_t k = 0; k < count; ++k) {
      const std::int64_t sample = table.sample_in(columns[k % kColumnsAhead], cursor.key_prefix, first + static_cast<std::uint64_t>(k));
      if (k + kColumnsAhead < count) load(k + kColumnsAhead);
      emit(sample, static_cast<std::int32_t>(buffers_.times_seen[static_cast<std::size_t>(sample)]++));
    }
    const std::int64_t place = cursor.position - cursor.begin + count;
    cursor.pass += static_cast<std::int32_t>(place / size);
    cursor.position = cursor.begin + place % size;
  }

  // Whether class c reads its draws from its epoch's sequence.
  bool in_sequence(std::int32_t c) const noexcept { return weighted_ && pools_[static_cast<std::size_t>(c)] != nullptr; }

  // The next word of class c's sequence, made first if need be.
  std::uint64_t sequence_word(std::size_t c) {
    Cursor& cursor = cursors_[c];
    if (cursor.loaded < 0) make_sequence(c);
    return buffers_.sequences[static_cast<std::size_t>(cursor.position++)];
  }

  void make_sequence(std::size_t c) {
    Cursor& cursor = cursors_[c];
    spread_copies(*pools_[c], cursor.end - cursor.begin, epoch_, buffers_.sequences.data() + cursor.begin, buffers_.spread);
    cursor.loaded = 0;
    buffers_.sequence_made[c] = 1;
  }

  // Puts class c's pass `pass` (counted from the epoch's first) in the pool: the members in the
  // order of stream (seed, kPoolPass, c, absolute pass) by inside-out Fisher-Yates (member i goes
  // to place below_u32(i + 1), for i >= 1: a class has at most 2^31 - 1 members), which reads the
  // members in order and writes each once.
  void load_pass(std::size_t c, std::int32_t pass) {
    Cursor& cursor = cursors_[c];
    const std::int64_t count = cursor.end - cursor.begin;
    std::int64_t* order = buffers_.pool.data() + cursor.begin;
    const std::int64_t* members = index_.members().data() + cursor.members;
    if (pass == 0 && cursor.first_offset > 0 && consumed_known_[c] == 0 && pack_words_ &&
        sample_bits_ + bits_for(count - 1) <= 63) {
      // The members an earlier epoch took are read off this same pass: shuffle each member with
      // its position, [position | sample], then split them (one shuffle for both, in the pool).
      shuffle_pass(c, 0, order, count, [&](std::int64_t i) { return members[i] | i << sample_bits_; });
      std::uint8_t* consumed = consumed_flags() + cursor.begin;
      const std::int64_t sample_mask = (std::int64_t{1} << sample_bits_) - 1;
      for (std::int64_t k = 0; k < count; ++k) {
        consumed[order[k] >> sample_bits_] = k < cursor.first_offset ? 1 : 0;
        order[k] &= sample_mask;
      }
      consumed_known_[c] = 1;
    } else if (pass == 0 && cursor.first_offset > 0 && consumed_known_[c] == 0) {
      // The same with positions shuffled apart, where they do not fit beside the samples.
      consumed_members(c);
      const std::int32_t* positions = buffers_.pass_order.data();
      for (std::int64_t k = 0; k < count; ++k) order[k] = members[positions[k]];
    } else if (pass > 0 && cursor.first_offset > 0) {
      const std::uint8_t* consumed = consumed_members(c);
      shuffle_pass(c, pass, order, count, [&](std::int64_t i) {
        return members[i] | static_cast<std::int64_t>(static_cast<std::uint64_t>(consumed[i]) << 63);
      });
    } else {
      shuffle_pass(c, pass, order, count, [&](std::int64_t i) { return members[i]; });
    }
    cursor.loaded = pass;
  }

  // The inside-out Fisher-Yates of load_pass: order[0, count) receives entry(0), ..., entry(count - 1)
  // in the order of class c's pass `pass`. A one-item pass needs no stream.
  template <typename T, typename Entry>
  void shuffle_pass(std::size_t c, std::int32_t pass, T* order, std::int64_t count, Entry&& entry) {
    order[0] = entry(0);
    if (count <= 1) return;
    RandomStream random(pass_key(c, pass));
    const auto place = [&](std::int64_t i) {
      return static_cast<std::int64_t>(random.below_u32(static_cast<std::uint32_t>(i + 1)));
    };
    if (count <= kCachedPool) {
      for (std::int64_t i = 1; i < count; ++i) {
        const std::int64_t j = place(i);
        order[i] = order[j];
        order[j] = entry(i);
      }
      return;
    }
    // The places are known before the data: draw them kPlacesAhead early and prefetch, as a
    // large pool's random places miss the cache.
    std::int64_t ahead[kPlacesAhead];
    for (std::int64_t i = 1; i < count && i <= kPlacesAhead; ++i) {
      ahead[i % kPlacesAhead] = place(i);
      __builtin_prefetch(order + ahead[i % kPlacesAhead]);
    }
    for (std::int64_t i = 1; i < count; ++i) {
      const std::int64_t j = ahead[i % kPlacesAhead];
      if (i + kPlacesAhead < count) {
        ahead[i % kPlacesAhead] = place(i + kPlacesAhead);
        __builtin_prefetch(order + ahead[i % kPlacesAhead]);
      }
      order[i] = order[j];
      order[j] = entry(i);
    }
  }

  std::uint64_t pass_key(std::size_t c, std::int32_t pass) const noexcept {
    return stream_key_last(cursors_[c].key_prefix, static_cast<std::uint64_t>(cursors_[c].first_pass + pass));
  }

  // Per member of class c: was it drawn in the epoch's first pass before the epoch began?
  const std::uint8_t* consumed_members(std::size_t c) {
    const Cursor& cursor = cursors_[c];
    const std::int64_t count = cursor.end - cursor.begin;
    std::uint8_t* consumed = consumed_flags() + cursor.begin;
    if (consumed_known_[c] == 0) {
      // The first pass again, as member positions.
      buffers_.pass_order.resize(static_cast<std::size_t>(count));
      std::int32_t* order = buffers_.pass_order.data();
      shuffle_pass(c, 0, order, count, [](std::int64_t i) { return static_cast<std::int32_t>(i); });
      for (std::int64_t k = 0; k < count; ++k) consumed[order[k]] = k < cursor.first_offset ? 1 : 0;
      consumed_known_[c] = 1;
    }
    return consumed;
  }

  // The consumed flags of every class (by pool place), allocated on first use.
  std::uint8_t* consumed_flags() {
    if (buffers_.consumed.size() != static_cast<std::size_t>(index_.num_samples())) {
      buffers_.consumed.resize(static_cast<std::size_t>(index_.num_samples()));
    }
    return buffers_.consumed.data();
  }

  const bool replacement_;
  const ClassIndex& index_;
  DrawBuffers& buffers_;
  const bool pack_words_;
  const int sample_bits_;  // bits of the largest sample index
  const bool weighted_;    // some class draws by sample weight
  const std::int64_t epoch_;
  std::vector<Cursor>& cursors_;
  std::vector<const WeightedPool*> pools_;   // per cursor, where weighted_: its weighted pool, or null
  std::vector<const AliasTable*> tables_;    // per cursor, where weighted_: its alias table, or null
  std::vector<std::uint8_t> consumed_known_;  // per class: consumed_members was computed
};

}  // namespace fast_balance
