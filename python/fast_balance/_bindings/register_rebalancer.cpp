// Binds the streaming rebalancer (csrc/rebalance.hpp) over bytes payloads.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "rebalance.hpp"

namespace fast_balance_bindings {

using Rebalancer = fast_balance::StreamRebalancer<std::string>;

void register_rebalancer(py::module_& m) {
  py::class_<Rebalancer>(m, "Rebalancer")
      .def(py::init([](const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& weights,
                       std::int64_t capacity_per_class, std::uint64_t seed) {
             fast_balance::RebalanceOptions options;
             options.weights.assign(weights.data(), weights.data() + weights.size());
             options.capacity_per_class = capacity_per_class;
             options.seed = seed;
             return std::make_unique<Rebalancer>(std::move(options));
           }),
           py::arg("weights"), py::arg("capacity_per_class"), py::arg("seed"))
      .def(
          "push",
          [](Rebalancer& self, const py::sequence& payloads,
             const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& labels, bool final) {
            if (static_cast<py::ssize_t>(py::len(payloads)) != labels.size()) {
              throw py::value_error("payloads and labels differ in length");
            }
            std::vector<std::string> records;
            records.reserve(py::len(payloads));
            for (const auto& item : payloads) {
              if (!PyBytes_Check(item.ptr())) throw py::type_error("payloads must be bytes");
              records.emplace_back(PyBytes_AS_STRING(item.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(item.ptr())));
            }
            std::vector<fast_balance::Emission<std::string>> emitted;
            {
              py::gil_scoped_release release;
              self.push(records, labels.data(), final, emitted);
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
          },
          py::arg("payloads"), py::arg("labels"), py::arg("final"),
          "Feeds the next records; returns what can be emitted now as (payloads, labels, repeats).")
      .def_property_readonly("finished", &Rebalancer::finished)
      .def_property_readonly("stats", [](const Rebalancer& self) {
        const auto& s = self.stats();
        py::dict d;
        d["read"] = s.read;
        d["emitted"] = s.emitted;
        d["fresh"] = s.fresh;
        d["replays"] = s.replays;
        d["replaced"] = s.replaced;
        d["unweighted"] = s.unweighted;
        d["held_bytes"] = s.held_bytes;
        d["peak_held_bytes"] = s.peak_held_bytes;
        return d;
      });
}

}  // namespace fast_balance_bindings
