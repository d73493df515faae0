// BalancedSampler: the index stream of an epoch as a pure function of (seed, epoch, position).
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
// * repeats = how many times the same sample was emitted at earlier positions of the epoch.
// * Shard s of S owns the batches (unbatched: positions) congruent to s modulo S.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "class_index.hpp"
#include "random.hpp"
#include "apportion.hpp"
#include "batch_schedule.hpp"
#include "quota_groups.hpp"
#include "slot_buckets.hpp"

namespace fast_balance {

__extension__ typedef unsigned __int128 uint128;

struct SamplerOptions {
  std::uint64_t seed = 0;
  std::int64_t samples_per_epoch = 0;  // over all shards
  std::int64_t batch_size = 0;         // 0: unbatched
  bool replacement = false;
  std::int64_t num_shards = 1;
  std::int64_t shard_index = 0;
  // Whether values travelling together are packed into one 64-bit word where they fit: draws
  // waiting for their places, and a first pass's members with their positions (faster; the output
  // is the same either way, which the core's tests check by turning it off).
  bool pack_words = true;
};

// Where one epoch's output goes; each pointer has room for stop - start values.
struct EpochOutput {
  std::int64_t* indices;
  std::int32_t* labels;
  std::int32_t* repeats;
};

class BalancedSampler {
 public:
  BalancedSampler(ClassIndex index, const std::vector<std::uint64_t>& weights, const SamplerOptions& options)
      : index_(std::move(index)), options_(options) {
    const std::int64_t num_classes = index_.num_classes();
    if (static_cast<std::int64_t>(weights.size()) != num_classes) {
      throw std::invalid_argument("weights has " + std::to_string(weights.size()) + " entries for " +
                                  std::to_string(num_classes) + " classes");
    }
    if (options_.samples_per_epoch < 1) throw std::invalid_argument("samples_per_epoch must be >= 1");
    if (options_.samples_per_epoch > SlotBuckets::kMaxSlots) {
      throw std::invalid_argument("samples_per_epoch must be at most 2^46");
    }
    if (options_.batch_size < 0) throw std::invalid_argument("batch_size must be >= 0");
    if (options_.num_shards < 1) throw std::invalid_argument("num_shards must be >= 1");
    if (options_.shard_index < 0 || options_.shard_index >= options_.num_shards) {
      throw std::invalid_argument("shard_index must be in [0, num_shards)");
    }
    const std::int64_t unit = std::max<std::int64_t>(options_.batch_size, 1) * options_.num_shards;
    if (options_.samples_per_epoch % unit != 0) {
      throw std::invalid_argument("samples_per_epoch must be a multiple of batch_size * num_shards");
    }
    std::string empty;
    for (std::int64_t c = 0; c < num_classes; ++c) {
      if (index_.count(c) > INT32_MAX) {
        throw std::invalid_argument("class " + std::to_string(c) + " has more than 2^31 - 1 samples");
      }
      if (weights[static_cast<std::size_t>(c)] > 0 && index_.count(c) == 0) {
        empty += (empty.empty() ? "" : ", ") + std::to_string(c);
      }
    }
    if (!empty.empty()) throw std::invalid_argument("classes with no samples have positive weight: " + empty);
    quotas_ = apportion(options_.samples_per_epoch, weights);
    groups_ = QuotaGroups(quotas_);
    for (std::int64_t c = 0; c < num_classes; ++c) {
      // repeats and pass numbers are int32: a sample may come at most 2^31 - 1 times per epoch.
      const std::int64_t count = index_.count(c);
      const std::int64_t quota = quotas_[static_cast<std::size_t>(c)];
      if (count > 0 && quota / count >= INT32_MAX) {
        throw std::invalid_argument("class " + std::to_string(c) + " would repeat a sample 2^31 - 1 or more times per epoch");
      }
      // Without replacement a draw's repeats are at most the passes it follows in the epoch.
      if (quota > 0) max_repeats_ = std::max(max_repeats_, options_.replacement ? quota - 1 : quota / count + 1);
    }
    // Pass keys (or with replacement the draw key) differ only in their last step.
    key_prefixes_.resize(static_cast<std::size_t>(num_classes));
    for (std::size_t c = 0; c < key_prefixes_.size(); ++c) {
      key_prefixes_[c] = options_.replacement ? stream_key(options_.seed, StreamDomain::kReplacementDraw, c, 0)
                                              : stream_key_prefix(options_.seed, StreamDomain::kPoolPass, c);
    }
  }

