"""fast_balance.files and ``fast-balance inspect``: image folders without TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fast_balance.files import check_image_file, check_image_files, list_image_files

# Smallest byte strings that pass or fail the header/trailer check (the check does not decode).
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40 + b"\x00\x00\x00\x00IEND\xaeB`\x82"


def write(path, content: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(content)
    return str(path)


@pytest.fixture
def folder(tmp_path):
    """b_normal: 5 images (one nested, one upper-case extension), a_crack: 2; plus files to ignore."""
    for k in range(3):
        write(tmp_path / "b_normal" / f"{k}.jpg", JPEG)
    write(tmp_path / "b_normal" / "deep" / "3.png", PNG)
    write(tmp_path / "b_normal" / "4.JPEG", JPEG)
    write(tmp_path / "b_normal" / "notes.txt", b"not an image")
    write(tmp_path / "a_crack" / "0.bmp", b"BM" + b"\x00" * 30)
    write(tmp_path / "a_crack" / "1.gif", b"GIF89a" + b"\x00" * 30)
    write(tmp_path / "stray.jpg", JPEG)  # not in a class folder
    return tmp_path


def test_lists_class_folders_the_keras_way(folder):
    paths, labels, names = list_image_files(folder)
    assert names == ["a_crack", "b_normal"]
    assert labels.dtype == np.int32 and np.bincount(labels).tolist() == [2, 5]
    assert [os.path.relpath(p, folder) for p in paths] == [
        "a_crack/0.bmp", "a_crack/1.gif",
        "b_normal/0.jpg", "b_normal/1.jpg", "b_normal/2.jpg", "b_normal/4.JPEG", "b_normal/deep/3.png",
    ]
    assert check_image_files(paths, progress=False) == {}


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        list_image_files(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no class sub-folders"):
        list_image_files(tmp_path)
    write(tmp_path / "full" / "0.jpg", JPEG)
    write(tmp_path / "empty" / "readme.txt", b"text")
    with pytest.raises(ValueError, match="class folders with no images .*: empty"):
        list_image_files(tmp_path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (JPEG, None),
        (PNG, None),
        (JPEG[:-2], "truncated JPEG"),
        (PNG[:-12], "truncated PNG"),
        (b"", "empty file"),
        (b"<html>not a picture</html>", "not an image"),
    ],
)
def test_check_image_file_reasons(tmp_path, content, reason):
    path = write(tmp_path / "x.jpg", content)
    got = check_image_file(path)
    assert got is None if reason is None else got.startswith(reason)


def test_missing_file_is_reported(tmp_path):
    assert check_image_file(tmp_path / "gone.jpg") == "missing"
    assert check_image_files([str(tmp_path / "gone.jpg")], progress=False) == {str(tmp_path / "gone.jpg"): "missing"}


def test_inspect_prints_counts_ratio_problems_and_writes_a_histogram(folder, tmp_path):
    write(folder / "a_crack" / "2.jpg", JPEG[:20])
    png = tmp_path / "hist.png"
    out = subprocess.run(
        [sys.executable, "-m", "fast_balance", "inspect", str(folder), "--png", str(png), "--no-progress"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "8 images in 2 classes, imbalance 1.7:1" in out
    assert [line.split() for line in out.splitlines()[1:3]] == [["a_crack", "3"], ["b_normal", "5"]]
    assert "1 unreadable files" in out and "2.jpg: truncated JPEG" in out
    assert png.read_bytes().startswith(b"\x89PNG")


def test_inspect_fails_clearly_on_an_empty_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fast_balance", "inspect", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 2 and "no class sub-folders" in result.stderr and "Traceback" not in result.stderr
