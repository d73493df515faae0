// Where draws go: the epoch's output (EpochOutput), one slot's Draw, and the staging that holds a
// draw from when its class takes it until it is written to its place, plainly or packed.
//
// Staging: fills take draws class by class, but the output is in slot order, so each draw waits
// in a staging area (the output itself unbatched, a window's rooms batched) until its place is
// written.
#pragma once

#include <cstdint>

namespace fast_balance {

// Where one epoch's output goes; each pointer has room for stop - start values.
struct EpochOutput {
  std::int64_t* indices;
  std::int32_t* labels;
  std::int32_t* repeats;
};

// One slot's output, kept together so that moving it is one memory access.
struct Draw {
  std::int64_t index;
  std::int32_t repeats;
  std::int32_t label;
};

inline void write(const EpochOutput& out, std::int64_t slot, const Draw& draw) noexcept {
  out.indices[slot] = draw.index;
  out.repeats[slot] = draw.repeats;
  out.labels[slot] = draw.label;
}

// Bits of the largest value; at least 1.
inline int bits_for(std::int64_t largest) noexcept {
  int bits = 1;
  while (bits < 63 && (largest >> bits) != 0) ++bits;
  return bits;
}

// A staging area that keeps each draw as it is output: three arrays.
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

}  // namespace fast_balance
