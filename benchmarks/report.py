"""Markdown tables for the README from pytest-benchmark JSON files.

    python benchmarks/report.py benchmarks/sampler.json benchmarks/pipeline.json benchmarks/scale.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

SAMPLER_COMMAND = (
    "python -m pytest benchmarks/test_sampler_speed.py --benchmark-only --benchmark-json=benchmarks/sampler.json"
)
PIPELINE_COMMAND = (
    "python -m pytest benchmarks/test_pipeline_speed.py --benchmark-only --benchmark-json=benchmarks/pipeline.json"
)
SCALE_COMMAND = "python -m pytest benchmarks/test_scale.py --benchmark-only --benchmark-json=benchmarks/scale.json"
PLAIN = "plain tf.data (unbalanced)"


def _rate(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:,.1f} M"
    if value >= 1e3:
        return f"{value / 1e3:,.0f} k"
    return f"{value:,.0f}"


def _machine(data: dict) -> str:
    info = data.get("machine_info", {})
    cpu = info.get("cpu", {}).get("brand_raw", "unknown CPU")
    return f"{cpu}, {info.get('cpu', {}).get('count', '?')} cores, Python {info.get('python_version', '?')}"


def sampler_tables(data: dict) -> str:
    rows = [b["extra_info"] for b in data["benchmarks"]]
    speed = defaultdict(dict)
    for row in rows:
        if row["kind"].startswith("epoch"):
            speed[(row["N"], row["C"])][(row["name"], row["kind"])] = row
    lines = [
        f"Measured with `{SAMPLER_COMMAND}` ({data['datetime'][:10]}, {_machine(data)}); indices/s, best of the rounds.",
        "",
        "| N | C | fast_balance | fast_balance, batches of 64 | NumPy | blog Example 1 | tf sample_from_datasets"
        " | vs NumPy | vs blog | vs sample_from_datasets |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (n, c), found in sorted(speed.items()):
        ours = found.get(("fast_balance", "epoch"), {}).get("indices_per_s")
        cells = []
        for key in [("fast_balance", "epoch"), ("fast_balance", "epoch, batches of 64"), ("NumPy", "epoch"),
                    ("blog Example 1", "epoch"), ("tf sample_from_datasets", "epoch")]:
            cells.append(_rate(found[key]["indices_per_s"]) if key in found else "n/a")
        ratios = []
        for name in ("NumPy", "blog Example 1", "tf sample_from_datasets"):
            other = found.get((name, "epoch"), {}).get("indices_per_s")
            ratios.append(f"{ours / other:,.0f}x" if ours and other else "n/a")
        lines.append(f"| {n:.0e} | {c:,} | " + " | ".join(cells + ratios) + " |")

    lines += ["", "| set-up | N | C | fast_balance | blog Example 1 (`np.where` per class) | tf sample_from_datasets |",
              "|---|---|---|---|---|---|"]
    tf_setup = {(r["N"], r["C"]): r["setup_s"] for r in rows if r["name"] == "tf sample_from_datasets"}
    for row in sorted((r for r in rows if r["kind"] == "setup"), key=lambda r: (r["N"], r["C"])):
        blog = f"{row['blog_setup_s']:.2f} s" if "blog_setup_s" in row else "n/a (O(N*C))"
        tf_s = f"{tf_setup[(row['N'], row['C'])]:.2f} s" if (row["N"], row["C"]) in tf_setup else "n/a"
        lines.append(f"| | {row['N']:.0e} | {row['C']:,} | {row['setup_s'] * 1e3:,.1f} ms | {blog} | {tf_s} |")

    lines += ["", "| peak memory of one `epoch()` (N = 1e7) | C | samples | bytes/sample | beyond the 16-byte output |",
              "|---|---|---|---|---|"]
    for row in sorted((r for r in rows if r["kind"].startswith("memory")), key=lambda r: (r["kind"], r["C"])):
        lines.append(f"| {row['kind'].replace('memory', 'fast_balance')} | {row['C']:,} | {row['samples']:,} | "
                     f"{row['bytes_per_sample']:.1f} | {row['extra_bytes_per_sample_beyond_output']:.1f} |")
    return "\n".join(lines)


def pipeline_table(data: dict) -> str:
    rows = [b["extra_info"] for b in data["benchmarks"]]
    plain = next((r["images_per_s"] for r in rows if r["name"] == PLAIN), None)
    lines = [
        f"Measured with `{PIPELINE_COMMAND}` ({data['datetime'][:10]}, {_machine(data)}).",
        "",
        "| pipeline | images/s | vs plain | max/min class count | reads per emitted image | decode bank hit rate |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = f"{row['images_per_s'] / plain:.2f}x" if plain else "n/a"
        reads = f"{row['reads_per_emitted']:.1f}" if "reads_per_emitted" in row else ""
        hits = f"{row['bank_hit_rate']:.0%}" if "bank_hit_rate" in row else ""
        lines.append(f"| {row['name']} | {row['images_per_s']:,.0f} | {ratio} | {row['max_min_class_ratio']:.2f} |"
                     f" {reads} | {hits} |")
    return "\n".join(lines)


def scale_table(data: dict) -> str:
    lines = [
        f"Measured with `{SCALE_COMMAND}` ({data['datetime'][:10]}, {_machine(data)}).",
        "",
        "| N = 1e8, C = 100,000 | samples out | time | indices/s | peak extra memory | bytes/sample out |",
        "|---|---|---|---|---|---|",
    ]
    for row in (b["extra_info"] for b in data["benchmarks"]):
        per_sample = f"{row['peak_extra_bytes'] / row['samples']:.1f}" if row["samples"] else ""
        rate = _rate(row["indices_per_s"]) if row["samples"] else ""
        lines.append(f"| {row['kind']} | {row['samples']:,} | {row['seconds']:.2f} s | {rate} | "
                     f"{row['peak_extra_bytes'] / 2**30:.2f} GiB | {per_sample} |")
    return "\n".join(lines)


def main(paths: list[str]) -> None:
    for path in paths:
        with open(path) as file:
            data = json.load(file)
        groups = {b["group"] or "" for b in data["benchmarks"]}
        if any("image pipeline" in g for g in groups):
            print(pipeline_table(data))
        elif groups == {"scale"}:
            print(scale_table(data))
        else:
            print(sampler_tables(data))
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
