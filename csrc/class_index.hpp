// ClassIndex: the samples of every class present in a label set, grouped by class (CSR layout).
//
// Only classes that occur get an entry, numbered k = 0, 1, ... in increasing class id, so memory
// follows the data (8 bytes per sample and a few per present class), not the largest label. The
// caller's labels are read exactly once (read_labels); everything after works on the index's own
// copy, so a caller that changes its array meanwhile cannot make the core index out of bounds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "random.hpp"

namespace fast_balance {

// The labels of a set, validated and copied by one read of the caller's array.
struct LabelCopy {
  std::vector<std::int32_t> labels;
  std::int64_t num_ids = 0;  // labels are in [0, num_ids)
  std::int32_t largest = 0;
  std::uint64_t hash = 0;    // of the label sequence (ClassIndex::label_hash)
};

class ClassIndex {
 public:
  // Largest num_ids: class ids are int32 in the output.
  static constexpr std::int64_t kMaxIds = INT32_MAX;

  // Reads labels[0, size) once: checks that each is in [0, num_ids) (naming the first that is not,
  // with its position), copies them and hashes the sequence.
  template <typename Label>
  static LabelCopy read_labels(const Label* labels, std::int64_t size, std::int64_t num_ids) {
    static_assert(std::is_integral<Label>::value, "labels must be integers");
    if (size <= 0) throw std::invalid_argument("labels is empty");
    if (num_ids < 1) throw std::invalid_argument("num_classes must be >= 1");
    if (num_ids > kMaxIds) throw std::invalid_argument("num_classes must be at most 2^31 - 1");
    LabelCopy copy;
    copy.num_ids = num_ids;
    copy.labels.resize(static_cast<std::size_t>(size));
    // Four independent multiply chains hash the sequence at memory speed; mix64 joins them.
    std::uint64_t lanes[4] = {1, 2, 3, 4};
    std::int32_t largest = 0;
    for (std::int64_t i = 0; i < size; ++i) {
      const Label label = labels[i];
      if (!in_range(label, num_ids)) {
        throw std::invalid_argument("label " + std::to_string(label) + " at position " + std::to_string(i) +
                                    " is outside [0, " + std::to_string(num_ids) + ")");
      }
      const auto value = static_cast<std::int32_t>(label);
      copy.labels[static_cast<std::size_t>(i)] = value;
      largest = std::max(largest, value);
      std::uint64_t& lane = lanes[static_cast<std::size_t>(i & 3)];
      lane = (lane ^ static_cast<std::uint32_t>(value)) * kGolden;
    }
    copy.largest = largest;
    copy.hash = mix64(mix64(mix64(mix64(lanes[0]) ^ lanes[1]) ^ lanes[2]) ^ lanes[3]) ^ static_cast<std::uint64_t>(size);
    return copy;
  }

