"""The generated image set, the main job's image part, and the class-weights example."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from fast_balance.files import check_image_files
from fast_balance.tf.synthetic import make_long_tailed_images

ROOT = Path(__file__).resolve().parents[2]


def test_generated_images_are_long_tailed_decodable_and_reproducible(tmp_path):
    paths, labels, names = make_long_tailed_images(tmp_path / "a", counts=(6, 2), min_size=40, max_size=60,
                                                   progress=False)
    assert names == ["class_00", "class_01"] and np.bincount(labels).tolist() == [6, 2]
    assert check_image_files(paths, progress=False) == {}
    shapes = {tuple(tf.io.decode_jpeg(tf.io.read_file(p)).shape) for p in paths}
    assert all(40 <= h <= 60 and 40 <= w <= 60 and c == 3 for h, w, c in shapes) and len(shapes) > 1
    again, _, _ = make_long_tailed_images(tmp_path / "b", counts=(6, 2), min_size=40, max_size=60, progress=False)
    assert [Path(p).read_bytes() for p in paths] == [Path(p).read_bytes() for p in again]


def test_generated_folder_is_reused_or_replaced_but_foreign_folders_are_refused(tmp_path):
    folder = tmp_path / "set"
    paths, _, _ = make_long_tailed_images(folder, counts=(5, 3), min_size=32, max_size=40, progress=False)
    stamp = os.stat(paths[0]).st_mtime_ns
    assert make_long_tailed_images(folder, counts=(5, 3), min_size=32, max_size=40, progress=False)[0] == paths
    assert os.stat(paths[0]).st_mtime_ns == stamp  # reused, not rewritten
    _, labels, _ = make_long_tailed_images(folder, counts=(2, 1), min_size=32, max_size=40, progress=False)
    assert np.bincount(labels).tolist() == [2, 1]  # old files gone
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not made by make_long_tailed_images"):
        make_long_tailed_images(foreign, counts=(2, 1), progress=False)
    assert (foreign / "thesis.txt").read_text() == "keep me"


def test_main_job_prints_balanced_image_histogram_and_writes_the_png(tmp_path):
    # Run from a folder of its own, as in a clone: it must write nothing there, only in its cache.
    workdir, cache = tmp_path / "clone", tmp_path / "cache"
    workdir.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(
        [sys.executable, "-m", "fast_balance", "demo", "--largest", "1000", "--image-counts", "40", "10", "5",
         "--image-size", "32", "--batch-size", "12"],
        capture_output=True, text=True, check=True, cwd=workdir, env=env,
    ).stdout
    assert list(workdir.iterdir()) == []
    png = cache / "fast_balance" / "demo" / "fast_balance_demo.png"
    assert f"Wrote {png}" in out and str(cache / "fast_balance" / "demo" / "images") in out
    part = out.split("One balanced epoch of")[1]
    counts = [int(line.split()[1].replace(",", "")) for line in part.splitlines()[1:4]]
    assert counts == [40, 40, 40]  # 3 * 40 = 10 batches of 12, exactly balanced
    assert "images/s" in out and "decode bank: 15 images" in out
    assert png.read_bytes().startswith(b"\x89PNG")


def test_class_weights_example_runs_in_a_few_steps_and_prints_the_three_methods():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "class_weights_vs_balanced.py"), "--steps", "3", "--batch-size", "16"],
        capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "imbalance 20:1" in lines[0] and "test: 1,388 images" in lines[0]
    rows = [line for line in lines if line.startswith(("plain ", "class weights ", "balanced + augmented repeats "))]
    assert [row.rsplit(maxsplit=7)[0].strip() for row in rows] == [
        "plain", "class weights", "balanced + augmented repeats"]
    for row in rows:  # balanced accuracy, then worst-class recall, both in [0, 1]
        numbers = [float(word) for word in row.split() if word.replace(".", "", 1).isdigit() and "." in word]
        assert len(numbers) == 2 and all(0.0 <= x <= 1.0 for x in numbers) and numbers[1] <= numbers[0]
