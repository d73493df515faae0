// A minimal test harness shared by the core's unit tests: each test file is its own executable,
// counts its checks and exits non-zero when one fails.
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <string>

namespace fast_balance_tests {

inline int failures = 0;
inline int checks = 0;

inline void check(bool condition, const std::string& what) {
  ++checks;
  if (!condition) {
    ++failures;
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
  }
}

template <typename Exception>
void check_throws(const std::function<void()>& action, const std::string& what) {
  try {
    action();
  } catch (const Exception&) {
    ++checks;
    return;
  } catch (...) {
  }
  check(false, what + " (expected exception)");
}

// Runs every test of a file and reports; the return value is the process's exit status.
inline int run_tests(const std::function<void()>& all) {
  try {
    all();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "FAILED with exception: %s\n", error.what());
    ++failures;
  }
  std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace fast_balance_tests
