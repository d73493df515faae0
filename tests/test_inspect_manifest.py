"""fast-balance inspect --manifest: a multi-label CSV before and after repeat factor sampling."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fast_balance
from fast_balance.cli import main
from fast_balance.inspect_manifest import class_frequencies_table, read_manifest


@pytest.fixture
def manifest(tmp_path):
    """40 images: "person" in all, "dog" in 8, "zebra" (rare) in 2; separators ';' and spaces."""
    lines = ["path,labels"]
    for i in range(40):
        labels = ["person"] + (["dog"] if i % 5 == 0 else []) + (["zebra"] if i >= 38 else [])
        lines.append(f"img_{i}.jpg,{(';' if i % 2 else ' ').join(labels)}")
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_reads_names_in_sorted_order_and_both_separators(manifest):
    paths, sets, names = read_manifest(manifest)
    assert names == ["dog", "person", "zebra"] and len(paths) == 40
    assert sets.class_counts().tolist() == [8, 40, 2]
    assert sets[0].tolist() == [0, 1] and sets[39].tolist() == [1, 2]


def test_counts_before_and_after_repeat_factor_sampling(manifest, capsys):
    main(["inspect", "--manifest", manifest, "--threshold", "0.2"])
    out = capsys.readouterr().out
    assert "40 images, 3 classes, 1-2 labels per image" in out
    _, sets, names = read_manifest(manifest)
    _, images, expected, sampled = class_frequencies_table(sets, names, 0.2)
    assert images.tolist() == [8, 40, 2]
    factors = fast_balance.repeat_factors(sets, 0.2)
    # expected(c) = sum_i r(i) [c in i]: zebra images get sqrt(0.2 / 0.05) = 2, dog images sqrt(0.2 / 0.2) = 1
    np.testing.assert_allclose(expected, [8, factors.sum(), 4])
    assert sampled[2] == 4  # each zebra image floor or ceil of 2 times: exactly 2
    assert abs(sampled[0] - 8) <= 1 and sampled[1] == round(factors.sum())
    zebra = re.search(r"zebra\s+2\s+5\.00%\s+4\.0\s+([\d.]+)%\s+4\s", out)
    assert zebra and float(zebra.group(1)) == pytest.approx(100 * 4 / factors.sum(), abs=0.01)


@pytest.mark.parametrize(("text", "message"), [
    ("path,labels\na.jpg,cat\nb.jpg,cat,dog\n", "line 3: expected 2 columns"),
    ("a.jpg,cat\n,dog\n", "line 2: the path is empty"),
    ("path,labels\n", "no images"),
])
def test_errors_name_the_line(tmp_path, capsys, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "--manifest", str(path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_threshold_outside_the_interval_and_directory_with_manifest(manifest, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["inspect", "--manifest", manifest, "--threshold", "2"])
    assert "threshold must be in (0, 1]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["inspect", str(tmp_path), "--manifest", manifest])
    assert "DIRECTORY or --manifest" in capsys.readouterr().err
