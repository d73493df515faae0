// The streaming rebalancer as it was before O(log C) turns (fast_balance 0.1.0, commit c30613c),
// kept as the baseline of benchmarks/test_stream_core_speed.py: smooth weighted round robin, which
// scans every class per emission, with a std::deque and a random stream allocated per class up front.
// Self-contained (its own copy of the random stream) so that it builds on its own with pybind11:
//   c++ -O3 -std=c++17 -shared -fPIC $(python -m pybind11 --includes) swrr_rebalancer.cpp -o ...
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace swrr {

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kReservoirDomain = 6;

constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t domain, std::uint64_t a, std::uint64_t b) noexcept {
  return mix64(mix64(mix64(mix64(seed) ^ domain) ^ a) ^ b);
}

class RandomStream {
 public:
  explicit RandomStream(std::uint64_t key) noexcept : state_(key) {}
  std::uint64_t below(std::uint64_t n) noexcept {
    __extension__ typedef unsigned __int128 u128;
    u128 product = static_cast<u128>(next()) * n;
    auto low = static_cast<std::uint64_t>(product);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        product = static_cast<u128>(next()) * n;
        low = static_cast<std::uint64_t>(product);
      }
    }
    return static_cast<std::uint64_t>(product >> 64);
  }

 private:
  std::uint64_t next() noexcept {
    state_ += kGolden;
    return mix64(state_);
  }
  std::uint64_t state_;
  std::uint64_t half_ = 0;  // unused here; keeps the per-class size of the original
  bool half_pending_ = false;
};

struct RebalanceOptions {
  std::vector<std::uint64_t> weights;  // per class; 0 = the class is not emitted
  std::int64_t capacity_per_class = 0;
  std::uint64_t seed = 0;
};

struct RebalanceStats {
  std::int64_t read = 0;            // records taken from the input
  std::int64_t emitted = 0;         // records emitted, fresh and replayed
  std::int64_t fresh = 0;           // records emitted for the first time
  std::int64_t replays = 0;         // emissions of a record emitted before
  std::int64_t replaced = 0;        // emitted records pushed out of a full reservoir
  std::int64_t unweighted = 0;      // records of weight-0 classes, not emitted by design
  std::int64_t held_bytes = 0;      // payload bytes in memory now
  std::int64_t peak_held_bytes = 0;
};

template <typename Payload>
struct Emission {
  Payload payload;
  std::int32_t label;
  std::int32_t repeats;  // emissions of this record before this one (0 = first view)
};

// Bytes a payload holds; specialise for payload types without size().
template <typename Payload>
std::int64_t payload_bytes(const Payload& payload) {
  return static_cast<std::int64_t>(payload.size());
}

template <typename Payload>
class StreamRebalancer {
 public:
  explicit StreamRebalancer(RebalanceOptions options) : options_(std::move(options)) {
    if (options_.weights.empty()) throw std::invalid_argument("weights must name at least one class");
    if (options_.weights.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      throw std::invalid_argument("too many classes");
    }
    if (options_.capacity_per_class < 1) throw std::invalid_argument("capacity_per_class must be >= 1");
    // Credits stay within [-total, total]; keep that far from overflow.
    constexpr std::uint64_t kMaxTotal = std::uint64_t{1} << 62;
    for (const std::uint64_t w : options_.weights) {
      if (w > kMaxTotal - total_) throw std::invalid_argument("weights sum too large");
      total_ += w;
    }
    if (total_ == 0) throw std::invalid_argument("weights are all zero");
    classes_.resize(options_.weights.size());
    for (std::size_t c = 0; c < classes_.size(); ++c) {
      classes_[c].choices = RandomStream(stream_key(options_.seed, kReservoirDomain, c, 0));
    }
  }

  std::int64_t num_classes() const noexcept { return static_cast<std::int64_t>(classes_.size()); }
  const RebalanceStats& stats() const noexcept { return stats_; }
  // True once the input has ended and every fresh record has been emitted.
  bool finished() const noexcept { return finished_; }

