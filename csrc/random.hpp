// Counter-based random streams.
//
// Every random decision of the sampler is read from a stream named by a tuple of integers,
// so results depend only on (seed, what, which) and never on call order or thread count. The
// determinism contract, docs/determinism.md, says which stream decides what.
//
// Derivation (fixed; changing it changes every stream):
//   key(seed, domain, a, b) = mix(mix(mix(mix(seed) ^ domain) ^ a) ^ b)
//   value number i of the stream with key k = mix(k + (i + 1) * 0x9e3779b97f4a7c15)
// where mix is the SplitMix64 finaliser. A stream is therefore SplitMix64 started at its key,
// and any value of it can be computed directly from its number.
//
// Bounded integers: below(n) takes one 64-bit value per try; Fisher-Yates shuffles of at most 2^32
// items take 32-bit halves of the values instead (low half first, Lemire's method on 32 bits),
// which halves the stream's cost, the larger part of a shuffle's.
#pragma once

#include <cstdint>

namespace fast_balance {

// For the few small functions of the hot loops: compilers otherwise weigh their inlining by the
// size of the translation unit, and the Python module's is large enough for GCC to decline.
#define FAST_BALANCE_HOT_INLINE inline __attribute__((always_inline))

// What a stream is used for; part of its key so that streams of different purposes never coincide.
enum class StreamDomain : std::uint64_t {
  kPoolPass = 1,         // (class, pass): order of a class's pool in one pass
  kEpochOrder = 2,       // (epoch, 0): order of the classes' slots in an unbatched epoch
  kBatchOrder = 3,       // (epoch, batch): order of the slots inside one batch
  kClassRank = 4,        // (epoch, 0): tie-breaking rank of the classes in the batch schedule
  kReplacementDraw = 5,  // (class, 0): independent draws of a class when sampling with replacement
  kReservoir = 6,        // (class, 0): the streaming rebalancer's reservoir choices
  kWeightedLine = 7,     // (class, 0): the fixed order of a weighted class's line (weighted_pool.hpp)
  kWeightedOffset = 8,   // (class, 0): where a weighted class's first epoch starts on its line
  kCopySpread = 9,       // (class, epoch): where a weighted class's copies go in the epoch (copy_spread.hpp)
  kWeightedDraw = 10,    // (class, 0): draws with replacement in proportion to sample weights (alias_table.hpp)
  kGrainRecord = 11,     // (index, 0): a Grain record's NumPy generator (keyed in fast_balance.grain)
};

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The key in two steps, for callers that derive many keys with the same (seed, domain, a):
// stream_key(seed, domain, a, b) == stream_key_last(stream_key_prefix(seed, domain, a), b).
constexpr std::uint64_t stream_key_prefix(std::uint64_t seed, StreamDomain domain, std::uint64_t a) noexcept {
  return mix64(mix64(mix64(seed) ^ static_cast<std::uint64_t>(domain)) ^ a);
}

constexpr std::uint64_t stream_key_last(std::uint64_t prefix, std::uint64_t b) noexcept { return mix64(prefix ^ b); }

constexpr std::uint64_t stream_key(std::uint64_t seed, StreamDomain domain, std::uint64_t a,
                                   std::uint64_t b) noexcept {
  return stream_key_last(stream_key_prefix(seed, domain, a), b);
}

// Value `i` of the stream `key`, without generating the values before it.
constexpr std::uint64_t stream_value(std::uint64_t key, std::uint64_t i) noexcept {
  return mix64(key + (i + 1) * kGolden);
}

// Maps a uniform 64-bit value to [0, n) by multiply-high; the bias is below n / 2^64.
inline std::uint64_t scale_to_range(std::uint64_t value, std::uint64_t n) noexcept {
  __extension__ typedef unsigned __int128 u128;
  return static_cast<std::uint64_t>((static_cast<u128>(value) * n) >> 64);
}

class RandomStream {
 public:
  explicit RandomStream(std::uint64_t key) noexcept : state_(key) {}

  FAST_BALANCE_HOT_INLINE std::uint64_t next() noexcept {
    state_ += kGolden;
    return mix64(state_);
  }

  // Exactly uniform on [0, n) for n >= 1 (Lemire's multiply-and-reject).
  FAST_BALANCE_HOT_INLINE std::uint64_t below(std::uint64_t n) noexcept {
    __extension__ typedef unsigned __int128 u128;
    return lemire<std::uint64_t, u128, &RandomStream::next>(n);
  }

  // The same from the stream's 32-bit halves.
  FAST_BALANCE_HOT_INLINE std::uint32_t below_u32(std::uint32_t n) noexcept {
    return lemire<std::uint32_t, std::uint64_t, &RandomStream::next_half>(n);
  }

  // Fisher-Yates shuffle of values[0, n): indices by below_u32 for n <= 2^32, else by below.
  template <typename T>
  void shuffle(T* values, std::int64_t n) noexcept {
    const bool halves = n <= (std::int64_t{1} << 32);
    for (std::int64_t i = n - 1; i > 0; --i) {
      const auto j = static_cast<std::int64_t>(halves ? below_u32(static_cast<std::uint32_t>(i + 1))
                                                      : below(static_cast<std::uint64_t>(i) + 1));
      const T tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
  }

 private:
  // Lemire's method on Word-sized values of Draw, with products in Wide (twice as wide).
  template <typename Word, typename Wide, Word (RandomStream::*Draw)() noexcept>
  FAST_BALANCE_HOT_INLINE Word lemire(Word n) noexcept {
    constexpr int kBits = 8 * sizeof(Word);
    Wide product = static_cast<Wide>((this->*Draw)()) * n;
    auto low = static_cast<Word>(product);
    if (low < n) {
      const auto threshold = static_cast<Word>(static_cast<Word>(0 - n) % n);
      while (low < threshold) {
        product = static_cast<Wide>((this->*Draw)()) * n;
        low = static_cast<Word>(product);
      }
    }
    return static_cast<Word>(product >> kBits);
  }

  FAST_BALANCE_HOT_INLINE std::uint32_t next_half() noexcept {
    if (half_pending_) {
      half_pending_ = false;
      return static_cast<std::uint32_t>(half_ >> 32);
    }
    half_ = next();
    half_pending_ = true;
    return static_cast<std::uint32_t>(half_);
  }

  std::uint64_t state_;
  std::uint64_t half_ = 0;      // the value whose high half is still to be used
  bool half_pending_ = false;
};

}  // namespace fast_balance
