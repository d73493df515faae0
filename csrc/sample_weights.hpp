// SampleWeights: a weight per sample, validated and copied by one read of the caller's array, and
// turned into the integers the core draws by, class by class (docs/determinism.md, "Sample weights").
//
// Within a class only the ratios of its weights matter, so each class is scaled on its own: by the
// power of two that brings its largest weight into [2^30, 2^31), then rounded down, a positive
// weight staying at least 1. Scaling by a power of two is exact, so integers and binary fractions
// (0.5, 0.25, ...) within 30 bits of the largest keep their ratios exactly. A class's total stays
// below 2^62, which keeps a quota times any partial sum within 128 bits (weighted_pool.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "class_index.hpp"
#include "random.hpp"

namespace fast_balance {

class SampleWeights {
 public:
  // A class's largest weight becomes f * 2^kScaleBits, f in [0.5, 1).
  static constexpr int kScaleBits = 31;

  // Reads weights[0, size) once: checks that each is finite and >= 0 (naming the first that is not,
  // with its position) and copies them.
  static std::vector<double> read(const double* weights, std::int64_t size) {
    if (size <= 0) throw std::invalid_argument("sample_weights is empty");
    std::vector<double> copy(static_cast<std::size_t>(size));
    for (std::int64_t i = 0; i < size; ++i) {
      const double w = weights[i];
      if (!std::isfinite(w) || w < 0) {
        throw std::invalid_argument("sample weight " + text(w) + " at position " + std::to_string(i) +
                                    (std::isfinite(w) ? " is negative" : " is not finite"));
      }
      copy[static_cast<std::size_t>(i)] = w;
    }
    return copy;
  }

  // The integer weights of `values` (one per sample of `index`), scaled within each class.
  static SampleWeights of_classes(const std::vector<double>& values, const ClassIndex& index) {
    if (static_cast<std::int64_t>(values.size()) != index.num_samples()) {
      throw std::invalid_argument("sample_weights has " + std::to_string(values.size()) + " entries for " +
                                  std::to_string(index.num_samples()) + " labels");
    }
    SampleWeights weights;
    weights.values_.resize(values.size());
    const std::int64_t* members = index.members().data();
    for (std::int64_t k = 0; k < index.num_classes(); ++k) {
      const std::int64_t* first = members + index.offset(k);
      scale_class(values, index.count(k), [&](std::int64_t m) { return first[m]; }, weights.values_);
    }
    weights.hash_ = hash_of(weights.values_);
    return weights;
  }

  // The same for a set without classes: every sample in one class.
  static SampleWeights of_one_class(const std::vector<double>& values) {
    SampleWeights weights;
    weights.values_.resize(values.size());
    scale_class(values, static_cast<std::int64_t>(values.size()), [](std::int64_t m) { return m; }, weights.values_);
    weights.hash_ = hash_of(weights.values_);
    return weights;
  }

  std::int64_t size() const noexcept { return static_cast<std::int64_t>(values_.size()); }
  std::uint32_t operator[](std::int64_t i) const noexcept { return values_[static_cast<std::size_t>(i)]; }
  const std::vector<std::uint32_t>& values() const noexcept { return values_; }
  // A hash of the integer weights in sample order (part of a sampler's fingerprint).
  std::uint64_t hash() const noexcept { return hash_; }

 private:
  static std::string text(double w) {
    std::ostringstream out;
    out << w;
    return out.str();
  }

  // The class whose members are member(0), ..., member(count - 1): its weights into out[member(m)].
  template <typename MemberAt>
  static void scale_class(const std::vector<double>& values, std::int64_t count, MemberAt member,
                          std::vector<std::uint32_t>& out) {
    const auto value = [&](std::int64_t m) { return values[static_cast<std::size_t>(member(m))]; };
    double largest = 0;
    for (std::int64_t m = 0; m < count; ++m) largest = std::max(largest, value(m));
    int exponent = 0;  // largest = f * 2^exponent, f in [0.5, 1)
    std::frexp(largest, &exponent);
    // Multiplying by a power of two is exact, as ldexp is, and cheaper; ldexp where the power itself
    // is not a double (a largest weight below 2^-992).
    const int shift = kScaleBits - exponent;
    const double factor = shift < 1000 ? std::ldexp(1.0, shift) : 0.0;
    for (std::int64_t m = 0; m < count; ++m) {
      const double w = value(m);
      const double scaled = std::floor(factor != 0.0 ? w * factor : std::ldexp(w, shift));
      out[static_cast<std::size_t>(member(m))] = w > 0 ? std::max<std::uint32_t>(1, static_cast<std::uint32_t>(scaled)) : 0;
    }
  }

  static std::uint64_t hash_of(const std::vector<std::uint32_t>& values) noexcept {
    std::uint64_t lanes[4] = {5, 6, 7, 8};
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::uint64_t& lane = lanes[i & 3];
      lane = (lane ^ values[i]) * kGolden;
    }
    return mix64(mix64(mix64(mix64(lanes[0]) ^ lanes[1]) ^ lanes[2]) ^ lanes[3]) ^ values.size();
  }

  std::vector<std::uint32_t> values_;
  std::uint64_t hash_ = 0;
};

}  // namespace fast_balance
