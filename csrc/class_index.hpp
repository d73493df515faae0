// ClassIndex: the sample indices of each class, grouped (CSR layout), built in one counting pass.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace fast_balance {

class ClassIndex {
 public:
  // Groups `labels[0, size)` by class. Throws std::invalid_argument for an empty label set,
  // num_classes < 1, or a label outside [0, num_classes) (naming its position and value).
  template <typename Label>
  static ClassIndex from_labels(const Label* labels, std::int64_t size, std::int64_t num_classes) {
    static_assert(std::is_integral<Label>::value, "labels must be integers");
    if (size <= 0) throw std::invalid_argument("labels is empty");
    if (num_classes < 1) throw std::invalid_argument("num_classes must be >= 1");
    if (num_classes > INT32_MAX) throw std::invalid_argument("num_classes must fit in int32");
    ClassIndex index;
    index.offsets_.assign(static_cast<std::size_t>(num_classes) + 1, 0);
    for (std::int64_t i = 0; i < size; ++i) {
      const Label label = labels[i];
      if (!in_range(label, num_classes)) {
        throw std::invalid_argument("label " + std::to_string(label) + " at position " +
                                    std::to_string(i) + " is outside [0, " +
                                    std::to_string(num_classes) + ")");
      }
      ++index.offsets_[static_cast<std::size_t>(label) + 1];
    }
    for (std::size_t c = 0; c < static_cast<std::size_t>(num_classes); ++c) {
      index.offsets_[c + 1] += index.offsets_[c];
    }
    // Stable counting sort: each class's members stay in ascending sample order.
    std::vector<std::int64_t> cursor(index.offsets_.begin(), index.offsets_.end() - 1);
    index.members_.resize(static_cast<std::size_t>(size));
    for (std::int64_t i = 0; i < size; ++i) {
      index.members_[static_cast<std::size_t>(cursor[static_cast<std::size_t>(labels[i])]++)] = i;
    }
    return index;
  }

  std::int64_t num_classes() const noexcept {
    return static_cast<std::int64_t>(offsets_.size()) - 1;
  }
  std::int64_t num_samples() const noexcept { return static_cast<std::int64_t>(members_.size()); }
  std::int64_t count(std::int64_t c) const noexcept {
    return offsets_[static_cast<std::size_t>(c) + 1] - offsets_[static_cast<std::size_t>(c)];
  }
  std::int64_t offset(std::int64_t c) const noexcept { return offsets_[static_cast<std::size_t>(c)]; }
  // Sample indices of all classes, class 0's first, ascending within each class.
  const std::vector<std::int64_t>& members() const noexcept { return members_; }

 private:
  template <typename Label>
  static bool in_range(Label label, std::int64_t num_classes) noexcept {
    if (std::is_signed<Label>::value && static_cast<std::int64_t>(label) < 0) return false;
    return static_cast<std::uint64_t>(label) < static_cast<std::uint64_t>(num_classes);
  }

  std::vector<std::int64_t> offsets_;
  std::vector<std::int64_t> members_;
};

}  // namespace fast_balance
