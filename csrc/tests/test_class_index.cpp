// Unit tests of ClassIndex (class_index.hpp): members grouped by class, bad labels refused.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "../class_index.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::ClassIndex;

void test_class_index() {
  const std::vector<std::int16_t> labels = {2, 0, 2, 1, 0};
  const auto index = ClassIndex::from_labels(labels.data(), 5, 3);
  check(index.count(0) == 2 && index.count(1) == 1 && index.count(2) == 2, "class counts");
  check(index.members() == std::vector<std::int64_t>({1, 4, 3, 0, 2}), "members grouped, ascending");
  const std::vector<std::int8_t> negative = {0, -1};
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(negative.data(), 2, 3); }, "negative label");
  const std::vector<std::uint64_t> huge = {0, ~std::uint64_t{0}};
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(huge.data(), 2, 3); }, "label beyond uint63");
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(labels.data(), 5, 2); }, "label >= num_classes");
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(labels.data(), 0, 2); }, "empty labels");
  check_throws<std::invalid_argument>([&] { ClassIndex::from_labels(labels.data(), 5, std::int64_t{1} << 31); },
                                      "num_classes beyond int32");
}

void test_only_present_classes_are_indexed() {
  // Ids 0, 7 and 1,000,000 of 2^31 - 1: three entries, not one per id (dense and sorted paths).
  for (const std::int32_t large : {7, 1000000}) {
    const std::vector<std::int32_t> labels = {large, 0, large, 7, 0, 0};
    const auto index = ClassIndex::from_labels(labels.data(), 6, INT32_MAX);
    const bool seven = large == 7;
    check(index.num_classes() == (seven ? 2 : 3), "present classes only");
    check(index.class_ids() == (seven ? std::vector<std::int32_t>{0, 7} : std::vector<std::int32_t>{0, 7, large}),
          "class ids ascending");
    check(!index.identity_ids(), "ids with gaps are not the identity");
    check(index.count(0) == 3 && index.count(1) == (seven ? 3 : 1), "counts by class number");
    std::vector<std::int32_t> back(6, -1);
    index.write_labels(back.data());
    check(back == labels, "write_labels gives the labels back");
  }
  const std::vector<std::int8_t> dense = {1, 0, 2};
  check(ClassIndex::from_labels(dense.data(), 3, 3).identity_ids(), "0..K-1 present: identity ids");
}

void test_label_hash_is_of_the_values_in_order() {
  const std::vector<std::int64_t> wide = {3, 1, 2, 0, 1};
  const std::vector<std::uint8_t> narrow = {3, 1, 2, 0, 1};
  const std::vector<std::int64_t> swapped = {1, 3, 2, 0, 1};
  const auto hash = [](const auto& labels) {
    return ClassIndex::from_labels(labels.data(), static_cast<std::int64_t>(labels.size()), 4).label_hash();
  };
  check(hash(wide) == hash(narrow), "the dtype does not change the hash");
  check(hash(wide) != hash(swapped), "the order does");
}

void run_all() {
  test_class_index();
  test_only_present_classes_are_indexed();
  test_label_hash_is_of_the_values_in_order();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
