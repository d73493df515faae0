"""Markdown tables for the performance pages (docs/performance.md, docs/performance-weights.md) from
pytest-benchmark JSON files.

    python benchmarks/report.py benchmarks/sampler.json [benchmarks/pipeline.json] [benchmarks/scale.json]
    python benchmarks/report.py --page docs/performance.md benchmarks/{sampler,pipeline,stream,scale}.json
    python benchmarks/report.py --page docs/performance-augmentation.md benchmarks/augment.json
    python benchmarks/report.py --page docs/performance-weights.md benchmarks/weights.json

A file is read as the sample-weights benchmark when one of its groups starts with "weights", as
the streaming benchmark when one starts with "streaming", as the augmentation benchmark when one
starts with "augmentation", as the image-pipeline benchmark when one contains "image pipeline", as
the scale benchmark when all its groups are "scale", as the sampler benchmark otherwise. All
figures come from each benchmark's ``extra_info``; each kind's table goes into the page's
``<!-- benchmark:KIND -->`` block.
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
WEIGHTS_COMMAND = (
    "python -m pytest benchmarks/test_weights_speed.py --benchmark-only "
    "--benchmark-json=benchmarks/weights.json -p no:cacheprovider"
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


AUGMENT_COMMAND = (
    "python -m pytest benchmarks/test_augment_speed.py --benchmark-only --benchmark-json=benchmarks/augment.json "
    "-p no:cacheprovider"
)
KERAS_LAYERS = "plain tf.data + Keras preprocessing layers"
TF_IMAGE = "plain tf.data + per-image tf.image"


def paired_ratio(ours: list[float], theirs: list[float] | None) -> str:
    """Median over rounds of the speed ratio within each round (seconds: theirs / ours)."""
    if theirs is None:
        return NOT_RUN
    times = sorted(t / o for o, t in zip(ours, theirs))
    middle = len(times) // 2
    median = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
    return f"{median:.2f}x"


def augment_report(data: dict) -> str:
    (bench,) = data["benchmarks"]
    info = bench["extra_info"]
    rows = info["contenders"]
    rounds = {r["name"]: r["round_seconds"] for r in rows}
    group = bench["group"]
    low, high = info["load_average"]
    lines = [provenance(AUGMENT_COMMAND, data).replace("best round of each benchmark",
                                                       f"contenders in turn, {info['rounds']} rounds each"),
             "", f"{group[0].upper()}{group[1:]}:", "",
             "| pipeline | images augmented | images/s, best round | images/s, median round | vs Keras layers "
             "| vs per-image tf.image | max/min class count | decode bank hit rate |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r["name"], f"{r['augmented_share']:.0%}", f"{r['images_per_s']:,.0f}",
                 f"{r['median_images_per_s']:,.0f}",
                 paired_ratio(r["round_seconds"], rounds.get(KERAS_LAYERS)),
                 paired_ratio(r["round_seconds"], rounds.get(TF_IMAGE)),
                 f"{r['max_min_class_ratio']:.2f}", f"{r['bank_hit_rate']:.0%}" if "bank_hit_rate" in r else NOT_RUN]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"{info['images_per_round']:,} images per round. Ratios: the speed ratio within each round (the "
                  "contenders of a round ran within about a minute of each other), median over rounds. The "
                  f"machine's 1-minute load average ranged from {low:.1f} to {high:.1f} during the run (2 cores, "
                  "shared)."]
    return "\n".join(lines)


def weights_report(data: dict) -> str:
    rows = [b["extra_info"] for b in data["benchmarks"] if "kind" in b.get("extra_info", {})]
    by_key = {(r["name"], r["kind"], r["N"]): r for r in rows}

    def value(name, kind, n, field):
        return by_key.get((name, kind, n), {}).get(field)

    sizes = sorted({r["N"] for r in rows})
    modes = ["without replacement", "with replacement"]
    lines = [provenance(WEIGHTS_COMMAND, data)]
    header = ["N", "fast_balance", "fast_balance, with replacement", "fast_balance, classes",
              "fast_balance, classes, with replacement", "NumPy choice(p)", "NumPy choice(p), with replacement",
              "fast_balance / NumPy", "fast_balance / NumPy, with replacement"]
    for field, clock in (("cpu_indices_per_s", "CPU time of the process"), ("indices_per_s", "wall-clock time")):
        lines += ["", f"Epoch throughput, M indices/s in {clock} (exponential weights, 5% zero; N samples per "
                  "epoch, NumPy's choice without replacement N / 2; classes: 1,000 long-tailed classes, "
                  'samples_per_epoch "n"):', "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for n in sizes:
            ours = [value("fast_balance", f"epoch {m}", n, field) for m in modes]
            classes = [value("fast_balance, classes", f"epoch {m}", n, field) for m in modes]
            numpy = [value("numpy", f"epoch {m}", n, field) for m in modes]
            numpy_cells = []
            for m, rate in zip(modes, numpy):
                estimate = value("numpy", f"epoch {m}", n, "estimated_s")
                numpy_cells.append(millions(rate) if rate is not None or estimate is None
                                   else f"— (estimated {seconds(estimate)})")
            cells = [size_name(n), *map(millions, ours), *map(millions, classes), *numpy_cells,
                     *(ratio(a, b) for a, b in zip(ours, numpy))]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Set-up (constructing the sampler; NumPy: normalising the weights to p):", "",
              "| N | fast_balance | fast_balance, with replacement | fast_balance, classes | NumPy |",
              "|---|---|---|---|---|"]
    for n in sizes:
        cells = [value("fast_balance", f"setup {m}", n, "seconds") for m in modes]
        cells += [value("fast_balance, classes", "setup without replacement", n, "seconds"),
                  value("numpy", "setup", n, "seconds")]
        lines.append(f"| {size_name(n)} | " + " | ".join(map(seconds, cells)) + " |")
    memory = sorted((r for r in rows if r["kind"].startswith("memory")),
                    key=lambda r: (r["name"], r["N"], r["kind"] != "memory without replacement"))
    if memory:
        lines += ["", "Memory, bytes per sample, peak resident in a fresh process (the plan per sample of the data; an "
                  "epoch per sample of the epoch, its output included):", "",
                  "| sampler | N | replacement | plan kept | building, peak | first epoch, peak | output | "
                  "extra beyond output | later epochs, peak | extra <= 16 |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in memory:
            lines.append(
                f"| {r['name']} | {size_name(r['N'])} | {'with' if 'with replacement' in r['kind'] else 'without'} | "
                f"{r['plan_bytes_per_sample']:.1f} | {r['build_peak_bytes_per_sample']:.1f} | "
                f"{r['epoch_bytes_per_sample']:.1f} | {r['output_bytes_per_sample']} | "
                f"{r['extra_bytes_per_sample']:.1f} | "
                f"{r['later_epoch_bytes_per_sample']:.1f} | {'yes' if r['met'] else 'no'} |"
            )
        worst = max(memory, key=lambda r: r["extra_bytes_per_sample"])
        lines += ["", f"Memory: at most {worst['extra_bytes_per_sample']:.1f} extra bytes per sample beyond the output "
                  f"({worst['name']}, N = {size_name(worst['N'])}, {worst['kind'][len('memory '):]}); target <= 16: "
                  f"{'met' if all(r['met'] for r in memory) else 'not met'}."]
    return "\n".join(lines)


def kind(data: dict) -> str:
    groups = [b.get("group") or "" for b in data["benchmarks"]]
    if any(g.startswith("weights") for g in groups):
        return "weights"
    if any(g.startswith("streaming") for g in groups):
        return "stream"
    if any(g.startswith("augmentation") for g in groups):
        return "augment"
    if any("image pipeline" in g for g in groups):
        return "pipeline"
    return "scale" if set(groups) == {"scale"} else "sampler"


def report(data: dict) -> str:
    reports = {"pipeline": pipeline_report, "scale": scale_report, "sampler": sampler_report, "stream": stream_report,
               "augment": augment_report, "weights": weights_report}
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
