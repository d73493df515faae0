// Streaming rebalance: class-indexed buffers over a stream that cannot be indexed.
//
// Records arrive in stream order with a class label. Each class c of weight w_c > 0 keeps
//   - a FIFO of fresh records (read, not yet emitted), at most `capacity_per_class`, and
//   - a replay reservoir of emitted records, at most `capacity_per_class`, a uniform sample of
//     the class's emitted records (reservoir sampling, Algorithm R).
// Records of weight-0 classes are counted when read and dropped. A class costs
// StreamSchedule::kBytesPerClass (16) bytes until its first record; its buffers and its place in
// the schedule are allocated then and grow with the records it holds.
//
// Turns. W = sum of the weights. Time is counted in virtual slots N = 0, 1, 2, ...; every
// emission takes one slot. Class c's j-th turn (j = 1, 2, ...) is released at slot
// s_c + floor((j - 1) W / w_c) and due at slot s_c + ceil(j W / w_c) (its deadline), where the
// start slot s_c is 0, or, for a class that was skipped (below), the value of N when its first
// record is read. Each slot goes to the class with the earliest deadline among those whose next
// turn is released, ties to the lower class number. Classes that have no record yet and were
// never skipped take part with their first turn (start 0). When no class can take the slot, N
// moves to the earliest release (only possible while some class is skipped). Weight-0 classes
// never take turns.
// Consequences (proof in stream_schedule.hpp): while no class is skipped, N counts emissions and
// after every prefix of N emissions class c has emitted floor(N w_c / W) or ceil(N w_c / W)
// records. In general, every class that is not waiting to come back from a skip has taken floor
// or ceil of (N - s_c) w_c / W turns: a class that starts late neither catches up in a burst nor
// holds the others back.
//
// A turn of class c (push). If c has a fresh record, it emits the oldest. Otherwise one more
// record is read, if no class's FIFO is full (so reading never forces a record out) and the
// input has one, and the turn is decided again; when the input has no record yet, push returns
// and waits for the next push. When no record can be read, c replays a record of its reservoir
// (`repeats` = how many times that record was emitted before); if c has no record at all, it is
// skipped: it takes no turns until its first record is read. The pass ends once the input has
// ended (a push with `final`) and no fresh record is left.
//
// Reservoir choices. Class c reads the random stream key(seed, 6, c, 0) (random.hpp) in order,
// one below(n) (Lemire, 64-bit values) per choice. The first `capacity_per_class` records the
// class emits fresh are appended to its reservoir; when its m-th fresh record is emitted with the
// reservoir full (m > capacity), i = below(m): if i < capacity the record replaces the reservoir's
// record i (counted in `replaced`), else it is not kept. A replay emits the reservoir's record
// below(size).
//
// Everything is a function of the options, the seed and the input order, not of how the input is
// split into pushes: no clocks, no global state. The payload is opaque (any movable, copyable type,
// e.g. serialized bytes). Not thread-safe: callers that share one serialise their calls.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "random.hpp"
#include "stream_schedule.hpp"

namespace fast_balance {

struct RebalanceOptions {
  std::vector<std::uint64_t> weights;  // per class; 0 = the class is not emitted
  std::int64_t capacity_per_class = 0;
  std::uint64_t seed = 0;
};

struct RebalanceStats {
  std::int64_t read = 0;            // records taken from the input, weight-0 classes excepted
  std::int64_t emitted = 0;         // records emitted, fresh and replayed
  std::int64_t fresh = 0;           // records emitted for the first time
  std::int64_t replays = 0;         // emissions of a record emitted before
  std::int64_t replaced = 0;        // emitted records pushed out of a full reservoir
  std::int64_t unweighted = 0;      // records of weight-0 classes, not emitted by design
  std::int64_t held_bytes = 0;      // payload bytes in memory now
  std::int64_t peak_held_bytes = 0;
};

template <typename Payload>
struct Emission {
  Payload payload;
  std::int32_t label;
  std::int32_t repeats;  // emissions of this record before this one (0 = first view)
};

// Bytes a payload holds; specialise for payload types without size().
template <typename Payload>
std::int64_t payload_bytes(const Payload& payload) {
  return static_cast<std::int64_t>(payload.size());
}

// A FIFO that allocates nothing before its first element and grows up to a given bound.
template <typename T>
class BoundedFifo {
 public:
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  // Requires size() < limit.
  void push(T value, std::size_t limit) {
    if (size_ == slots_.size()) grow(limit);
    std::size_t at = head_ + size_;
    if (at >= slots_.size()) at -= slots_.size();
    slots_[at] = std::move(value);
    ++size_;
  }

