"""docs/performance-torch.md from the JSON of benchmarks/test_torch_speed.py.

    python benchmarks/report_torch.py benchmarks/torch.json docs/performance-torch.md
"""

from __future__ import annotations

import argparse
import json
import math

from report import millions, provenance, seconds, size_name

COMMAND = ("python -m pytest benchmarks/test_torch_speed.py --benchmark-only --benchmark-json=benchmarks/torch.json "
           "-p no:cacheprovider && python benchmarks/report_torch.py benchmarks/torch.json docs/performance-torch.md")
ORDER = ("fast_balance", "fast_balance DDP", "WeightedRandomSampler", "WeightedRandomSampler + catalyst DDP")
NAMES = {
    "fast_balance": "fast_balance `BalancedSampler`",
    "fast_balance DDP": "fast_balance `BalancedSampler`, rank 0 of 8",
    "WeightedRandomSampler": "`WeightedRandomSampler`",
    "WeightedRandomSampler + catalyst DDP": "`WeightedRandomSampler` + catalyst wrapper, rank 0 of 8",
}

INTRO = """\
# Performance: fast_balance.torch against WeightedRandomSampler

What PyTorch users reach for to balance classes is `WeightedRandomSampler` with weights 1 / n_c, and
under DistributedDataParallel catalyst's `DistributedSamplerWrapper`, which runs the whole inner
sampler into a list on every rank and keeps the rank's share (both re-implemented in
`benchmarks/torch_baselines.py`). Each row is one epoch of N indices (a rank's share of it for the
rank-0-of-8 rows: N / 8), consumed at C speed in one process; labels are long-tailed (largest /
smallest class = 100). fast_balance draws `samples_per_epoch="n"` in stratified batches of 64,
without replacement; `WeightedRandomSampler` draws with replacement (its `replacement=False` is far
slower: pytorch/pytorch#32221).

- **set-up**: building the sampler (fast_balance: the plan; `WeightedRandomSampler`: the
  per-sample weights and the sampler); **epoch**: the time to yield the epoch's indices (what
  `len(sampler)` says); **memory**: peak resident memory added by each step.
- **per-batch max/min** (C = 10 only, where a batch of 64 holds every class): the largest over
  the smallest class count of a batch, median and worst batch over the epoch (∞: a class is
  missing from the batch); **epoch max/min**: the largest over the smallest class count of the
  whole epoch (rank's share), ∞ where classes were never drawn.
"""


def ratio_text(high: float | None, low: float | None) -> str:
    if high is None or low is None:
        return "—"
    return "∞" if low == 0 else f"{high / low:.2f}"


def mib(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / 2**20:,.0f} MiB" if value < 2**30 else f"{value / 2**30:.2f} GiB"


def row(info: dict) -> list[str]:
    cells = [size_name(info.get("N_nominal", info["N"])),
             f"{info['C']:,}", NAMES[info["kind"]], seconds(info["setup_s"]), mib(info["setup_bytes"])]
    if "refused" in info:
        return [*cells, "refuses: " + info["refused"].replace("|", "\\|"), "", "", "", "", ""]
    batch = "—"
    if "batch_spread_median" in info:
        worst = info["batch_spread_worst"]
        batch = f"{info['batch_spread_median']:.2f} / {'∞' if math.isinf(worst) else f'{worst:.2f}'}"
    epoch = ratio_text(info["epoch_max"], info["epoch_min"])
    if info.get("classes_missing"):
        epoch += f" ({info['classes_missing']:,} classes never drawn)"
    return [*cells, seconds(info["epoch_s"]), millions(info["indices_per_s"]), mib(info["epoch_bytes"]), batch, epoch,
            f"{info['samples']:,}"]


def report(data: dict) -> str:
    infos = [b["extra_info"] for b in data["benchmarks"] if "kind" in b.get("extra_info", {})]
    infos.sort(key=lambda info: (info.get("N_nominal", info["N"]), info["C"], ORDER.index(info["kind"])))
    header = ["N", "C", "sampler", "set-up", "set-up memory", "epoch", "M indices/s", "epoch memory",
              "per-batch max/min (median / worst)", "epoch max/min", "indices"]
    loads = [info["load_average"] for info in infos if "load_average" in info]
    shared = (f" The machine was shared: 1-minute load average {min(loads):.1f} to {max(loads):.1f} during the run."
              if loads else "")
    lines = [INTRO, provenance(COMMAND, data) + shared, "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row(info)) + " |" for info in infos]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json")
    parser.add_argument("output")
    args = parser.parse_args()
    with open(args.json) as file:
        data = json.load(file)
    text = report(data)
    notes_marker = "<!-- notes -->"
    try:
        with open(args.output) as file:
            old = file.read()
        if notes_marker in old:  # hand-written notes below the marker are kept
            text += "\n" + old[old.index(notes_marker):]
    except FileNotFoundError:
        pass
    with open(args.output, "w") as file:
        file.write(text)


if __name__ == "__main__":
    main()
