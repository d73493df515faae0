"""fast_balance.files and ``fast-balance inspect``: image folders without TensorFlow.

Images are encoded with Pillow (installed with matplotlib), which also serves as a second decoder:
what the check accepts, Pillow must decode.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

from fast_balance.files import (
    GREY_PALETTE_ONLY,
    MAX_IMAGE_PIXELS,
    check_image_file,
    check_image_files,
    check_readable,
    describe_classes,
    list_image_files,
    substitutes,
)

PIXELS = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)


def encode(fmt: str, mode: str = "RGB", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(PIXELS).convert(mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG with a valid IHDR of that size and almost no data (what a bomb looks like)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IDAT", zlib.compress(b"\0" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + data + chunk(b"IEND", b"")


def with_frame_size(jpeg: bytes, width: int, height: int) -> bytes:
    """`jpeg` with its frame header (SOF0) declaring another size."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


def with_exif_thumbnail(jpeg: bytes) -> bytes:
    """`jpeg` with a small JPEG inside an APP1 segment, as cameras write thumbnails."""
    thumbnail = encode("JPEG")
    app1 = b"Exif\0\0" + thumbnail
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


JPEG = encode("JPEG")
PNG = encode("PNG")
GIF = encode("GIF")
BMP = encode("BMP")
WHOLE = {
    "baseline JPEG": JPEG,
    "progressive JPEG": encode("JPEG", progressive=True),
    "CMYK JPEG": encode("JPEG", "CMYK"),
    "grey JPEG": encode("JPEG", "L"),
    "JPEG with an EXIF thumbnail": with_exif_thumbnail(JPEG),
    "PNG": PNG,
    "grey+alpha PNG": encode("PNG", "LA"),
    "palette PNG": encode("PNG", "P"),
    "16-bit PNG": encode("PNG", "I;16"),
    "GIF": GIF,
    "BMP": BMP,
    "grey BMP": encode("BMP", "L"),
    "32-bit BMP": encode("BMP", "RGBA"),
}
TRAILERS = {
    "zeros": b"\0" * 4096,
    "random bytes": np.random.default_rng(1).integers(0, 256, 20_000, dtype=np.uint8).tobytes(),
    "text": b"camera maker notes " * 200,
    "another JPEG": JPEG,
}


