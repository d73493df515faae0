// Unit tests of SampleWeights (sample_weights.hpp): one read that names bad values, classes scaled
// by a power of two each.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "../class_index.hpp"
#include "../sample_weights.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;
using fast_balance_tests::check_throws;

using fast_balance::ClassIndex;
using fast_balance::SampleWeights;

void test_bad_weights_are_refused() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const std::vector<double>& bad : {std::vector<double>{1, nan}, {inf, 1}, {1, -0.5}}) {
    check_throws<std::invalid_argument>([&] { SampleWeights::read(bad.data(), 2); }, "non-finite or negative weight");
  }
  check_throws<std::invalid_argument>([&] { SampleWeights::read(nullptr, 0); }, "no weights");
  try {
    const std::vector<double> negative = {1, 2, -3};
    SampleWeights::read(negative.data(), 3);
  } catch (const std::invalid_argument& error) {
    check(std::string(error.what()) == "sample weight -3 at position 2 is negative", "the message names value and position");
  }
  const std::vector<std::int32_t> labels = {0, 1};
  const ClassIndex index = ClassIndex::from_labels(labels.data(), 2, 2);
  check_throws<std::invalid_argument>([&] { SampleWeights::of_classes({1, 2, 3}, index); }, "one weight per label");
}

void test_each_class_is_scaled_by_a_power_of_two() {
  const std::vector<std::int32_t> labels = {0, 1, 0, 1, 0, 2};
  const ClassIndex index = ClassIndex::from_labels(labels.data(), 6, 3);
  const SampleWeights weights = SampleWeights::of_classes({3, 0.5, 1, 0.25, 0, std::ldexp(1.0, -1000)}, index);
  // Class 0: largest 3 = 0.75 * 2^2, so the scale is 2^29; class 1: 0.5 = 0.5 * 2^0, scale 2^31.
  check(weights[0] == 3u << 29 && weights[2] == 1u << 29 && weights[4] == 0, "class 0 scaled by 2^29");
  check(weights[1] == 1u << 30 && weights[3] == 1u << 29, "class 1 scaled by 2^31");
  check(weights[5] == 1u << 30, "a class of one tiny weight scales it up");
  const SampleWeights tiny = SampleWeights::of_one_class({1, 1e-12, 0});
  check(tiny[0] == 1u << 30 && tiny[1] == 1 && tiny[2] == 0, "a tiny positive weight stays positive");
  const SampleWeights again = SampleWeights::of_one_class({static_cast<double>(tiny[0]), static_cast<double>(tiny[1]), 0});
  check(again.values() == tiny.values() && again.hash() == tiny.hash(), "scaling twice changes nothing");
  const SampleWeights doubled = SampleWeights::of_one_class({2, 2e-12, 0});
  check(doubled.values() == tiny.values(), "only ratios matter");
}

void run_all() {
  test_bad_weights_are_refused();
  test_each_class_is_scaled_by_a_power_of_two();
}

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