  // The index of a copy made by read_labels.
  static ClassIndex from_copy(LabelCopy copy) {
    ClassIndex index;
    index.num_ids_ = copy.num_ids;
    index.label_hash_ = copy.hash;
    const auto size = static_cast<std::int64_t>(copy.labels.size());
    const std::vector<std::int32_t>& labels = copy.labels;
    // dense[label] = the class's number k, where the largest label is within a few times the
    // number of samples; otherwise a sorted list of the ids, searched per sample.
    const bool dense = copy.largest < 2 * size + 1024;
    std::vector<std::int64_t> counts;
    if (dense) {
      counts.assign(static_cast<std::size_t>(copy.largest) + 1, 0);
      for (const std::int32_t label : labels) ++counts[static_cast<std::size_t>(label)];
      for (std::size_t c = 0; c < counts.size(); ++c) {
        if (counts[c] > 0) index.class_ids_.push_back(static_cast<std::int32_t>(c));
      }
    } else {
      std::vector<std::int32_t> sorted = labels;
      std::sort(sorted.begin(), sorted.end());
      for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i == 0 || sorted[i] != sorted[i - 1]) index.class_ids_.push_back(sorted[i]);
      }
    }
    const std::size_t classes = index.class_ids_.size();
    index.offsets_.assign(classes + 1, 0);
    if (dense) {
      for (std::size_t k = 0; k < classes; ++k) {
        index.offsets_[k + 1] = counts[static_cast<std::size_t>(index.class_ids_[k])];
        counts[static_cast<std::size_t>(index.class_ids_[k])] = static_cast<std::int64_t>(k);  // now the number
      }
    } else {
      for (const std::int32_t label : labels) ++index.offsets_[index.number_of(label) + 1];
    }
    for (std::size_t k = 0; k < classes; ++k) index.offsets_[k + 1] += index.offsets_[k];
    // Stable counting sort: each class's members stay in ascending sample order.
    std::vector<std::int64_t> cursor(index.offsets_.begin(), index.offsets_.end() - 1);
    index.members_.resize(static_cast<std::size_t>(size));
    for (std::int64_t i = 0; i < size; ++i) {
      const std::int32_t label = labels[static_cast<std::size_t>(i)];
      const std::size_t k = dense ? static_cast<std::size_t>(counts[static_cast<std::size_t>(label)]) : index.number_of(label);
      index.members_[static_cast<std::size_t>(cursor[k]++)] = i;
    }
    index.identity_ids_ = classes == static_cast<std::size_t>(copy.largest) + 1;
    return index;
  }

  template <typename Label>
  static ClassIndex from_labels(const Label* labels, std::int64_t size, std::int64_t num_ids) {
    return from_copy(read_labels(labels, size, num_ids));
  }

  // Class ids the labels may use: [0, num_ids).
  std::int64_t num_ids() const noexcept { return num_ids_; }
  // Classes present; each class is numbered k in [0, num_classes()) in increasing id.
  std::int64_t num_classes() const noexcept { return static_cast<std::int64_t>(class_ids_.size()); }
  std::int32_t class_id(std::int64_t k) const noexcept { return class_ids_[static_cast<std::size_t>(k)]; }
  const std::vector<std::int32_t>& class_ids() const noexcept { return class_ids_; }
  // Whether class k's id is k for every k (no absent id below the largest present one).
  bool identity_ids() const noexcept { return identity_ids_; }
  std::int64_t num_samples() const noexcept { return static_cast<std::int64_t>(members_.size()); }
  std::int64_t count(std::int64_t k) const noexcept {
    return offsets_[static_cast<std::size_t>(k) + 1] - offsets_[static_cast<std::size_t>(k)];
  }
  std::int64_t offset(std::int64_t k) const noexcept { return offsets_[static_cast<std::size_t>(k)]; }
  // Sample indices of all classes, class 0's first, ascending within each class.
  const std::vector<std::int64_t>& members() const noexcept { return members_; }
  // A hash of the label sequence: equal label sequences (whatever their dtype) hash equally.
  std::uint64_t label_hash() const noexcept { return label_hash_; }

  // Writes every sample's class id to out[0, num_samples()).
  void write_labels(std::int32_t* out) const noexcept {
    for (std::size_t k = 0; k < class_ids_.size(); ++k) {
      for (std::int64_t m = offsets_[k]; m < offsets_[k + 1]; ++m) out[members_[static_cast<std::size_t>(m)]] = class_ids_[k];
    }
  }

 private:
  template <typename Label>
  static bool in_range(Label label, std::int64_t num_ids) noexcept {
    if (std::is_signed<Label>::value && static_cast<std::int64_t>(label) < 0) return false;
    return static_cast<std::uint64_t>(label) < static_cast<std::uint64_t>(num_ids);
  }

  std::size_t number_of(std::int32_t label) const noexcept {
    return static_cast<std::size_t>(std::lower_bound(class_ids_.begin(), class_ids_.end(), label) - class_ids_.begin());
  }

  std::int64_t num_ids_ = 0;
  std::uint64_t label_hash_ = 0;
  bool identity_ids_ = true;
  std::vector<std::int32_t> class_ids_;
  std::vector<std::int64_t> offsets_;
  std::vector<std::int64_t> members_;
};

}  // namespace fast_balance
