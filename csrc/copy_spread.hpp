// spread_copies: a weighted class's draws of one epoch in order, each sample's copies spread apart.
//
// Terms:
// * Bucket (of a spread, not SlotBuckets'): one of B = ceil(quota / kSpreadBucket) stretches of the
//   class's draws, arranged on its own in cache.
// * Word: a draw packed as [repeats (high 32 bits) | sample (low 32 bits)].
// * Group: a sample's copies in one bucket (several only when it has more copies than buckets).
// * Stride: the step between the places that consecutive draws of a bucket's list take.
//
// Copy j of a sample with x copies goes to bucket floor((j * B + phase) / x), the phase random in
// [0, B): the copies spread evenly over the epoch, at most one per bucket while x <= B, and in order
// of j, so a copy's repeats is j. Inside a bucket of `size` draws the groups are listed in a random
// order and the k-th draw of the list takes place (k * stride + rotation) mod size. The stride is
// near 0.38 size, spreads its multiples evenly (small continued-fraction quotients, as the golden
// ratio's), and is such that two places a multiple d < size / 3 of it apart are never next to each
// other, around the end included: a group's copies are spread through its bucket, and while it
// holds at most a third of the bucket none are side by side, whatever the rotation. The rotation, random, moves on until the bucket does not
// begin with the sample that ended the one before it. Randomness (docs/determinism.md): the phase of
// the member at place t of the line is value t of the stream `key`, scaled to [0, B); bucket b's
// group order (Fisher-Yates) and then its rotation (below(size)) read stream mix64(key ^ mix64(b + 1)).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "random.hpp"
#include "weighted_pool.hpp"