def write(path, content: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(content)
    return str(path)


def pillow_decodes(path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except Exception:  # Pillow raises many types for bad files
        return False


@pytest.fixture
def folder(tmp_path):
    """b_normal: 5 images (one nested, one upper-case extension), a_crack: 2; plus files to ignore."""
    for k in range(3):
        write(tmp_path / "b_normal" / f"{k}.jpg", JPEG)
    write(tmp_path / "b_normal" / "deep" / "3.png", PNG)
    write(tmp_path / "b_normal" / "4.JPEG", JPEG)
    write(tmp_path / "b_normal" / "notes.txt", b"not an image")
    write(tmp_path / "a_crack" / "0.bmp", BMP)
    write(tmp_path / "a_crack" / "1.gif", GIF)
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


def test_hidden_files_and_folders_are_not_images_or_classes(folder):
    write(folder / ".ipynb_checkpoints" / "0-checkpoint.jpg", JPEG)  # a hidden "class"
    write(folder / "a_crack" / ".ipynb_checkpoints" / "1-checkpoint.gif", GIF)
    write(folder / "a_crack" / "._0.bmp", b"\0\5\26\7 AppleDouble metadata")
    write(folder / "b_normal" / ".hidden.png", PNG)
    paths, labels, names = list_image_files(folder)
    assert names == ["a_crack", "b_normal"]
    assert np.bincount(labels).tolist() == [2, 5]
    assert not any(part.startswith(".") for p in paths for part in os.path.relpath(p, folder).split(os.sep))


def test_folder_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        list_image_files(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no class sub-folders"):
        list_image_files(tmp_path)
    write(tmp_path / ".hidden" / "0.jpg", JPEG)
    with pytest.raises(ValueError, match="no class sub-folders"):
        list_image_files(tmp_path)
    write(tmp_path / "full" / "0.jpg", JPEG)
    write(tmp_path / "empty" / "readme.txt", b"text")
    with pytest.raises(ValueError, match="class folders with no images .*: empty"):
        list_image_files(tmp_path)


@pytest.mark.parametrize("name", list(WHOLE))
def test_whole_images_pass_and_pillow_decodes_them(tmp_path, name):
    path = write(tmp_path / "x.img", WHOLE[name])
    assert check_image_file(path) is None
    assert pillow_decodes(path)


@pytest.mark.parametrize("trailer", list(TRAILERS))
@pytest.mark.parametrize("name", ["baseline JPEG", "progressive JPEG", "JPEG with an EXIF thumbnail", "PNG", "GIF"])
def test_bytes_after_the_end_of_the_image_are_accepted_as_decoders_accept_them(tmp_path, name, trailer):
    path = write(tmp_path / "x.img", WHOLE[name] + TRAILERS[trailer])
    assert check_image_file(path) is None
    assert pillow_decodes(path)


@pytest.mark.parametrize("name", ["baseline JPEG", "progressive JPEG", "CMYK JPEG", "PNG", "16-bit PNG", "BMP"])
def test_every_truncation_is_caught(tmp_path, name):
    data = WHOLE[name]
    cuts = sorted({*range(1, 40), *np.linspace(40, len(data) - 8, 60).astype(int).tolist()})
    accepted = [cut for cut in cuts if check_image_file(write(tmp_path / "x.img", data[:-cut])) is None]
    assert accepted == []


def test_gif_needs_its_first_frame_whole_only(tmp_path):
    frames = [Image.fromarray(np.roll(PIXELS, 10 * k, axis=1)) for k in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    animated = buffer.getvalue()
    assert check_image_file(write(tmp_path / "a.gif", animated)) is None
    # The decoder reads the first frame only: a cut in the last frame is harmless, one in the first is not.
    assert check_image_file(write(tmp_path / "a.gif", animated[:-40])) is None
    assert check_image_file(write(tmp_path / "a.gif", animated[: len(animated) // 5])).startswith("truncated GIF")


def test_a_truncated_jpeg_is_caught_even_with_an_end_marker_in_its_thumbnail(tmp_path):
    data = with_exif_thumbnail(JPEG)
    reason = check_image_file(write(tmp_path / "x.jpg", data[: len(data) - len(JPEG) // 2]))
    assert reason == "truncated JPEG (no end-of-image marker after the image data)"


@pytest.mark.parametrize("marker", [b"\xe0", b"\xe1", b"\xfe"], ids=["APP0", "APP1", "COM"])
@pytest.mark.parametrize("length", [0, 1])
def test_a_skipped_segment_with_a_length_below_2_is_accepted_as_libjpeg_accepts_it(tmp_path, marker, length):
    # libjpeg skips nothing for such a length word and looks for the next marker (a warning).
    content = JPEG[:2] + b"\xff" + marker + struct.pack(">H", length) + b"JFIF\0" + JPEG[2:]
    path = write(tmp_path / "x.jpg", content)
    assert check_image_file(path) is None and pillow_decodes(path)


@pytest.mark.parametrize("declared", [0, 12, 39, 64, 200])
@pytest.mark.parametrize("mode", ["RGB", "L", "P"])
def test_a_bmp_header_size_is_ignored_as_tensorflow_ignores_it(tmp_path, declared, mode):
    # TensorFlow's decoder reads a 40-byte header's fields whatever size the header declares (the
    # image fuzzer found a BMP refused for a declared size of 0 that TensorFlow decodes).
    content = encode("BMP", mode)
    path = write(tmp_path / "x.bmp", content[:14] + struct.pack("<I", declared) + content[18:])
    assert check_image_file(path) == (GREY_PALETTE_ONLY if mode == "P" else None)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"<html>not a picture</html>", "not an image"),
        (b"\xff\xd8\xff\xd9", "JPEG with no image"),
        (JPEG[:2] + b"\xff\xf0\x00\x04ab" + JPEG[2:], "corrupt JPEG (marker 0xFFF0"),
        (JPEG[:2] + b"\xff\xdb\x00\x01" + JPEG[2:], "corrupt JPEG (segment length 1"),
        (PNG[:16] + b"\0" * 17 + PNG[33:], "corrupt PNG (IHDR checksum mismatch)"),
        (PNG[: len(PNG) // 2], "truncated PNG"),
        (PNG[:-30] + bytes([PNG[-30] ^ 1]) + PNG[-29:], "corrupt PNG (IDAT checksum mismatch"),
        (BMP[: len(BMP) // 2], "truncated BMP"),
        (BMP + b"\0" * 10, "BMP longer than its pixel data"),
        (encode("BMP", "P"), "8-bit BMP with a colour palette"),
        (encode("BMP", "1"), "unsupported BMP (1 bits per pixel"),
        (GIF[:20], "truncated GIF"),
        (b"GIF89a" + GIF[6:10] + b"\0\0\0;", "GIF with no image"),
    ],
)
def test_check_image_file_reasons(tmp_path, content, reason):
    path = write(tmp_path / "x.jpg", content)
    got = check_image_file(path)
    assert got is not None and got.startswith(reason), got


@pytest.mark.parametrize(
    "content",
    [with_frame_size(JPEG, 60000, 60000), png_declaring(60000, 60000), png_declaring(15000, 15000),
     GIF[:6] + struct.pack("<HH", 65535, 65535) + GIF[10:]],
    ids=["JPEG", "PNG", "PNG just over", "GIF"],
)
def test_a_huge_declared_size_is_refused_from_the_header(tmp_path, content):
    assert check_image_file(write(tmp_path / "x.img", content)).startswith("declares ")
    assert MAX_IMAGE_PIXELS < 15000 * 15000


def test_missing_folders_links_and_special_files_are_reported_without_hanging(tmp_path):
    assert check_image_file(tmp_path / "gone.jpg") == "missing" == check_readable(tmp_path / "gone.jpg")
    assert check_image_files([str(tmp_path / "gone.jpg")], progress=False) == {str(tmp_path / "gone.jpg"): "missing"}
    (tmp_path / "x.jpg").mkdir()
    assert check_image_file(tmp_path / "x.jpg") == "not a file (a directory)" == check_readable(tmp_path / "x.jpg")
    os.symlink(tmp_path / "loop.jpg", tmp_path / "loop.jpg")
    assert check_image_file(tmp_path / "loop.jpg").startswith("unreadable (Too many levels of symbolic links")
    assert check_readable(tmp_path / "loop.jpg").startswith("unreadable (Too many levels of symbolic links")
    os.mkfifo(tmp_path / "pipe.jpg")
    result = []
    worker = threading.Thread(target=lambda: result.append(check_image_file(tmp_path / "pipe.jpg")), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert result == ["not a regular file"]
    assert check_readable(tmp_path / "pipe.jpg") == "not a regular file"


def test_an_unreadable_file_is_reported():
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o755)
    path = write(os.path.join(folder, "locked.jpg"), JPEG)
    os.chmod(path, 0)
    # Root reads any file: checked as an unprivileged user then, for the time of the checks.
    drop = os.geteuid() == 0
    if drop:
        os.seteuid(65534)
    try:
        reasons = check_image_file(path), check_readable(path), check_image_files([path], progress=False)
    finally:
        if drop:
            os.seteuid(0)
    assert reasons == ("unreadable (Permission denied)", "unreadable (Permission denied)",
                       {path: "unreadable (Permission denied)"})
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def test_errors_about_a_class_name_its_folder(folder):
    paths, labels, _ = list_image_files(folder)
    assert describe_classes(paths, labels) == [
        f"class 0 ('a_crack', folder {folder / 'a_crack'})", f"class 1 ('b_normal', folder {folder / 'b_normal'})"]
    # Files of several classes in one folder: the folder is named, no class name guessed.
    assert describe_classes(["d/0.jpg", "d/1.jpg", "e/2.jpg"], np.array([0, 1, 1])) == [
        "class 0 (folder d)", "class 1 (folder .)"]
    bad = np.array([True, True, False, False, False, False, False])
    reasons = {paths[0]: "truncated BMP", paths[1]: "truncated GIF"}
    expected = (r"class 0 \('a_crack', folder .*a_crack\) has no readable image left "
                r"\(2 files failed the check: .*0\.bmp: truncated BMP; .*1\.gif: truncated GIF")
    with pytest.raises(ValueError, match=expected):
        substitutes(labels, bad, seed=0, paths=paths, reasons=reasons)
    replaced = substitutes(labels, np.array([False, False, True, False, False, False, False]), seed=0, paths=paths)
    assert labels[replaced[2]] == 1 and replaced[2] != 2


def test_inspect_prints_counts_ratio_problems_and_writes_a_histogram(folder, tmp_path):
    write(folder / "a_crack" / "2.jpg", JPEG[:200])
    write(folder / "a_crack" / "3.jpg", JPEG + TRAILERS["random bytes"])
    write(folder / ".ipynb_checkpoints" / "0-checkpoint.jpg", JPEG)
    png = tmp_path / "hist.png"
    out = subprocess.run(
        [sys.executable, "-m", "fast_balance", "inspect", str(folder), "--png", str(png), "--no-progress"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "9 images in 2 classes, imbalance 1.2:1" in out
    assert [line.split() for line in out.splitlines()[1:3]] == [["a_crack", "4"], ["b_normal", "5"]]
    assert "1 unreadable files" in out and "2.jpg: truncated JPEG" in out and "3.jpg" not in out
    assert png.read_bytes().startswith(b"\x89PNG")


def test_inspect_of_the_current_folder_writes_beside_it_and_leaves_it_unchanged(tmp_path):
    parts = tmp_path / "parts"
    for name, count in (("ok", 3), ("scratch", 1)):
        for k in range(count):
            write(parts / name / f"{k}.jpg", JPEG)
    before = {p: p.read_bytes() for p in parts.rglob("*") if p.is_file()}

    def inspect(*options):
        return subprocess.run([sys.executable, "-m", "fast_balance", "inspect", ".", "--no-progress", *options],
                              cwd=parts, capture_output=True, text=True, check=True).stdout

    out = inspect()
    png = tmp_path / "parts_histogram.png"
    assert f"wrote the histogram to {png}\n" in out and png.read_bytes().startswith(b"\x89PNG")
    out = inspect("--png", "../elsewhere.png")  # where asked, relative to the working directory
    assert f"wrote the histogram to {tmp_path / 'elsewhere.png'}\n" in out
    assert (tmp_path / "elsewhere.png").read_bytes().startswith(b"\x89PNG")
    assert {p: p.read_bytes() for p in parts.rglob("*") if p.is_file()} == before  # nothing added or changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.png", "parts", "parts_histogram.png"]


def test_inspect_fails_clearly_on_an_empty_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fast_balance", "inspect", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 2 and "no class sub-folders" in result.stderr and "Traceback" not in result.stderr


def test_inspect_prints_names_that_are_not_utf8(folder, tmp_path):
    # A name from an archive of another system (Latin-1 "café") could not be printed on a UTF-8
    # terminal: the listing stopped at "'utf-8' codec can't encode character '\udce9'" and no
    # histogram was written.
    try:
        write(os.fsencode(folder / "a_crack") + b"/caf\xe9.jpg", JPEG[:200])
    except OSError:
        pytest.skip("this file system takes UTF-8 names only")
    png = tmp_path / "hist.png"
    result = subprocess.run(
        [sys.executable, "-m", "fast_balance", "inspect", str(folder), "--png", str(png), "--no-progress"],
        capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert result.returncode == 0, result.stderr
    assert "caf\\xe9.jpg: truncated JPEG" in result.stdout and png.exists()
