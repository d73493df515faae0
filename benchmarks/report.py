"""Markdown tables for the performance page (docs/performance.md) from pytest-benchmark JSON files.

    python benchmarks/report.py benchmarks/sampler.json [benchmarks/pipeline.json] [benchmarks/scale.json]
    python benchmarks/report.py --page docs/performance.md benchmarks/{sampler,pipeline,stream,scale}.json  # the page

A file is read as the streaming benchmark when one of its groups starts with "streaming", as the
image-pipeline benchmark when one contains "image pipeline", as the scale benchmark when all its
groups are "scale", as the sampler benchmark otherwise. All figures come from each benchmark's
``extra_info``; each kind's table goes into the page's ``<!-- benchmark:KIND -->`` block.
"""

from __future__ import annotations

import argparse
import json

SAMPLER_COMMAND = (
    "python -m pytest benchmarks/test_sampler_speed.py --benchmark-only "
    "--benchmark-json=benchmarks/sampler.json -p no:cacheprovider"
)
PIPELINE_COMMAND = (
    "python -m pytest benchmarks/test_pipeline_speed.py --benchmark-only --benchmark-json=benchmarks/pipeline.json"
)
PLAIN_PIPELINE = "plain tf.data (unbalanced)"
BASELINES = ["numpy", "blog Example 1", "tf sample_from_datasets"]
BASELINE_TITLES = {"numpy": "NumPy", "blog Example 1": "blog Example 1",
                   "tf sample_from_datasets": "tf sample_from_datasets"}
NOT_RUN = "—"


def millions(value: float | None) -> str:
    """Millions, to three significant digits at least (0.0363, 4.56, 64.1, 120)."""
    if value is None:
        return NOT_RUN
    value /= 1e6
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.3g}" if value < 1 else f"{value:.2f}"


def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None:
        return NOT_RUN
    times = ours / theirs
    return f"{times:,.1f}x" if times < 100 else f"{times:,.0f}x"


def seconds(value: float | None) -> str:
    if value is None:
        return NOT_RUN
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.1f} s"


def size_name(n: int) -> str:
    text = str(n)
    return f"1e{len(text) - 1}" if text.strip("0") == "1" else f"{n:,}"


def provenance(command: str, data: dict) -> str:
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {})
    return (
        f"Produced by `{command}` on {data.get('datetime', '?')[:16].replace('T', ' ')} "
        f"({cpu.get('brand_raw', 'unknown CPU')}, {cpu.get('count', '?')} logical cores, "
        f"Python {machine.get('python_version', '?')}); best round of each benchmark."
    )