namespace fast_balance {

inline constexpr std::int64_t kSpreadBucket = std::int64_t{1} << 15;

inline constexpr std::uint64_t word_of(std::uint32_t sample, std::int64_t repeats) noexcept {
  return static_cast<std::uint64_t>(sample) | static_cast<std::uint64_t>(repeats) << 32;
}
inline constexpr std::int64_t sample_of(std::uint64_t word) noexcept { return static_cast<std::int64_t>(word & 0xffffffffULL); }
inline constexpr std::int32_t repeats_of(std::uint64_t word) noexcept { return static_cast<std::int32_t>(word >> 32); }

// `take ? a : b` computed without a branch, which a random `take` would mispredict half the time.
FAST_BALANCE_HOT_INLINE std::uint64_t* choose(bool take, std::uint64_t* a, std::uint64_t* b) noexcept {
  const std::uintptr_t mask = std::uintptr_t{0} - static_cast<std::uintptr_t>(take);
  return reinterpret_cast<std::uint64_t*>((reinterpret_cast<std::uintptr_t>(a) & mask) |
                                          (reinterpret_cast<std::uintptr_t>(b) & ~mask));
}

// t^-1 modulo n (t coprime to n, n >= 2), by the extended Euclidean algorithm.
inline std::int64_t inverse_mod(std::int64_t t, std::int64_t n) noexcept {
  std::int64_t r0 = n, r1 = t, s0 = 0, s1 = 1;
  while (r1 != 0) {
    const std::int64_t q = r0 / r1;
    std::int64_t next = r0 - q * r1;
    r0 = r1;
    r1 = next;
    next = s0 - q * s1;
    s0 = s1;
    s1 = next;
  }
  return s0 < 0 ? s0 + n : s0;
}

// Whether every partial quotient of t / n (its continued fraction [0; a1, a2, ...]) is at most
// kMaxQuotient. Multiples of such a t modulo n spread evenly whatever their number: the gaps
// between the first d of them (three at most, three-distance theorem) stay within a small factor
// of each other, as for the golden ratio, whose quotients are all 1.
inline constexpr std::int64_t kMaxQuotient = 4;
inline bool small_quotients(std::int64_t t, std::int64_t n) noexcept {
  while (t != 0) {
    if (n / t > kMaxQuotient) return false;
    const std::int64_t rest = n % t;
    n = t;
    t = rest;
  }
  return true;
}

// The stride of a bucket of `size` draws: of t0, t0 + 1, t0 - 1, t0 + 2, ... (t0 = floor(size * (2 -
// golden ratio))) in [1, size), the first coprime to size with small quotients (small_quotients)
// whose inverse u has min(u, size - u) >= size / 3; without one, the first with that min alone;
// without one either, the first with the largest such min. Places k and k + d are neighbours, around the end included, exactly when
// d * t = +-1 mod size, that is d = u or size - u.
inline std::int64_t spread_stride(std::int64_t size) noexcept {
  if (size <= 2) return 1;
  const auto t0 = static_cast<std::int64_t>(scale_to_range(0 - kGolden, static_cast<std::uint64_t>(size)));
  std::int64_t best = 1, best_gap = -1, apart = 0;
  for (std::int64_t delta = 0; delta <= size; ++delta) {
    const std::int64_t candidates[2] = {t0 + delta, t0 - delta};
    for (int side = 0; side < (delta == 0 ? 1 : 2); ++side) {
      const std::int64_t t = candidates[side];
      if (t < 1 || t >= size || std::gcd(t, size) != 1) continue;
      const std::int64_t u = inverse_mod(t, size);
      const std::int64_t gap = std::min(u, size - u);
      if (3 * gap >= size && small_quotients(t, size)) return t;
      if (3 * gap >= size && apart == 0) apart = t;
      if (gap > best_gap) {
        best = t;
        best_gap = gap;
      }
    }
  }
  return apart != 0 ? apart : best;
}

// Scratch of spread_copies, kept by the caller between calls.
struct SpreadScratch {
  std::vector<std::int64_t> bucket_start;  // per bucket (CSR), then its write cursor
  std::vector<std::uint8_t> copies;        // per member of the line: its copies, kManyCopies for more
  std::vector<std::int64_t> many;          // the copies of those with kManyCopies or more, in line order
  std::vector<std::uint32_t> phase;        // per member of the line with copies
  std::vector<std::uint64_t> listed;       // a bucket's draws in list order
  std::vector<std::uint64_t> groups;       // a bucket's groups: start << 32 | length
  std::size_t group_count = 0;
  std::vector<std::int64_t> places;        // one group's places
  std::int64_t stride_size = 0;            // the bucket size whose stride is `stride` (classes of one
  std::int64_t stride = 1;                 // quota spread buckets of one size: found once)
};

inline constexpr std::uint8_t kManyCopies = 255;

// Arranges bucket b, whose draws words[0, size) are grouped by sample in line order (each group's
// copies in order of j), calling put(place, word) for each. `previous` is the sample of the draw
// before the bucket, or -1. Returns the sample of the bucket's last draw.
template <typename Put>
std::int64_t arrange_bucket(const std::uint64_t* words, std::int64_t size, std::uint64_t key, std::int64_t b,
                            std::int64_t previous, SpreadScratch& scratch, Put&& put) {
  RandomStream random(mix64(key ^ mix64(static_cast<std::uint64_t>(b) + 1)));
  const auto n = static_cast<std::size_t>(size);
  // Scratch only grows: shrinking and growing again would clear it each time.
  std::vector<std::uint64_t>& listed = scratch.listed;
  if (listed.size() < n) listed.resize(n);
  // Where groups are single draws, shuffling the draws is shuffling the groups.
  bool single = true;
  for (std::size_t j = 1; j < n && single; ++j) single = sample_of(words[j]) != sample_of(words[j - 1]);
  if (single) {
    std::copy(words, words + size, listed.begin());
    random.shuffle(listed.data(), size);
  } else {
    // Groups' starts without a branch per draw (where groups begin is as random as the counts),
    // then each group's start and length.
    std::vector<std::uint64_t>& groups = scratch.groups;
    if (groups.size() < n + 1) groups.resize(n + 1);
    std::size_t count = 0;
    for (std::size_t j = 0; j < n; ++j) {
      groups[count] = j;
      count += static_cast<std::size_t>(j == 0 || sample_of(words[j]) != sample_of(words[j - 1]));
    }
    groups[count] = n;
    for (std::size_t g = 0; g < count; ++g) groups[g] = groups[g] << 32 | (groups[g + 1] - groups[g]);
    scratch.group_count = count;
    random.shuffle(groups.data(), static_cast<std::int64_t>(count));
    std::uint64_t* out = listed.data();
    for (std::size_t g = 0; g < count; ++g) {
      const std::uint64_t group = groups[g];
      const std::uint64_t* first = words + (group >> 32);
      const std::uint64_t length = group & 0xffffffffULL;
      for (std::uint64_t d = 0; d < length; ++d) *out++ = first[d];
    }
  }
  if (scratch.stride_size != size) {
    scratch.stride = spread_stride(size);
    scratch.stride_size = size;
  }
  const std::int64_t stride = scratch.stride;
  const std::int64_t inverse = size > 1 ? inverse_mod(stride, size) : 0;
  // The draw that rotation r puts at place p is the k with k * stride + r = p mod size.
  const auto listed_at = [&](std::int64_t r, std::int64_t p) {
    const auto back = static_cast<std::uint64_t>((p - r + size) % size);
    return static_cast<std::size_t>(back * static_cast<std::uint64_t>(inverse) % static_cast<std::uint64_t>(size));
  };
  std::int64_t rotation = static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(size)));
  if (previous >= 0 && size > 1) {
    for (std::int64_t delta = 0; delta < size; ++delta) {
      const std::int64_t r = (rotation + delta) % size;
      if (sample_of(listed[listed_at(r, 0)]) != previous) {
        rotation = r;
        break;
      }
    }
  }
  std::int64_t place = rotation;
  for (std::size_t k = 0; k < n; ++k) {
    put(place, listed[k]);
    place += stride;
    if (place >= size) place -= size;
  }
  if (!single) {
    // A group's copies keep their repeats in order of their places.
    std::vector<std::int64_t>& places = scratch.places;
    std::size_t k = 0;
    for (std::size_t g = 0; g < scratch.group_count; ++g) {
      const std::size_t length = scratch.groups[g] & 0xffffffffULL;
      if (length > 1) {
        places.resize(length);
        const std::int64_t first_repeats = repeats_of(listed[k]);
        const auto sample = static_cast<std::uint32_t>(sample_of(listed[k]));
        for (std::size_t d = 0; d < length; ++d) {
          places[d] = static_cast<std::int64_t>((static_cast<std::uint64_t>(rotation) +
                                                 static_cast<std::uint64_t>(k + d) * static_cast<std::uint64_t>(stride)) %
                                                static_cast<std::uint64_t>(size));
        }
        std::sort(places.begin(), places.end());
        for (std::size_t d = 0; d < length; ++d) put(places[d], word_of(sample, first_repeats + static_cast<std::int64_t>(d)));
      }
      k += length;
    }
  }
  return sample_of(listed[listed_at(rotation, size - 1)]);
}

