// Unit tests of the random streams (random.hpp): keys follow the documented derivation.
#include <cstdint>

#include "../random.hpp"
#include "check.hpp"

namespace {

using fast_balance_tests::check;

void test_stream_keys_follow_the_documented_derivation() {
  using fast_balance::mix64;
  using fast_balance::StreamDomain;
  for (const std::uint64_t seed : {0ULL, 1ULL, 0xffffffffffffffffULL}) {
    for (const std::uint64_t a : {0ULL, 7ULL, 99999ULL}) {
      for (const std::uint64_t b : {0ULL, 3ULL, 1ULL << 40}) {
        const auto domain = StreamDomain::kPoolPass;
        const std::uint64_t spelled_out = mix64(mix64(mix64(mix64(seed) ^ 1) ^ a) ^ b);
        check(fast_balance::stream_key(seed, domain, a, b) == spelled_out, "stream_key derivation");
        check(fast_balance::stream_key_last(fast_balance::stream_key_prefix(seed, domain, a), b) == spelled_out,
              "stream_key in two steps");
      }
    }
  }
}

void run_all() { test_stream_keys_follow_the_documented_derivation(); }

}  // namespace

int main() { return fast_balance_tests::run_tests(run_all); }