  const ClassIndex& index() const noexcept { return index_; }
  const SamplerOptions& options() const noexcept { return options_; }
  const std::vector<std::int64_t>& quotas() const noexcept { return quotas_; }
  std::int64_t shard_size() const noexcept { return options_.samples_per_epoch / options_.num_shards; }

  // Writes positions [start, stop) of this shard's part of `epoch`.
  void fill_epoch(std::int64_t epoch, std::int64_t start, std::int64_t stop, const EpochOutput& out) const {
    if (epoch < 0) throw std::invalid_argument("epoch must be >= 0");
    if (start < 0 || stop < start || stop > shard_size()) {
      throw std::invalid_argument("positions [" + std::to_string(start) + ", " + std::to_string(stop) +
                                  ") are outside the shard's epoch of " + std::to_string(shard_size()));
    }
    if (start == stop) return;
    WorkspaceLease lease(*this);
    if (options_.batch_size > 0) {
      fill_batched(epoch, start, stop, lease.workspace(), out);
    } else {
      Draws draws(*this, epoch, lease.workspace(), nullptr);
      fill_unbatched(epoch, start, stop, draws, lease.workspace(), out);
    }
  }

 private:
  // One slot's output, kept together so that moving it is one memory access.
  struct Draw {
    std::int64_t index;
    std::int32_t repeats;
    std::int32_t label;
  };

  // Bits of the largest value; at least 1.
  static int bits_for(std::int64_t largest) noexcept {
    int bits = 1;
    while (bits < 63 && (largest >> bits) != 0) ++bits;
    return bits;
  }

  // How fill_whole_epoch keeps a slot's draw in the output until its bucket is assembled.
  // Plainly: as the output itself.
  struct PlainStaging {
    EpochOutput out;
    void put(std::int64_t slot, std::int64_t sample, std::int32_t repeats, std::int32_t label) const noexcept {
      write(out, slot, Draw{sample, repeats, label});
    }
    Draw get(std::int64_t slot) const noexcept { return Draw{out.indices[slot], out.repeats[slot], out.labels[slot]}; }
  };
  // Packed: one scattered store per slot instead of three, the draw in indices[slot] as bit fields
  // [repeats | label | sample] sized by the epoch. fits() says whether they fit in 64 bits.
  class PackedStaging {
   public:
    PackedStaging(const EpochOutput& out, std::int64_t num_samples, std::int64_t num_classes) noexcept
        : out_(out), sample_bits_(bits_for(num_samples - 1)), label_bits_(bits_for(num_classes - 1)) {}
    // Whether every draw's repeats, at most max_repeats, fit beside its sample and label.
    bool fits(std::int64_t max_repeats) const noexcept {
      const int repeat_bits = 64 - sample_bits_ - label_bits_;
      return repeat_bits >= 1 && bits_for(max_repeats) <= repeat_bits;
    }
    void put(std::int64_t slot, std::int64_t sample, std::int32_t repeats, std::int32_t label) const noexcept {
      out_.indices[slot] = static_cast<std::int64_t>(static_cast<std::uint64_t>(sample) |
                                                     static_cast<std::uint64_t>(label) << sample_bits_ |
                                                     static_cast<std::uint64_t>(repeats) << (sample_bits_ + label_bits_));
    }
    Draw get(std::int64_t slot) const noexcept { return unpack(out_.indices[slot]); }
    Draw unpack(std::int64_t packed) const noexcept {
      const auto word = static_cast<std::uint64_t>(packed);
      return Draw{static_cast<std::int64_t>(word & mask(sample_bits_)),
                  static_cast<std::int32_t>(word >> (sample_bits_ + label_bits_)),
                  static_cast<std::int32_t>((word >> sample_bits_) & mask(label_bits_))};
    }

   private:
    static std::uint64_t mask(int bits) noexcept { return (std::uint64_t{1} << bits) - 1; }

    EpochOutput out_;
    int sample_bits_;
    int label_bits_;
  };

  // A class's draw cursor in one epoch (Draws): everything a draw touches, in one place for the cache.
  struct Cursor {
    std::int64_t begin = 0;         // the class's range of the pool (and of the consumed flags)
    std::int64_t end = 0;
    std::int64_t members = 0;       // where its members start in the class index
    std::int64_t position = 0;      // next draw's place in the pool
    std::int64_t first_pass = 0;    // pass and offset of the class's first draw in the epoch
    std::int64_t first_offset = 0;
    std::uint64_t key_prefix = 0;   // stream_key_prefix of the pool passes; with replacement, the draw key
    std::int32_t pass = 0;          // passes begun since the epoch's first draw
    std::int32_t loaded = -1;       // the pass whose order the pool holds
  };