  // Takes the next `payloads` of the stream (labels alongside) and appends to `out` everything
  // that can be emitted before more input is needed. `final`: the input ends after these.
  void push(std::vector<Payload>& payloads, const std::int64_t* labels, bool final,
            std::vector<Emission<Payload>>& out) {
    if (finished_) throw std::logic_error("the stream has already ended");
    const auto count = static_cast<std::int64_t>(payloads.size());
    for (std::int64_t i = 0; i < count; ++i) {
      if (labels[i] < 0 || labels[i] >= num_classes()) {
        throw std::invalid_argument("label " + std::to_string(labels[i]) + " of the record at stream position " +
                                    std::to_string(stats_.read + stats_.unweighted + i) + " is outside [0, " +
                                    std::to_string(num_classes()) + ")");
      }
    }
    std::int64_t next = 0;
    while (true) {
      const std::int64_t c = most_credit(false);
      ClassState& served = classes_[static_cast<std::size_t>(c)];
      if (!served.fresh.empty()) {
        emit_fresh(c, out);
        continue;
      }
      if (full_classes_ == 0) {  // reading cannot overflow any class
        if (next < count) {
          take(payloads[static_cast<std::size_t>(next)], labels[next]);
          ++next;
          continue;
        }
        if (!final) return;  // wait for more input rather than replay too early
      }
      if (final && next == count && fresh_total_ == 0) {
        finished_ = true;
        return;
      }
      if (!served.reservoir.empty()) {
        replay(c, out);
        continue;
      }
      // The served class has nothing at all yet: serve the best class that has something.
      const std::int64_t other = most_credit(true);
      if (other < 0) {  // nothing buffered anywhere: only possible before any record
        if (final) finished_ = true;
        return;
      }
      cap_credit(c);
      if (!classes_[static_cast<std::size_t>(other)].fresh.empty()) {
        emit_fresh(other, out);
      } else {
        replay(other, out);
      }
    }
  }

 private:
  struct Stored {
    Payload payload;
    std::int32_t emissions;  // times emitted so far
  };

  struct ClassState {
    std::deque<Payload> fresh;
    std::vector<Stored> reservoir;
    std::int64_t fresh_emitted = 0;  // Algorithm R's count of records offered to the reservoir
    std::int64_t credit = 0;
    RandomStream choices{0};
  };

  // The class with the most credit (ties: the lowest class number); with `available`, only
  // among classes that hold a record. -1 if none qualifies.
  std::int64_t most_credit(bool available) const noexcept {
    std::int64_t best = -1;
    for (std::size_t c = 0; c < classes_.size(); ++c) {
      if (options_.weights[c] == 0) continue;
      const ClassState& state = classes_[c];
      if (available && state.fresh.empty() && state.reservoir.empty()) continue;
      if (best < 0 || state.credit > classes_[static_cast<std::size_t>(best)].credit) {
        best = static_cast<std::int64_t>(c);
      }
    }
    return best;
  }

  // Smooth weighted round robin: everyone earns its weight, the served class pays the total.
  void charge(std::int64_t served) noexcept {
    for (std::size_t c = 0; c < classes_.size(); ++c) {
      classes_[c].credit += static_cast<std::int64_t>(options_.weights[c]);
    }
    classes_[static_cast<std::size_t>(served)].credit -= static_cast<std::int64_t>(total_);
  }

  // A class that could not be served keeps its turn but does not pile up credit meanwhile.
  void cap_credit(std::int64_t c) noexcept {
    auto& credit = classes_[static_cast<std::size_t>(c)].credit;
    credit = std::min(credit, static_cast<std::int64_t>(total_));
  }

  void take(Payload& payload, std::int64_t label) {
    const auto c = static_cast<std::size_t>(label);
    if (options_.weights[c] == 0) {
      ++stats_.unweighted;
      return;
    }
    ClassState& state = classes_[c];
    hold(payload_bytes(payload));
    state.fresh.push_back(std::move(payload));
    ++fresh_total_;
    ++stats_.read;
    if (static_cast<std::int64_t>(state.fresh.size()) == options_.capacity_per_class) ++full_classes_;
  }

