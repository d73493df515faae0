// QuotaGroups: the classes of positive quota grouped by equal quota, which a batch schedule treats
// as one task each.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace fast_balance {

// The classes of positive quota, grouped by quota: classes of equal quota are interchangeable to
// a schedule, so BatchSchedule schedules each group as one task. Built once per SamplerPlan.
class QuotaGroups {
 public:
  explicit QuotaGroups(const std::vector<std::int64_t>& quotas) : group_of_(quotas.size(), -1) {
    std::vector<std::int32_t> classes;
    for (std::size_t c = 0; c < quotas.size(); ++c) {
      if (quotas[c] < 0) throw std::invalid_argument("quotas must be >= 0");
      if (quotas[c] > 0) classes.push_back(static_cast<std::int32_t>(c));
    }
    const auto quota_of = [&](std::int32_t c) { return quotas[static_cast<std::size_t>(c)]; };
    std::stable_sort(classes.begin(), classes.end(),
                     [&](std::int32_t a, std::int32_t b) { return quota_of(a) < quota_of(b); });
    for (std::size_t k = 0; k < classes.size(); ++k) {
      if (k == 0 || quota_of(classes[k]) != quota_of(classes[k - 1])) {
        quota_.push_back(quota_of(classes[k]));
        size_.push_back(0);
      }
      group_of_[static_cast<std::size_t>(classes[k])] = static_cast<std::int32_t>(quota_.size() - 1);
      ++size_.back();
    }
  }

  std::size_t count() const noexcept { return quota_.size(); }
  // Class c's group, or -1 for a class of quota 0.
  std::int32_t group_of(std::size_t c) const noexcept { return group_of_[c]; }
  std::size_t num_classes() const noexcept { return group_of_.size(); }
  // Every member's quota, and the number of members.
  std::int64_t quota(std::size_t g) const noexcept { return quota_[g]; }
  std::int64_t size(std::size_t g) const noexcept { return size_[g]; }

 private:
  std::vector<std::int32_t> group_of_;
  std::vector<std::int64_t> quota_;
  std::vector<std::int64_t> size_;
};

}  // namespace fast_balance