  // Buffers of a fill_epoch call, kept between calls so that their pages are not faulted in anew.
  struct Workspace {
    std::vector<Cursor> cursors;             // per class, in the Draws' order
    std::vector<std::int64_t> pool;          // per class (CSR, in the Draws' order): the loaded pass, sample | kConsumed
    std::vector<std::uint8_t> consumed;      // per class member (in its class's pool range): emitted in the first pass before the epoch
    std::vector<std::int32_t> pass_order;    // scratch: a pass as class-local positions
    std::vector<std::uint32_t> times_seen;   // with replacement: draws of each sample so far this epoch
    std::vector<std::int32_t> slots;         // an epoch's class slots when they cannot go to the output
    // Assembling one bucket of a whole epoch (fill_whole_epoch):
    std::vector<std::int32_t> group_of;      // per slot: its class's group in the bucket
    std::vector<std::int32_t> group_next;    // per group: its next draw's place in the bucket
    std::vector<std::int32_t> group_label;   // per group: its class
    std::vector<std::int64_t> bucket_indices;
    std::vector<std::int32_t> bucket_repeats;
    std::vector<std::int64_t> packed_draws;  // with packed staging: the bucket's draws
    // Batched epochs (fill_batched):
    std::vector<std::int64_t> staged_indices;  // per room (group subtask) of a window: its draw
    std::vector<std::int32_t> staged_labels;   // (packed into staged_indices where it fits)
    std::vector<std::int32_t> staged_repeats;
    std::vector<std::uint8_t> wanted;          // per room: its slot is this call's
    std::vector<std::int32_t> batch_values;    // a batch's slots in their places, unless they wait in the output's labels
  };

  // Hands a cached Workspace to one call at a time; concurrent calls get fresh ones.
  class WorkspaceLease {
   public:
    explicit WorkspaceLease(const BalancedSampler& owner) : owner_(owner) {
      std::lock_guard<std::mutex> lock(owner_.workspace_mutex_);
      workspace_ = std::move(owner_.workspace_);
      if (!workspace_) workspace_ = std::make_unique<Workspace>();
    }
    ~WorkspaceLease() {
      std::lock_guard<std::mutex> lock(owner_.workspace_mutex_);
      owner_.workspace_ = std::move(workspace_);
    }
    WorkspaceLease(const WorkspaceLease&) = delete;
    WorkspaceLease& operator=(const WorkspaceLease&) = delete;
    Workspace& workspace() noexcept { return *workspace_; }

   private:
    const BalancedSampler& owner_;
    std::unique_ptr<Workspace> workspace_;
  };