  T pop() {
    T value = std::move(slots_[head_]);
    head_ = head_ + 1 == slots_.size() ? 0 : head_ + 1;
    --size_;
    return value;
  }

 private:
  void grow(std::size_t limit) {
    std::vector<T> larger(std::min(limit, std::max<std::size_t>(2 * slots_.size(), 2)));
    for (std::size_t i = 0; i < size_; ++i) larger[i] = pop_at(i);
    slots_.swap(larger);
    head_ = 0;
  }

  T pop_at(std::size_t i) {
    std::size_t at = head_ + i;
    if (at >= slots_.size()) at -= slots_.size();
    return std::move(slots_[at]);
  }

  std::vector<T> slots_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

template <typename Payload>
class StreamRebalancer {
 public:
  explicit StreamRebalancer(RebalanceOptions options)
      : schedule_(std::move(options.weights)), capacity_(options.capacity_per_class), seed_(options.seed) {
    if (capacity_ < 1) throw std::invalid_argument("capacity_per_class must be >= 1");
  }

  std::int64_t num_classes() const noexcept { return schedule_.num_classes(); }
  const RebalanceStats& stats() const noexcept { return stats_; }
  // True once the input has ended and every fresh record has been emitted.
  bool finished() const noexcept { return finished_; }

  // Takes the next `payloads` of the stream with their `labels` (as many) and appends to `out`
  // everything that can be emitted before more input is needed. `final`: the input ends after these.
  // Labels are all checked before anything changes.
  void push(std::vector<Payload>& payloads, const std::vector<std::int64_t>& labels, bool final,
            std::vector<Emission<Payload>>& out) {
    if (finished_) throw std::logic_error("the stream has already ended");
    if (payloads.size() != labels.size()) throw std::invalid_argument("payloads and labels differ in length");
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] < 0 || labels[i] >= num_classes()) {
        throw std::invalid_argument("label " + std::to_string(labels[i]) + " of the record at stream position " +
                                    std::to_string(stats_.read + stats_.unweighted + static_cast<std::int64_t>(i)) +
                                    " is outside [0, " + std::to_string(num_classes()) + ")");
      }
    }
    std::size_t next = 0;
    while (true) {
      const std::int32_t c = schedule_.next();
      const std::int32_t m = c >= 0 ? schedule_.member(c) : -1;
      if (m >= 0 && !buffers_[static_cast<std::size_t>(m)].fresh.empty()) {
        emit_fresh(c, m, out);
        continue;
      }
      if (full_classes_ == 0) {  // reading cannot overflow any class
        if (next < payloads.size()) {
          take(payloads[next], labels[next]);
          ++next;
          continue;
        }
        if (!final) return;  // wait for more input rather than replay too early
      }
      if (final && next == payloads.size() && fresh_total_ == 0) {
        finished_ = true;
        return;
      }
      if (m >= 0) {
        replay(c, m, out);
      } else if (c >= 0) {
        schedule_.skip(c);
      } else {
        return;  // no class can take a turn: only before any record, when reading is possible
      }
    }
  }

 private:
  struct Stored {
    Payload payload;
    std::int32_t emissions;  // times emitted so far
  };

  // What a class holds, allocated when its first record arrives.
  struct ClassBuffers {
    ClassBuffers(StreamSchedule::Turns first, std::uint64_t key) : turns(first), choices(key) {}
    StreamSchedule::Turns turns;
    BoundedFifo<Payload> fresh;
    std::vector<Stored> reservoir;
    std::int64_t fresh_emitted = 0;  // Algorithm R's count of records offered to the reservoir
    RandomStream choices;
  };

  void take(Payload& payload, std::int64_t label) {
    const auto c = static_cast<std::int32_t>(label);
    if (schedule_.weight(c) == 0) {
      ++stats_.unweighted;
      return;
    }
    if (schedule_.member(c) < 0) {
      buffers_.emplace_back(schedule_.join(c), stream_key(seed_, StreamDomain::kReservoir, static_cast<std::uint64_t>(c), 0));
    }
    ClassBuffers& buffers = buffers_[static_cast<std::size_t>(schedule_.member(c))];
    hold(payload_bytes(payload));
    buffers.fresh.push(std::move(payload), static_cast<std::size_t>(capacity_));
    ++fresh_total_;
    ++stats_.read;
    if (static_cast<std::int64_t>(buffers.fresh.size()) == capacity_) ++full_classes_;
  }

  void emit_fresh(std::int32_t c, std::int32_t m, std::vector<Emission<Payload>>& out) {
    ClassBuffers& buffers = buffers_[static_cast<std::size_t>(m)];
    if (static_cast<std::int64_t>(buffers.fresh.size()) == capacity_) --full_classes_;
    Payload payload = buffers.fresh.pop();
    --fresh_total_;
    // Algorithm R: the reservoir stays a uniform sample of the class's emitted records.
    ++buffers.fresh_emitted;
    std::vector<Stored>& reservoir = buffers.reservoir;
    if (static_cast<std::int64_t>(reservoir.size()) < capacity_) {
      if (reservoir.size() == reservoir.capacity()) {  // grow, but never past the capacity
        reservoir.reserve(static_cast<std::size_t>(
            std::min<std::int64_t>(capacity_, std::max<std::int64_t>(2 * static_cast<std::int64_t>(reservoir.size()), 2))));
      }
      reservoir.push_back(Stored{payload, 1});
    } else {
      const std::uint64_t slot = buffers.choices.below(static_cast<std::uint64_t>(buffers.fresh_emitted));
      if (slot < static_cast<std::uint64_t>(capacity_)) {
        Stored& victim = reservoir[slot];
        hold(-payload_bytes(victim.payload));  // the emitted record stays, in the victim's place
        victim = Stored{payload, 1};
        ++stats_.replaced;
      } else {
        hold(-payload_bytes(payload));  // emitted and not kept
      }
    }
    out.push_back(Emission<Payload>{std::move(payload), c, 0});
    ++stats_.fresh;
    ++stats_.emitted;
    schedule_.take_turn(c, buffers.turns);
  }

  void replay(std::int32_t c, std::int32_t m, std::vector<Emission<Payload>>& out) {
    ClassBuffers& buffers = buffers_[static_cast<std::size_t>(m)];
    Stored& chosen = buffers.reservoir[buffers.choices.below(buffers.reservoir.size())];
    out.push_back(Emission<Payload>{chosen.payload, c, chosen.emissions});
    if (chosen.emissions < std::numeric_limits<std::int32_t>::max()) ++chosen.emissions;
    ++stats_.replays;
    ++stats_.emitted;
    schedule_.take_turn(c, buffers.turns);
  }

  void hold(std::int64_t bytes) noexcept {
    stats_.held_bytes += bytes;
    stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, stats_.held_bytes);
  }

  StreamSchedule schedule_;
  std::vector<ClassBuffers> buffers_;  // by member number (StreamSchedule::member: in order of joining)
  std::int64_t capacity_;
  std::uint64_t seed_;
  std::int64_t full_classes_ = 0;  // classes whose fresh FIFO is at capacity
  std::int64_t fresh_total_ = 0;
  bool finished_ = false;
  RebalanceStats stats_;
};

}  // namespace fast_balance
