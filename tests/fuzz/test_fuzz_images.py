"""(d) Damaged image files through the structure check, `load_image`, `from_directory` (both
``on_error`` modes) and ``fast-balance inspect``: a file loads, or fails naming itself, or is
skipped and listed; never a crash, a hang, or a failure that names no file.

Each example damages one whole image of a kind TensorFlow reads (JPEG baseline, progressive and
grey, PNG RGB, grey, RGBA, palette and 16-bit, BMP 24, 32 and grey 8-bit, GIF) with a few byte
edits: cuts, flips, insertions, deletions, header fields set to extremes, trailers.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile

import numpy as np
import pytest
from fuzz_support import counted, examples
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

tf = pytest.importorskip("tensorflow")

from fast_balance import cli  # noqa: E402 (after TensorFlow: its import is the slow part)
from fast_balance.files import check_image_file  # noqa: E402
from fast_balance.tf import from_directory, load_image  # noqa: E402

SIZE = (16, 16)


def encoded(mode: str, fmt: str, **options) -> bytes:
    pixels = (np.random.default_rng(1).random((5, 7, 3)) * 255).astype(np.uint8)
    image = Image.fromarray(pixels).resize((37, 29), Image.BILINEAR).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def grey_bmp() -> bytes:
    """An 8-bit BMP with a grey palette (the only 8-bit kind TensorFlow reads right)."""
    image = Image.fromarray((np.arange(29 * 37) % 256).astype(np.uint8).reshape(29, 37), "L")
    buffer = io.BytesIO()
    image.save(buffer, "BMP")
    return buffer.getvalue()


WHOLE = {
    "jpeg": encoded("RGB", "JPEG", quality=90),
    "progressive.jpeg": encoded("RGB", "JPEG", progressive=True),
    "grey.jpeg": encoded("L", "JPEG"),
    "png": encoded("RGB", "PNG"),
    "grey.png": encoded("L", "PNG"),
    "rgba.png": encoded("RGBA", "PNG"),
    "palette.png": encoded("P", "PNG"),
    "16bit.png": encoded("I;16", "PNG"),
    "bmp": encoded("RGB", "BMP"),
    "32bit.bmp": encoded("RGBA", "BMP"),
    "grey.bmp": grey_bmp(),
    "gif": encoded("P", "GIF"),
}
EXTENSION = {"jpeg": ".jpg", "png": ".png", "bmp": ".bmp", "gif": ".gif"}


@st.composite
def damaged(draw):
    """(kind, original bytes, damaged bytes)."""
    kind = draw(st.sampled_from(sorted(WHOLE)))
    data = bytearray(WHOLE[kind])
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["cut", "flip", "insert", "delete", "field", "trailer", "zero"]))
        # Most of what a decoder checks lies in the first hundred bytes: edit there more often.
        at = draw(st.one_of(st.integers(0, min(len(data), 120)), st.integers(0, len(data))))
        if edit == "cut":
            del data[at:]
        elif edit == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif edit == "field" and at + 4 <= len(data):  # a size or offset field set to an extreme
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 65500 * 65500]))
            data[at : at + 4] = struct.pack(draw(st.sampled_from([">I", "<I"])), value & 0xFFFFFFFF)
        elif edit == "trailer":
            data += draw(st.binary(min_size=1, max_size=32))
        elif edit == "zero":
            data[at : at + 16] = bytes(len(data[at : at + 16]))
    return kind, bytes(data)


def write_folder(root: str, kind: str, content: bytes) -> str:
    """A folder of two classes of whole JPEGs, class b holding the damaged file too; its path."""
    for name, count in (("a", 3), ("b", 2)):
        os.makedirs(os.path.join(root, name))
        for k in range(count):
            with open(os.path.join(root, name, f"{k}.jpg"), "wb") as file:
                file.write(WHOLE["jpeg"])
    path = os.path.join(root, "b", "damaged" + EXTENSION[kind.split(".")[-1]])
    with open(path, "wb") as file:
        file.write(content)
    return path


def names_file(error: Exception, path: str) -> bool:
    return path in str(error)


@settings(max_examples=examples(0.05))
@given(case=damaged(), on_error=st.sampled_from(["raise", "skip"]))
@counted
def test_damaged_images_load_or_are_named_or_skipped(case, on_error):
    kind, content = case
    with tempfile.TemporaryDirectory() as root:
        path = write_folder(os.path.join(root, "images"), kind, content)
        reason = check_image_file(path)
        assert reason is None or (isinstance(reason, str) and reason)
        try:
            image = load_image(tf.constant(path), SIZE)
            loaded = True
            assert image.shape == (*SIZE, 3) and image.dtype == tf.uint8
        except tf.errors.InvalidArgumentError as error:
            loaded = False
            assert names_file(error, path), str(error)[-500:]
        if reason is not None and loaded:
            # What the check refuses, the decoder refuses too (save a JPEG short of its last byte),
            # or decodes wrongly: TensorFlow reads a BMP declaring compression as raw pixels.
            wrong_image = kind.endswith("bmp") and "compression" in reason
            assert (kind.endswith("jpeg") and content.endswith(b"\xff")) or wrong_image, (reason, kind)
        ds = from_directory(os.path.join(root, "images"), image_size=SIZE, batch_size=4, seed=1, progress=False,
                            on_error=on_error, decode_cache=0 if on_error == "raise" else "auto")
        try:
            for images, _ in ds:
                assert images.shape[1:] == (*SIZE, 3)
        except tf.errors.InvalidArgumentError as error:
            assert on_error == "raise" and not loaded and names_file(error, path), str(error)[-500:]
        else:  # every file is drawn: 3 per class and "max" samples_per_epoch, without replacement
            assert loaded or on_error == "skip"
        if on_error == "skip":
            assert (path in ds.report.skipped) == (not loaded)  # a file that loads is not dropped
        with contextlib.redirect_stdout(io.StringIO()) as out:
            cli.main(["inspect", os.path.join(root, "images"), "--png", os.path.join(root, "h.png"), "--no-progress"])
        assert (path in out.getvalue()) == (reason is not None)