// The class's `quota` draws of `epoch` (quota < 2^46) in order: calls put(position, word) for each
// position in [0, quota), every bucket's positions after the bucket before's. words[0, quota) is
// the staging area, which put may overwrite in the bucket being put.
template <typename Put>
void spread_copies(const WeightedPool& pool, std::int64_t quota, std::int64_t epoch, std::uint64_t* words,
                   SpreadScratch& scratch, Put&& put) {
  if (quota == 0) return;
  const std::int64_t buckets = (quota + kSpreadBucket - 1) / kSpreadBucket;
  const std::uint64_t key = pool.spread_key(epoch);
  std::vector<std::int64_t>& start = scratch.bucket_start;
  start.assign(static_cast<std::size_t>(buckets) + 1, 0);
  if (buckets == 1) {
    // One bucket: its draws straight in line order; one or two copies, the most, without a branch
    // (a copy the member does not have goes to `spare`, as words[at] may be past the end).
    std::int64_t at = 0;
    std::uint64_t spare = 0;
    pool.for_each_count(quota, epoch, [&](std::int64_t t, std::int64_t copies) {
      const std::uint32_t sample = pool.sample(t);
      if (copies <= 2) {
        *choose(copies >= 1, words + std::min(at, quota - 1), &spare) = word_of(sample, 0);
        *choose(copies == 2, words + std::min(at + 1, quota - 1), &spare) = word_of(sample, 1);
        at += copies;
        return;
      }
      for (std::int64_t j = 0; j < copies; ++j) words[at++] = word_of(sample, j);
    });
    start[1] = quota;
  } else {
    // The counts and phases first, with the buckets' sizes; then every copy into its bucket.
    const auto members = static_cast<std::size_t>(pool.size());
    scratch.copies.resize(members);
    scratch.phase.resize(members);
    scratch.many.clear();
    std::uint8_t* copies_of = scratch.copies.data();
    std::uint32_t* phase_of = scratch.phase.data();
    std::int64_t* size_of = start.data() + 1;
    // Every member's phase is computed, with copies or not, so that no branch waits on the count;
    // members of one or two copies, the most, go to their buckets without a branch either.
    pool.for_each_count(quota, epoch, [&](std::int64_t t, std::int64_t copies) {
      copies_of[t] = static_cast<std::uint8_t>(std::min<std::int64_t>(copies, kManyCopies));
      const auto phase = static_cast<std::int64_t>(
          scale_to_range(stream_value(key, static_cast<std::uint64_t>(t)), static_cast<std::uint64_t>(buckets)));
      phase_of[t] = static_cast<std::uint32_t>(phase);
      if (copies <= 2) {
        // floor(phase / copies) and floor((B + phase) / 2), counted by 0 or 1.
        const auto two = static_cast<std::int64_t>(copies == 2);
        size_of[phase >> two] += static_cast<std::int64_t>(copies >= 1);
        size_of[(buckets + phase) / 2] += two;
        return;
      }
      if (copies >= kManyCopies) scratch.many.push_back(copies);
      // floor((j * B + phase) / copies) for j = 0, 1, ...: at most one copy per bucket while copies
      // <= B, so each bucket's size is its share, floor or ceil of copies / B, after the phase.
      const std::int64_t whole = buckets / copies;
      if (whole == 0) {
        for (std::int64_t bucket = 0; bucket < buckets; ++bucket) {
          size_of[bucket] += ((bucket + 1) * copies - phase + buckets - 1) / buckets -
                             (bucket * copies - phase + buckets - 1) / buckets;
        }
        return;
      }
      std::int64_t bucket = phase / copies, rest = phase % copies;
      const std::int64_t part = buckets % copies;
      for (std::int64_t j = 0; j < copies; ++j) {
        ++size_of[bucket];
        bucket += whole;
        rest += part;
        const auto carry = static_cast<std::int64_t>(rest >= copies);
        rest -= copies & -carry;
        bucket += carry;
      }
    });
    for (std::size_t b = 0; b < static_cast<std::size_t>(buckets); ++b) start[b + 1] += start[b];
    std::vector<std::int64_t> cursor(start.begin(), start.end() - 1);
    std::int64_t* next = cursor.data();
    const std::int64_t* many = scratch.many.data();
    std::uint64_t spare = 0;
    for (std::size_t t = 0; t < members; ++t) {
      const std::int64_t copies = copies_of[t];
      const std::uint32_t sample = pool.sample(static_cast<std::int64_t>(t));
      const std::int64_t phase = phase_of[t];
      if (copies <= 2) {
        const auto one = static_cast<std::int64_t>(copies >= 1);
        const auto two = static_cast<std::int64_t>(copies == 2);
        const std::int64_t first = phase >> two;
        const std::int64_t second = (buckets + phase) / 2;
        // A copy the member does not have is written to `spare`: where its bucket's cursor points
        // may be the next bucket's first draw.
        std::uint64_t* const at_first = words + next[first];
        std::uint64_t* const at_second = words + next[second];
        *choose(one != 0, at_first, &spare) = word_of(sample, 0);
        next[first] += one;
        *choose(two != 0, at_second, &spare) = word_of(sample, 1);
        next[second] += two;
        continue;
      }
      const std::int64_t count = copies == kManyCopies ? *many++ : copies;
      std::int64_t bucket = phase / count, rest = phase % count;
      const std::int64_t whole = buckets / count, part = buckets % count;
      for (std::int64_t j = 0; j < count; ++j) {
        words[next[bucket]++] = word_of(sample, j);
        bucket += whole;
        rest += part;
        const auto carry = static_cast<std::int64_t>(rest >= count);
        rest -= count & -carry;
        bucket += carry;
      }
    }
  }
  std::int64_t previous = -1;
  for (std::int64_t b = 0; b < buckets; ++b) {
    const std::int64_t begin = start[static_cast<std::size_t>(b)];
    const std::int64_t size = start[static_cast<std::size_t>(b) + 1] - begin;
    if (size == 0) continue;
    previous = arrange_bucket(words + begin, size, key, b, previous, scratch,
                              [&](std::int64_t place, std::uint64_t word) { put(begin + place, word); });
  }
}

// The same into words[0, quota) themselves.
inline void spread_copies(const WeightedPool& pool, std::int64_t quota, std::int64_t epoch, std::uint64_t* words,
                          SpreadScratch& scratch) {
  spread_copies(pool, quota, epoch, words, scratch, [&](std::int64_t position, std::uint64_t word) { words[position] = word; });
}

}  // namespace fast_balance
