// WeightedClasses: which classes of a sampler draw by sample weight, and the pool (without
// replacement, weighted_pool.hpp) or alias table (with, alias_table.hpp) each of them draws from.
//
// A class whose samples all weigh the same draws exactly as without sample weights (pool passes,
// or uniform draws with replacement), so equal weights change no stream. Classes without draws
// need nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "alias_table.hpp"
#include "class_index.hpp"
#include "random.hpp"
#include "sample_weights.hpp"
#include "weighted_pool.hpp"

namespace fast_balance {

class WeightedClasses {
 public:
  WeightedClasses() = default;  // no sample weights: every class as without them

  // Throws std::invalid_argument for a class with draws whose sample weights are all zero.
  WeightedClasses(const ClassIndex& index, const SampleWeights& weights, const std::vector<std::int64_t>& quotas,
                  std::uint64_t seed, bool replacement)
      : slot_(static_cast<std::size_t>(index.num_classes()), -1) {
    if (weights.size() != index.num_samples()) throw std::invalid_argument("sample weights do not match the labels");
    const std::int64_t* members = index.members().data();
    for (std::int64_t k = 0; k < index.num_classes(); ++k) {
      if (quotas[static_cast<std::size_t>(k)] == 0) continue;
      const std::int64_t* first = members + index.offset(k);
      const std::int64_t count = index.count(k);
      const std::uint32_t weight = weights[first[0]];
      bool uniform = true, any = false;
      for (std::int64_t m = 0; m < count; ++m) {
        uniform = uniform && weights[first[m]] == weight;
        any = any || weights[first[m]] > 0;
      }
      const std::string name = "class " + std::to_string(index.class_id(k));
      if (!any) throw std::invalid_argument(name + " has draws but only zero sample weights");
      if (uniform) continue;
      const auto member_at = [&](std::int64_t m) { return first[m]; };
      const auto weight_of = [&](std::int64_t sample) { return weights[sample]; };
      if (replacement) {
        slot_[static_cast<std::size_t>(k)] = static_cast<std::int32_t>(tables_.size());
        tables_.emplace_back(count, member_at, weight_of);
      } else {
        slot_[static_cast<std::size_t>(k)] = static_cast<std::int32_t>(pools_.size());
        pools_.emplace_back(seed, index.class_id(k), count, member_at, weight_of);
      }
    }
    if (!pools_.empty() || !tables_.empty()) hash_ = weights.hash();
  }

  // Whether any class draws by sample weight.
  bool any() const noexcept { return !pools_.empty() || !tables_.empty(); }
  // Class k's pool (without replacement) or alias table (with), or null when it draws as without weights.
  const WeightedPool* pool(std::size_t k) const noexcept {
    return slot_.empty() || slot_[k] < 0 || pools_.empty() ? nullptr : &pools_[static_cast<std::size_t>(slot_[k])];
  }
  const AliasTable* table(std::size_t k) const noexcept {
    return slot_.empty() || slot_[k] < 0 || tables_.empty() ? nullptr : &tables_[static_cast<std::size_t>(slot_[k])];
  }
  // A hash of the sample weights where any class draws by them, else 0.
  std::uint64_t hash() const noexcept { return hash_; }

 private:
  std::vector<std::int32_t> slot_;  // per class: its pool or table, or -1
  std::vector<WeightedPool> pools_;
  std::vector<AliasTable> tables_;
  std::uint64_t hash_ = 0;
};

}  // namespace fast_balance
