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
}

void run_all() { test_class_index(); }

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
