// OutputPool: NumPy output arrays whose memory is reused once Python has dropped them.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace fast_balance_bindings {

namespace py = pybind11;

// Output arrays that reuse their memory. The three arrays of one take() share one allocation,
// which comes back here once Python has dropped them and every view of them; the largest one
// that came back is kept for the next take(). A fresh allocation of a large epoch costs the kernel
// a page fault and a zeroed page per 4 KiB (a fifth of an epoch's time at N = 1e6); kept memory is
// mapped already.
class OutputPool : public std::enable_shared_from_this<OutputPool> {
 public:
  py::tuple take(std::size_t size) {
    // The arrays' bytes must be addressable: past this, 16 * size overflows and the arrays would
    // point past a block allocated with the wrapped size.
    if (size > static_cast<std::size_t>(std::numeric_limits<py::ssize_t>::max()) / kBytesPerSample) {
      throw std::length_error("output of " + std::to_string(size) + " samples is too large to address");
    }
    Block block;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // Not for a much smaller request, whose arrays would hold the large block.
      if (spare_.capacity >= size && spare_.capacity / 2 <= size) block = std::move(spare_);
    }
    if (!block.memory) {
      block.memory.reset(new std::byte[kBytesPerSample * std::max<std::size_t>(size, 1)]);
      block.capacity = size;
    }
    std::byte* base = block.memory.get();
    auto* loan = new Loan{shared_from_this(), std::move(block)};
    const py::capsule owner(loan, [](void* pointer) {
      std::unique_ptr<Loan> returned(static_cast<Loan*>(pointer));
      returned->pool->give_back(std::move(returned->block));
    });
    const auto n = static_cast<py::ssize_t>(size);
    return py::make_tuple(py::array_t<std::int64_t>(n, reinterpret_cast<std::int64_t*>(base), owner),
                          py::array_t<std::int32_t>(n, reinterpret_cast<std::int32_t*>(base + 8 * size), owner),
                          py::array_t<std::int32_t>(n, reinterpret_cast<std::int32_t*>(base + 12 * size), owner));
  }

 private:
  static constexpr std::size_t kBytesPerSample = 16;  // int64 index, int32 label, int32 repeats
  struct Block {
    std::unique_ptr<std::byte[]> memory;
    std::size_t capacity = 0;  // samples
  };
  struct Loan {
    std::shared_ptr<OutputPool> pool;
    Block block;
  };

  void give_back(Block block) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (block.capacity >= spare_.capacity) spare_ = std::move(block);
  }

  std::mutex mutex_;
  Block spare_;
};

}  // namespace fast_balance_bindings