def sampler_report(data: dict) -> str:
    rows = [b["extra_info"] for b in data["benchmarks"] if "kind" in b.get("extra_info", {})]
    by_key = {(r["name"], r["kind"], r["N"], r["C"]): r for r in rows}
    grid = sorted({(r["N"], r["C"]) for r in rows if r["kind"] == "epoch"})

    def value(name, kind, n, c, field):
        return by_key.get((name, kind, n, c), {}).get(field)

    lines = [provenance(SAMPLER_COMMAND, data), "",
             "Epoch throughput, M indices/s (long-tailed labels, largest/smallest class = 100; balanced, "
             "samples_per_epoch \"max\", without replacement):", ""]
    header = (["N", "C", "samples/epoch", "fast_balance", "fast_balance, reused buffers", "fast_balance batch 64"]
              + [BASELINE_TITLES[b] for b in BASELINES]
              + [f"fast_balance / {BASELINE_TITLES[b]}" for b in BASELINES])
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for n, c in grid:
        ours = value("fast_balance", "epoch", n, c, "indices_per_s")
        theirs = [value(b, "epoch", n, c, "indices_per_s") for b in BASELINES]
        size = value("fast_balance", "epoch", n, c, "samples_per_epoch")
        cells = ([size_name(n), f"{c:,}", f"{size:,}" if size else NOT_RUN, millions(ours),
                  millions(value("fast_balance", "epoch into reused buffers", n, c, "indices_per_s")),
                  millions(value("fast_balance", "epoch batch 64", n, c, "indices_per_s"))]
                 + [millions(t) for t in theirs] + [ratio(ours, t) for t in theirs])
        lines.append("| " + " | ".join(cells) + " |")
    blog_draws = value("blog Example 1", "epoch", *grid[0], "samples_per_epoch") if grid else None
    tf_draws = next((r["samples_per_epoch"] for r in rows if r["name"] == "tf sample_from_datasets"), None)
    notes = []
    if blog_draws:
        notes.append(f"blog Example 1: {blog_draws:,} draws per round, pure Python; {NOT_RUN} where its "
                     "set-up was estimated over 30 s")
    if tf_draws:
        notes.append(f"tf sample_from_datasets: {tf_draws:,} indices per round as batches of 1024, "
                     "C <= 1,000 and N = 1e6 only")
    if notes:
        lines += ["", "; ".join(notes) + "."]

    setup_grid = sorted({(r["N"], r["C"]) for r in rows if r["kind"] == "setup"})
    lines += ["", "Set-up (constructing the sampler):", "",
              "| N | C | fast_balance | NumPy | blog Example 1 (`np.where` per class) "
              "| tf sample_from_datasets (build + first batch) |",
              "|---|---|---|---|---|---|"]
    for n, c in setup_grid:
        blog = by_key.get(("blog Example 1", "setup", n, c))
        blog_cell = NOT_RUN if blog is None else (
            f"~{seconds(blog['setup_s'])} (estimated)" if blog.get("estimated") else seconds(blog["setup_s"]))
        cells = [size_name(n), f"{c:,}", seconds(value("fast_balance", "setup", n, c, "setup_s")),
                 seconds(value("numpy", "setup", n, c, "setup_s")), blog_cell,
                 seconds(value("tf sample_from_datasets", "epoch", n, c, "build_s"))]
        lines.append("| " + " | ".join(cells) + " |")
    for row in rows:
        if row["kind"] == "setup" and "target_s" in row:
            lines += ["", f"Set-up target (C = {row['C']:,}, N = {size_name(row['N'])}): < {row['target_s']} s; "
                          f"measured {seconds(row['setup_s'])}: {'met' if row['met'] else 'MISSED'}."]

    memory = sorted((r for r in rows if r["kind"].startswith("memory")), key=lambda r: (r["N"], r["C"], r["kind"]))
    if memory:
        lines += ["", "Peak resident memory of the first `epoch()` above the level before it, per sample "
                      "(fresh process; includes the C++ workspace; the output itself is 16 bytes/sample):", "",
                  "| N | C | batches | samples/epoch | peak bytes/sample incl. output | extra beyond output "
                  "| later epochs | tracemalloc (Python-visible) | extra <= 16 |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in memory:
            cells = [size_name(r["N"]), f"{r['C']:,}", "64" if "64" in r["kind"] else "none",
                     f"{r['samples_per_epoch']:,}", f"{r['bytes_per_sample']:.1f}",
                     f"{r['extra_bytes_per_sample']:.1f}", f"{r['later_epoch_bytes_per_sample']:.1f}",
                     f"{r['traced_bytes_per_sample']:.1f}", "yes" if r["met"] else "**no**"]
            lines.append("| " + " | ".join(cells) + " |")
        worst = max(memory, key=lambda r: r["extra_bytes_per_sample"])
        lines += ["", f"Memory: at most {worst['extra_bytes_per_sample']:.1f} extra bytes per sample beyond the "
                      f"output (N = {size_name(worst['N'])}, C = {worst['C']:,}, {worst['kind']}); target <= 16: "
                      f"{'met' if all(r['met'] for r in memory) else 'MISSED'}."]
    return "\n".join(lines)


def pipeline_report(data: dict) -> str:
    rows = [b["extra_info"] for b in data["benchmarks"] if "image pipeline" in (b.get("group") or "")]
    plain = next((r["images_per_s"] for r in rows if r.get("name") == PLAIN_PIPELINE), None)
    group = next(b["group"] for b in data["benchmarks"] if "image pipeline" in (b.get("group") or ""))
    lines = [provenance(PIPELINE_COMMAND, data), "", f"{group[0].upper()}{group[1:]}:", "",
             "| pipeline | images/s | vs plain tf.data | max/min class count | reads per emitted image "
             "| decode bank hit rate |",
             "|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: -r["images_per_s"]):
        cells = [r["name"], f"{r['images_per_s']:,.0f}",
                 f"{r['images_per_s'] / plain:.2f}x" if plain else NOT_RUN,
                 f"{r['max_min_class_ratio']:.2f}" if "max_min_class_ratio" in r else NOT_RUN,
                 f"{r['reads_per_emitted']:.2f}" if "reads_per_emitted" in r else NOT_RUN,
                 f"{r['bank_hit_rate']:.0%}" if "bank_hit_rate" in r else NOT_RUN]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


SCALE_COMMAND = "python -m pytest benchmarks/test_scale.py --benchmark-only --benchmark-json=benchmarks/scale.json"


def scale_report(data: dict) -> str:
    lines = [
        provenance(SCALE_COMMAND, data),
        "",
        "| N = 1e8, C = 100,000 | samples out | time | M indices/s | peak extra memory | bytes per sample out |",
        "|---|---|---|---|---|---|",
    ]
    for row in (b["extra_info"] for b in data["benchmarks"]):
        out = row["samples"]
        memory = f"{row['peak_extra_bytes'] / 2**30:.2f} GiB"
        lines.append(
            f"| {row['kind']} | {out:,} | {seconds(row['seconds'])} | {millions(row['indices_per_s'])}"
            f" | {memory} | {row['peak_extra_bytes'] / out:.1f} |"
            if out else
            f"| {row['kind']} | {NOT_RUN} | {seconds(row['seconds'])} | {NOT_RUN} | {memory} | {NOT_RUN} |"
        )
    return "\n".join(lines)


STREAM_COMMAND = (
    "python -m pytest benchmarks/test_stream_speed.py --benchmark-only --benchmark-json=benchmarks/stream.json"
)


def stream_report(data: dict) -> str:
    rows = [b["extra_info"] for b in data["benchmarks"]]
    rejection = next((r["images_per_s"] for r in rows if r["name"] == "tf rejection_resample"), None)
    lines = [
        provenance(STREAM_COMMAND, data),
        "",
        "| pipeline | images/s | vs rejection_resample | max/min class count | records read per emitted image "
        "| bytes held by the rebalancer (peak) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['images_per_s']:,.0f} | {ratio(r['images_per_s'], rejection)} | "
            f"{r['max_min_class_ratio']:.2f} | {r['reads_per_emitted']:.2f} | {r['peak_held_mib']:.1f} MiB |"
        )
    return "\n".join(lines)


def kind(data: dict) -> str:
    groups = [b.get("group") or "" for b in data["benchmarks"]]
    if any(g.startswith("streaming") for g in groups):
        return "stream"
    if any("image pipeline" in g for g in groups):
        return "pipeline"
    return "scale" if set(groups) == {"scale"} else "sampler"


def report(data: dict) -> str:
    reports = {"pipeline": pipeline_report, "scale": scale_report, "sampler": sampler_report, "stream": stream_report}
    return reports[kind(data)](data)


def replace_block(text: str, name: str, table: str, page: str = "the page") -> str:
    """Replaces what stands between ``<!-- benchmark:NAME -->`` and ``<!-- /benchmark:NAME -->``."""
    begin, end = f"<!-- benchmark:{name} -->", f"<!-- /benchmark:{name} -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{page} has no {begin} ... {end} block")
    head, rest = text.split(begin, 1)
    return head + begin + "\n" + table + "\n" + end + rest.split(end, 1)[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="pytest-benchmark --benchmark-json output")
    parser.add_argument("--page", help="write each table into this markdown file's <!-- benchmark:KIND --> block "
                                       "(docs/performance.md)")
    args = parser.parse_args(argv)
    tables = []
    for path in args.files:
        with open(path) as file:
            data = json.load(file)
        tables.append((kind(data), report(data)))
    if args.page:
        with open(args.page) as file:
            text = file.read()
        for name, table in tables:
            text = replace_block(text, name, table, args.page)
        with open(args.page, "w") as file:
            file.write(text)
    else:
        print("\n\n".join(table for _, table in tables))


if __name__ == "__main__":
    main()