  void emit_fresh(std::int64_t c, std::vector<Emission<Payload>>& out) {
    ClassState& state = classes_[static_cast<std::size_t>(c)];
    if (static_cast<std::int64_t>(state.fresh.size()) == options_.capacity_per_class) --full_classes_;
    Payload payload = std::move(state.fresh.front());
    state.fresh.pop_front();
    --fresh_total_;
    // Algorithm R: the reservoir stays a uniform sample of the class's emitted records.
    ++state.fresh_emitted;
    const std::int64_t bytes = payload_bytes(payload);
    if (static_cast<std::int64_t>(state.reservoir.size()) < options_.capacity_per_class) {
      state.reservoir.push_back(Stored{payload, 1});
    } else {
      const std::uint64_t slot = state.choices.below(static_cast<std::uint64_t>(state.fresh_emitted));
      if (slot < static_cast<std::uint64_t>(options_.capacity_per_class)) {
        Stored& victim = state.reservoir[slot];
        hold(-payload_bytes(victim.payload));  // the emitted record stays, in the victim's place
        victim = Stored{payload, 1};
        ++stats_.replaced;
      } else {
        hold(-bytes);  // emitted and not kept
      }
    }
    out.push_back(Emission<Payload>{std::move(payload), static_cast<std::int32_t>(c), 0});
    ++stats_.fresh;
    ++stats_.emitted;
    charge(c);
  }

  void replay(std::int64_t c, std::vector<Emission<Payload>>& out) {
    ClassState& state = classes_[static_cast<std::size_t>(c)];
    Stored& chosen = state.reservoir[state.choices.below(state.reservoir.size())];
    out.push_back(Emission<Payload>{chosen.payload, static_cast<std::int32_t>(c), chosen.emissions});
    if (chosen.emissions < std::numeric_limits<std::int32_t>::max()) ++chosen.emissions;
    ++stats_.replays;
    ++stats_.emitted;
    charge(c);
  }

  void hold(std::int64_t bytes) noexcept {
    stats_.held_bytes += bytes;
    stats_.peak_held_bytes = std::max(stats_.peak_held_bytes, stats_.held_bytes);
  }

  RebalanceOptions options_;
  std::uint64_t total_ = 0;
  std::vector<ClassState> classes_;
  std::int64_t full_classes_ = 0;  // classes whose fresh FIFO is at capacity
  std::int64_t fresh_total_ = 0;
  bool finished_ = false;
  RebalanceStats stats_;
};

}  // namespace swrr

namespace py = pybind11;

PYBIND11_MODULE(_swrr_rebalancer, m) {
  using Rebalancer = swrr::StreamRebalancer<std::string>;
  py::class_<Rebalancer>(m, "Rebalancer")
      .def(py::init([](const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights,
                       std::int64_t capacity_per_class, std::uint64_t seed) {
             swrr::RebalanceOptions options;
             options.weights.assign(weights.data(), weights.data() + weights.size());
             options.capacity_per_class = capacity_per_class;
             options.seed = seed;
             return std::make_unique<Rebalancer>(std::move(options));
           }))
      .def("push",
           [](Rebalancer& self, const py::sequence& payloads,
              const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& labels, bool final) {
             std::vector<std::string> records;
             records.reserve(py::len(payloads));
             for (const auto& item : payloads) records.emplace_back(item.cast<std::string>());
             const std::vector<std::int64_t> classes(labels.data(), labels.data() + labels.size());
             std::vector<swrr::Emission<std::string>> emitted;
             {
               py::gil_scoped_release release;
               self.push(records, classes.data(), final, emitted);
             }
             py::list out_payloads(emitted.size());
             py::array_t<std::int32_t> out_labels(static_cast<py::ssize_t>(emitted.size()));
             py::array_t<std::int32_t> out_repeats(static_cast<py::ssize_t>(emitted.size()));
             for (std::size_t i = 0; i < emitted.size(); ++i) {
               out_payloads[i] = py::bytes(emitted[i].payload);
               out_labels.mutable_data()[i] = emitted[i].label;
               out_repeats.mutable_data()[i] = emitted[i].repeats;
             }
             return py::make_tuple(out_payloads, out_labels, out_repeats);
           })
      .def_property_readonly("stats", [](const Rebalancer& self) {
        const auto& s = self.stats();
        py::dict d;
        d["read"] = s.read;
        d["emitted"] = s.emitted;
        return d;
      });
}