  // The per-class draw cursors of one epoch, and the pool orders they read.
  class Draws {
   public:
    // Cursors are numbered by `order` (a permutation of the classes; null: by class), which also
    // lays out the pool, so that visiting classes in that order reads both in order.
    Draws(const BalancedSampler& sampler, std::int64_t epoch, Workspace& workspace, const std::int32_t* order)
        : replacement_(sampler.options_.replacement),
          index_(sampler.index_),
          work_(workspace),
          pack_words_(sampler.options_.pack_words),
          sample_bits_(bits_for(index_.num_samples() - 1)),
          cursors_(workspace.cursors) {
      cursors_.assign(static_cast<std::size_t>(index_.num_classes()), Cursor{});
      consumed_known_.assign(cursors_.size(), 0);
      std::int64_t pool = 0;
      for (std::size_t k = 0; k < cursors_.size(); ++k) {
        const auto c = order != nullptr ? static_cast<std::size_t>(order[k]) : k;
        const auto cls = static_cast<std::int64_t>(c);
        const std::int64_t count = index_.count(cls);
        if (count == 0) continue;
        const auto first_draw = static_cast<uint128>(epoch) * static_cast<std::uint64_t>(sampler.quotas_[c]);
        if (first_draw >> 62) throw std::overflow_error("epoch too large for this class's draw counter");
        Cursor& cursor = cursors_[k];
        cursor.first_pass = static_cast<std::int64_t>(first_draw) / count;
        cursor.first_offset = static_cast<std::int64_t>(first_draw) % count;
        cursor.members = index_.offset(cls);
        cursor.begin = pool;
        cursor.end = pool + count;
        cursor.position = cursor.begin + cursor.first_offset;
        pool += count;
        cursor.key_prefix = sampler.key_prefixes_[c];
      }
      const auto samples = static_cast<std::size_t>(index_.num_samples());
      if (replacement_) {
        work_.times_seen.assign(samples, 0);
      } else {
        work_.pool.resize(samples);
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
      const std::int64_t size = cursor.end - cursor.begin;
      const std::int64_t place = cursor.position - cursor.begin + count;
      cursor.pass += static_cast<std::int32_t>(place / size);
      cursor.position = cursor.begin + place % size;
    }

    // Starts loading what take(c) will read: the cursor first, its pool entry a few draws later.
    void prefetch_cursor(std::int32_t c) const noexcept { __builtin_prefetch(&cursors_[static_cast<std::size_t>(c)]); }
    void prefetch_entry(std::int32_t c) const noexcept {
      if (!replacement_) {
        __builtin_prefetch(work_.pool.data() + cursors_[static_cast<std::size_t>(c)].position);
      }
    }

    // Starts loading the pool entries and members that take_each(c) reads first.
    void prefetch_class(std::int32_t c) const noexcept {
      const Cursor& cursor = cursors_[static_cast<std::size_t>(c)];
      if (!replacement_) __builtin_prefetch(work_.pool.data() + cursor.position);
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
        const auto member = static_cast<std::int64_t>(scale_to_range(
            stream_value(cursor.key_prefix, static_cast<std::uint64_t>(draw)), static_cast<std::uint64_t>(count)));
        sample = index_.members()[static_cast<std::size_t>(cursor.members + member)];
        repeats = static_cast<std::int32_t>(work_.times_seen[static_cast<std::size_t>(sample)]++);
      } else {
        if (cursor.loaded != cursor.pass) load_pass(cls, cursor.pass);
        const std::int64_t entry = work_.pool[static_cast<std::size_t>(cursor.position)];
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
      if (replacement_) {
        for (std::int64_t k = 0; k < count; ++k) {
          std::int32_t repeats;
          const std::int64_t sample = take(c, repeats);
          emit(sample, repeats);
        }
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
        const std::int64_t* entries = work_.pool.data() + cursor.position;
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

    // Puts class c's pass `pass` (counted from the epoch's first) in the pool: the members in the
    // order of stream (seed, kPoolPass, c, absolute pass) by inside-out Fisher-Yates (member i goes
    // to place below_u32(i + 1), for i >= 1: a class has at most 2^31 - 1 members), which reads the
    // members in order and writes each once.
    void load_pass(std::size_t c, std::int32_t pass) {
      Cursor& cursor = cursors_[c];
      const std::int64_t count = cursor.end - cursor.begin;
      std::int64_t* order = work_.pool.data() + cursor.begin;
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
        const std::int32_t* positions = work_.pass_order.data();
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
        work_.pass_order.resize(static_cast<std::size_t>(count));
        std::int32_t* order = work_.pass_order.data();
        shuffle_pass(c, 0, order, count, [](std::int64_t i) { return static_cast<std::int32_t>(i); });
        for (std::int64_t k = 0; k < count; ++k) consumed[order[k]] = k < cursor.first_offset ? 1 : 0;
        consumed_known_[c] = 1;
      }
      return consumed;
    }

    // The consumed flags of every class (by pool place), allocated on first use.
    std::uint8_t* consumed_flags() {
      if (work_.consumed.size() != static_cast<std::size_t>(index_.num_samples())) {
        work_.consumed.resize(static_cast<std::size_t>(index_.num_samples()));
      }
      return work_.consumed.data();
    }

    const bool replacement_;
    const ClassIndex& index_;
    Workspace& work_;
    const bool pack_words_;
    const int sample_bits_;  // bits of the largest sample index
    std::vector<Cursor>& cursors_;
    std::vector<std::uint8_t> consumed_known_;  // per class: consumed_members was computed
  };

  std::uint64_t epoch_order_key(std::int64_t epoch) const noexcept {
    return stream_key(options_.seed, StreamDomain::kEpochOrder, static_cast<std::uint64_t>(epoch), 0);
  }

  // The same stream as arrange_slots followed by draws in slot order, built without a random memory
  // access per slot: each class's draws are taken in order and written to its places in the
  // buckets (SlotBuckets keeps them in draw order), then every bucket is shuffled in cache the way
  // arrange_slots shuffles it, each class's draws staying in order. Classes go in SlotBuckets'
  // class order, which keeps the buckets being written to few at a time.
  void fill_whole_epoch(std::int64_t epoch, Draws& draws, Workspace& work, const EpochOutput& out) const {
    const SlotBuckets buckets(quotas_, epoch_order_key(epoch));
    const PackedStaging packed(out, index_.num_samples(), index_.num_classes());
    // Packed staging pays where draws are scattered over the buckets, not where blocks write runs.
    const bool blocks = *std::max_element(quotas_.begin(), quotas_.end()) >= block_quota(buckets);
    if (!blocks && options_.pack_words && packed.fits(max_repeats_)) {
      fill_buckets(buckets, draws, work, out, packed);
    } else {
      fill_buckets(buckets, draws, work, out, PlainStaging{out});
    }
  }

  // Kept out of line: inlined into fill_unbatched (as GCC does in the Python module), the whole
  // epoch's loops compiled 15-25% slower at 10 and 1,000 classes.
  template <typename Staging>
  __attribute__((noinline)) void fill_buckets(const SlotBuckets& buckets, Draws& draws, Workspace& work,
                                              const EpochOutput& out, const Staging& staging) const {
    std::vector<std::int64_t> cursor = buckets.starts();
    const std::vector<std::int32_t>& order = buckets.class_order();
    const std::int64_t smallest_in_block = block_quota(buckets);
    const auto in_block = [&](std::size_t i) { return quotas_[static_cast<std::size_t>(order[i])] >= smallest_in_block; };
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
      draws.take_each(label, quotas_[c], [&](std::int64_t sample, std::int32_t repeats) {
        staging.put(cursor[static_cast<std::size_t>(walk.next())]++, sample, repeats, label);
      });
      ++i;
    }
    if (!assembled) {
      for (std::int64_t b = 0; b < buckets.count(); ++b) assemble_bucket(buckets, b, staging, work, out);
    }
  }

