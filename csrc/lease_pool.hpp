// LeasePool: the scratch space of a sampler's calls, kept between calls so that its pages are not
// faulted in anew, and a fresh one for a call that runs while another holds it.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace fast_balance {

// One cached Space: a call leases it, or a fresh one while another call holds it, and the space
// returned last is kept.
template <typename Space>
class LeasePool {
 public:
  class Lease {
   public:
    explicit Lease(LeasePool& pool) : pool_(pool) {
      std::lock_guard<std::mutex> lock(pool_.mutex_);
      space_ = std::move(pool_.cached_);
      if (!space_) space_ = std::make_unique<Space>();
    }
    ~Lease() {
      std::lock_guard<std::mutex> lock(pool_.mutex_);
      pool_.cached_ = std::move(space_);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Space& workspace() noexcept { return *space_; }

   private:
    LeasePool& pool_;
    std::unique_ptr<Space> space_;
  };

 private:
  std::mutex mutex_;
  std::unique_ptr<Space> cached_;
};

}  // namespace fast_balance