  // Classes with several draws in every bucket, filled bucket by bucket rather than class by
  // class, so that each bucket receives one run of all their draws (in class order) instead of
  // one short run per class. With `work`, each bucket is assembled as soon as it is filled, while
  // it is in cache. Blocks hold up to kBlockClasses classes of at least kBlockDrawsPerBucket
  // draws per bucket (measured: with fewer, the per-bucket set-up of each class costs more than
  // the scattered writes of a class-by-class fill).
  static constexpr std::size_t kBlockClasses = 4096;
  static constexpr std::int64_t kBlockDrawsPerBucket = 4;
  // The smallest quota filled in blocks.
  static std::int64_t block_quota(const SlotBuckets& buckets) noexcept { return kBlockDrawsPerBucket * buckets.count(); }
  template <typename Staging>
  void fill_block(const SlotBuckets& buckets, const std::int32_t* classes, std::size_t count, Draws& draws,
                  std::vector<std::int64_t>& cursor, const Staging& staging, const EpochOutput& out,
                  Workspace* work) const {
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

  // Bucket b's slots hold its draws grouped by class; puts them in the bucket's shuffled order.
  static void assemble_bucket(const SlotBuckets& buckets, std::int64_t b, const PlainStaging&, Workspace& work,
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
  static void assemble_bucket(const SlotBuckets& buckets, std::int64_t b, const PackedStaging& staging,
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

  // The shuffle of bucket b, whose slots hold draws grouped by class (label_at(j) is slot j's
  // class), as arrange_slots applies it to the grouped labels: calls emit(j, from, label) for
  // every slot j of the shuffled bucket, `from` being the grouped place of its draw.
  template <typename LabelAt, typename Emit>
  static void shuffle_groups(const SlotBuckets& buckets, std::int64_t b, Workspace& work, LabelAt&& label_at,
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

  static void write(const EpochOutput& out, std::int64_t slot, const Draw& draw) noexcept {
    out.indices[slot] = draw.index;
    out.repeats[slot] = draw.repeats;
    out.labels[slot] = draw.label;
  }

  void fill_unbatched(std::int64_t epoch, std::int64_t start, std::int64_t stop, Draws& draws, Workspace& work,
                      const EpochOutput& out) const {
    std::vector<std::int32_t>& scratch = work.slots;
    const std::int64_t shards = options_.num_shards;
    const std::int64_t total = options_.samples_per_epoch;
    if (shards == 1 && start == 0 && stop == total) {
      fill_whole_epoch(epoch, draws, work, out);
      return;
    }
    // Otherwise the classes of the whole epoch's slots first, then the draws of the asked-for ones.
    scratch.resize(static_cast<std::size_t>(total));
    std::int32_t* slots = scratch.data();
    arrange_slots(quotas_, epoch_order_key(epoch), slots);

    std::int64_t t = 0;
    if (shards == 1) {
      // With many classes, cursors and pools do not fit in cache: prefetch them ahead of use.
      constexpr std::int64_t kCursorAhead = 32;
      constexpr std::int64_t kEntryAhead = 16;
      for (; t < start; ++t) draws.pass_over(slots[t]);
      for (; t < stop; ++t) {
        if (t + kCursorAhead < stop) draws.prefetch_cursor(slots[t + kCursorAhead]);
        if (t + kEntryAhead < stop) draws.prefetch_entry(slots[t + kEntryAhead]);
        const std::int64_t j = t - start;
        out.labels[j] = slots[t];
        out.indices[j] = draws.take(slots[t], out.repeats[j]);
      }
      return;
    }
    for (std::int64_t j = 0; j < stop - start; ++j, ++t) {
      const std::int64_t owned = (start + j) * shards + options_.shard_index;
      for (; t < owned; ++t) draws.pass_over(slots[t]);
      out.labels[j] = slots[t];
      out.indices[j] = draws.take(slots[t], out.repeats[j]);
    }
  }

  // Batched: BatchSchedule gives each batch's classes, placed in the batch in a random order, and
  // every class takes its draws class by class, a window of batches at a time, in three passes:
  // the window's schedule gives each place a room in a staging area; every class takes its draws
  // of the window in one run into its rooms; then each place takes its staged draw, in place
  // order. Every pass stays in cache or streams, instead of a random memory access per slot for
  // each class's cursor and pool.
  //
  // Rooms: member d of a group of K (counted from the group's first turn in the window) owns
  // rooms d, d + K, d + 2K, ... of the group's part, which are its subtasks in the window, so
  // members taking turns write side by side in a few rows. A class's draws go to its places in
  // place order: with at most one slot per batch its subtasks are in that order already; a class
  // with several slots in a batch gives out its rooms in the order of its places instead.
  void fill_batched(std::int64_t epoch, std::int64_t start, std::int64_t stop, Workspace& work,
                    const EpochOutput& out) const {
    const WindowLayout layout(*this);
    const auto rooms = static_cast<std::size_t>(layout.room_start.back());
    work.staged_indices.resize(rooms);
    const PackedStaging packed(EpochOutput{work.staged_indices.data(), nullptr, nullptr}, index_.num_samples(),
                               index_.num_classes());
    if (options_.pack_words && packed.fits(max_repeats_)) {
      fill_batched(epoch, start, stop, layout, work, out, packed);
      return;
    }
    work.staged_labels.resize(rooms);
    work.staged_repeats.resize(rooms);
    const PlainStaging plain{EpochOutput{work.staged_indices.data(), work.staged_labels.data(), work.staged_repeats.data()}};
    fill_batched(epoch, start, stop, layout, work, out, plain);
  }

  // How fill_batched divides an epoch's batches into windows, and a window's staging area into
  // rooms: per group, the most subtasks a window can hold, fewer than window * W + 2 for a group
  // of weight W (its count is within 1 of exact after every prefix of batches).
  struct WindowLayout {
    explicit WindowLayout(const BalancedSampler& sampler) {
      const QuotaGroups& groups = sampler.groups_;
      const std::int64_t batch = sampler.options_.batch_size;
      const std::int64_t num_batches = sampler.options_.samples_per_epoch / batch;
      window = std::min(num_batches, std::max<std::int64_t>(1, sampler.window_slots() / batch));
      room_start.assign(groups.count() + 1, 0);
      several_per_batch.resize(groups.count());
      for (std::size_t g = 0; g < groups.count(); ++g) {
        several_per_batch[g] = groups.quota(g) > num_batches ? 1 : 0;
        const std::int64_t weight = groups.quota(g) * groups.size(g);  // <= 2^46
        const auto fraction = static_cast<uint128>(weight % num_batches) * static_cast<std::uint64_t>(window) /
                              static_cast<std::uint64_t>(num_batches);
        room_start[g + 1] = room_start[g] + weight / num_batches * window + static_cast<std::int64_t>(fraction) + 2;
      }
      // Rooms are int32 in `sources`: window_slots() keeps them below 2^26 + 2 per group.
      if (room_start.back() > INT32_MAX) throw std::invalid_argument("too many classes for batched epochs");
    }
    std::int64_t window = 0;                      // batches per window
    std::vector<std::int64_t> room_start;         // per group (CSR)
    std::vector<std::uint8_t> several_per_batch;  // per group: its members may have several slots in a batch
  };

  template <typename Staging>
  void fill_batched(std::int64_t epoch, std::int64_t start, std::int64_t stop, const WindowLayout& layout,
                    Workspace& work, const EpochOutput& out, const Staging& staging) const {
    const std::int64_t batch = options_.batch_size;
    const std::int64_t shards = options_.num_shards;
    const std::int64_t num_batches = options_.samples_per_epoch / batch;
    std::vector<std::int32_t> tie_order(quotas_.size());
    for (std::size_t c = 0; c < tie_order.size(); ++c) tie_order[c] = static_cast<std::int32_t>(c);
    RandomStream(stream_key(options_.seed, StreamDomain::kClassRank, static_cast<std::uint64_t>(epoch), 0))
        .shuffle(tie_order.data(), static_cast<std::int64_t>(tie_order.size()));
    BatchSchedule schedule(groups_, num_batches, tie_order);
    // Classes take their draws in turn order: number the cursors so (classes of quota 0 last).
    std::vector<std::int32_t> draw_order = schedule.member_order();
    for (std::size_t c = 0; c < quotas_.size(); ++c) {
      if (quotas_[c] == 0) draw_order.push_back(static_cast<std::int32_t>(c));
    }
    Draws draws(*this, epoch, work, draw_order.data());

    const std::size_t num_groups = groups_.count();
    const std::int64_t window = layout.window;
    const std::vector<std::int64_t>& room_start = layout.room_start;
    const std::vector<std::uint8_t>& several_per_batch = layout.several_per_batch;
    const auto rooms = static_cast<std::size_t>(room_start.back());
    // Each output place's staged draw (its room, or ~index if its class gives out rooms by place)
    // waits in the place's label until the gather below reads it and writes the place.
    std::int32_t* sources = out.labels;
    std::vector<std::int64_t> window_first(num_groups);
    // Classes with several slots in a batch, by group and turn: their next room in the window and
    // the step to the one after. A slot of theirs is placed as ~(its index here), others as their room.
    std::vector<std::int64_t> first_by_place(num_groups, 0);
    std::int64_t by_place = 0;
    for (std::size_t g = 0; g < num_groups; ++g) {
      first_by_place[g] = by_place;
      if (several_per_batch[g] != 0) by_place += groups_.size(g);
    }
    struct NextRoom {
      std::int32_t room;
      std::int32_t step;
    };
    std::vector<NextRoom> next_room(static_cast<std::size_t>(by_place));
    const auto room_by_place = [&](std::int32_t index) {
      NextRoom& next = next_room[static_cast<std::size_t>(index)];
      const std::int32_t room = next.room;
      next.room += next.step;
      return room;
    };
    // Calls use(value) for every slot of a run that BatchSchedule::next_runs gives.
    const auto slot_values = [&](auto&& use) {
      return [&](std::int32_t group, std::int64_t subtask, std::int64_t count, std::int64_t turn) {
        const auto g = static_cast<std::size_t>(group);
        if (several_per_batch[g] == 0) {
          const auto room = static_cast<std::int32_t>(room_start[g] + subtask - window_first[g]);
          for (std::int32_t k = 0; k < static_cast<std::int32_t>(count); ++k) use(room + k);
          return;
        }
        const std::int64_t size = groups_.size(g);
        for (std::int64_t k = 0; k < count; ++k) {
          use(~static_cast<std::int32_t>(first_by_place[g] + turn));
          turn = turn + 1 == size ? 0 : turn + 1;
        }
      };
    };
    work.batch_values.resize(static_cast<std::size_t>(batch));

    const std::int64_t last_batch = ((stop - 1) / batch) * shards + options_.shard_index;
    for (std::int64_t first = 0; first <= last_batch; first += window) {
      const std::int64_t end = std::min(first + window, last_batch + 1);
      for (std::size_t g = 0; g < num_groups; ++g) {
        window_first[g] = schedule.scheduled(g);
        if (several_per_batch[g] == 0) continue;
        // The member at turn t has rooms d, d + K, ... where d counts turns from the window's first.
        const std::int64_t size = groups_.size(g);
        const std::int64_t first_turn = window_first[g] % size;
        for (std::int64_t t = 0; t < size; ++t) {
          const std::int64_t d = t >= first_turn ? t - first_turn : t - first_turn + size;
          next_room[static_cast<std::size_t>(first_by_place[g] + t)] =
              NextRoom{static_cast<std::int32_t>(room_start[g] + d), static_cast<std::int32_t>(size)};
        }
      }
      // Unless the call wants every slot of the window, classes skip the draws it does not want.
      const bool whole = shards == 1 && first * batch >= start && end * batch <= stop;
      if (!whole) work.wanted.resize(rooms);
      std::uint8_t* wanted = work.wanted.data();
      std::int64_t wanted_begin = -1;
      std::int64_t wanted_end = -1;
      for (std::int64_t b = first; b < end; ++b) {
        const std::int64_t local_start = (b / shards) * batch;  // this batch's position in its shard
        if (b % shards != options_.shard_index || local_start + batch <= start) {
          schedule.next_runs(slot_values([&](std::int32_t value) { wanted[value >= 0 ? value : room_by_place(~value)] = 0; }));
          continue;
        }
        // The batch in a uniformly random order: inside-out Fisher-Yates of its slots' values as
        // scheduled, straight into the batch's places when the window is whole.
        std::int32_t* placed = whole ? sources + (local_start - start) : work.batch_values.data();
        RandomStream random(stream_key(options_.seed, StreamDomain::kBatchOrder, static_cast<std::uint64_t>(epoch),
                                       static_cast<std::uint64_t>(b)));
        std::uint32_t scheduled = 0;
        const auto place = [&](std::int32_t value) {
          if (scheduled == 0) {
            placed[0] = value;
          } else {
            const std::uint32_t k = random.below_u32(scheduled + 1);
            placed[scheduled] = placed[k];
            placed[k] = value;
          }
          ++scheduled;
        };
        schedule.next_runs(slot_values(place));
        const std::int64_t batch_begin = std::max(local_start, start) - start;
        const std::int64_t batch_end = std::min(local_start + batch, stop) - start;
        if (wanted_begin < 0) wanted_begin = batch_begin;
        wanted_end = batch_end;
        // A whole window's sources keep the placed values; the gather below turns them into rooms.
        if (whole) continue;
        for (std::int64_t k = 0; k < batch; ++k) {
          const std::int32_t value = placed[k];
          const std::int32_t room = value >= 0 ? value : room_by_place(~value);
          const std::int64_t j = local_start + k - start;
          const bool is_wanted = j >= batch_begin && j < batch_end;
          wanted[room] = is_wanted ? 1 : 0;
          if (is_wanted) sources[j] = room;
        }
      }
      for (std::size_t g = 0; g < num_groups; ++g) {
        take_turns(schedule, g, window_first[g], room_start[g], whole ? nullptr : wanted, staging, draws);
      }
      // Each place takes its staged draw, in place order (which is the order rooms are given out by place).
      for (std::int64_t j = std::max<std::int64_t>(wanted_begin, 0); j < wanted_end; ++j) {
        const std::int32_t value = sources[j];
        write(out, j, staging.get(value >= 0 ? value : room_by_place(~value)));
      }
    }
  }

  // Group g's draws of one window, class by class into their rooms (from first_room, in subtask
  // order): the group's subtasks taken .. scheduled(g) - 1, member (taken + d) mod K taking every
  // K-th from d. Classes none of whose rooms are wanted (when `wanted` is given) skip their draws.
  template <typename Staging>
  void take_turns(const BatchSchedule& schedule, std::size_t g, std::int64_t taken, std::int64_t first_room,
                  const std::uint8_t* wanted, const Staging& staging, Draws& draws) const {
    const std::int64_t count = schedule.scheduled(g) - taken;
    const std::int64_t size = groups_.size(g);
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

  // Slots per window of a batched epoch (fill_batched). Where kCachedDrawsPerClass draws of
  // every class fit in cache (the staging area is 8 bytes per slot), that many. Where they do not,
  // kSpilledDrawsPerClass, up to kLargestWindow: every window costs each class a visit (cursor,
  // pool and staging rows out of cache), which a few hundred draws repay. Measured, batches of
  // 64: 100,000 classes, 4.6e7 slots: 72 M/s with 64 draws per class per window, 126 with one
  // window; 10,000 classes, 4.6e7 slots: 96 with one window, 111 with 512 draws per class.
  std::int64_t window_slots() const noexcept {
    const auto classes = static_cast<std::int64_t>(quotas_.size());
    if (kCachedDrawsPerClass * classes <= kCachedWindow) {
      return std::max<std::int64_t>(kCachedDrawsPerClass * classes, std::int64_t{1} << 14);
    }
    return std::min(kSpilledDrawsPerClass * classes, kLargestWindow);
  }
  static constexpr std::int64_t kCachedDrawsPerClass = 64;
  static constexpr std::int64_t kCachedWindow = std::int64_t{1} << 17;
  static constexpr std::int64_t kSpilledDrawsPerClass = 512;
  // About 0.8 GB of staging and sources; keeps rooms far below 2^31.
  static constexpr std::int64_t kLargestWindow = std::int64_t{1} << 26;

  ClassIndex index_;
  SamplerOptions options_;
  std::vector<std::int64_t> quotas_;
  QuotaGroups groups_{{}};
  std::int64_t max_repeats_ = 0;  // a bound on any draw's repeats in an epoch
  std::vector<std::uint64_t> key_prefixes_;  // per class: its pool passes' key prefix (with replacement, its draw key)
  mutable std::mutex workspace_mutex_;
  mutable std::unique_ptr<Workspace> workspace_;
};

}  // namespace fast_balance
