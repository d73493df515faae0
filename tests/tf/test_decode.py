"""Decoding in the graph, and what balanced_dataset does with files that do not load (on_error)."""

from __future__ import annotations

import io
import os
import resource
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tf_images import write_images

from fast_balance import BalancedIndexSampler
from fast_balance.tf import balanced_dataset, from_directory, load_image

SIZE = (32, 32)
SKIP_ADVICE = "on_error set to skip"


def collect(dataset):
    images, labels = [], []
    for x, y in dataset:
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), np.concatenate(labels)


def make(paths, labels, **options):
    options = {"image_size": SIZE, "batch_size": 12, "seed": 3, "progress": False, **options}
    return balanced_dataset(paths, labels, **options)


def pattern(path: str) -> str:
    return path.replace("\\", "\\\\").replace(".", r"\.")


def read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def overwrite(path: str, content: bytes) -> None:
    with open(path, "wb") as file:
        file.write(content)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def encoded(image: np.ndarray, fmt: str, mode: str = "RGB", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).convert(mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def pixels(height=40, width=56) -> np.ndarray:
    base = np.random.default_rng(5).random((5, 7, 3)) * 255
    return tf.image.resize(base[None], (height, width))[0].numpy().clip(0, 255).astype(np.uint8)


# Files that pass a look at their first and last bytes and do not decode, each made from a whole
# file of the format.
def broken_markers(jpeg: bytes) -> bytes:
    at = jpeg.index(b"\xff\xdb")  # the quantisation tables: their marker becomes one libjpeg refuses
    return jpeg[:at] + b"\xff\xf0" + jpeg[at + 2 :]


UNDECODABLE = {
    "JPEG with broken markers": lambda data: broken_markers(data),
    "JPEG of SOI and EOI only": lambda data: b"\xff\xd8\xff\xd9",
    "PNG with a zeroed IHDR": lambda data: (png := tf.io.encode_png(pixels()).numpy())[:16] + b"\0" * 17 + png[33:],
    "half a PNG": lambda data: (png := tf.io.encode_png(pixels()).numpy())[: len(png) // 2],
    "half a BMP": lambda data: (bmp := encoded(pixels(), "BMP"))[: len(bmp) // 2],
    "text": lambda data: b"this is not an image",
    "truncated JPEG": lambda data: data[: len(data) // 2],
    "JPEG cut after its header": lambda data: data[:600],
}


def test_jpeg_reduced_scale_decode_matches_full_decode(tmp_path):
    paths, _ = write_images(str(tmp_path), (1,), size=(256, 320))
    fast = load_image(tf.constant(paths[0]), (32, 40)).numpy().astype(float)
    full = tf.io.decode_jpeg(tf.io.read_file(paths[0]), channels=3)
    slow = tf.image.resize(full, (32, 40), antialias=True).numpy()  # area-like, as DCT scaling
    assert fast.shape == (32, 40, 3)
    assert np.mean(np.abs(fast - slow)) < 6.0  # same picture; reduced-scale decoding only smooths it


@pytest.mark.parametrize("channels", [1, 4])
def test_gray_and_rgba_png_become_rgb(tmp_path, channels):
    image = np.full((20, 30, channels), 200, dtype=np.uint8)
    path = str(tmp_path / "image.png")
    tf.io.write_file(path, tf.io.encode_png(image))
    image = load_image(tf.constant(path), (10, 15)).numpy()
    assert image.shape == (10, 15, 3) and np.all(image == 200)


def animated_gif(image: np.ndarray) -> bytes:
    frames = [Image.fromarray(np.roll(image, 20 * k, axis=1)) for k in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


@pytest.mark.parametrize(
    "make_file",
    [
        lambda image: tf.io.encode_png(image.astype(np.uint16) * 257).numpy(),
        lambda image: encoded(image, "PNG", "LA"),
        lambda image: encoded(image, "PNG", "P"),
        animated_gif,
        lambda image: encoded(image, "JPEG", "CMYK", quality=95),
        lambda image: encoded(image, "JPEG", progressive=True, quality=95),
    ],
    ids=["16-bit PNG", "grey+alpha PNG", "palette PNG", "animated GIF", "CMYK JPEG", "progressive JPEG"],
)
def test_other_kinds_of_image_decode_as_pillow_decodes_them(tmp_path, make_file):
    path = str(tmp_path / "image")
    overwrite(path, make_file(pixels()))
    with Image.open(path) as image:  # the first frame, as the pipeline takes
        expected = np.asarray(image.convert("RGB").resize((28, 20), Image.BILINEAR), dtype=float)
    got = load_image(tf.constant(path), (20, 28)).numpy().astype(float)
    assert np.mean(np.abs(got - expected)) < 4.0


@pytest.mark.parametrize("trailer", [b"\0" * 3000, bytes(range(256)) * 40, b"maker notes " * 300],
                         ids=["zeros", "bytes", "text"])
def test_jpegs_with_a_trailer_decode_in_every_mode(tmp_path, trailer):
    paths, labels = write_images(str(tmp_path), (6, 3))
    whole = [read(p) for p in paths]
    clean = collect(make(paths, labels, batch_size=6, augment="none"))[0]
    for path, data in zip(paths, whole):
        overwrite(path, data + trailer)
        with Image.open(path) as image:  # a second decoder agrees that these are whole images
            image.load()
    for on_error in ("raise", "skip"):
        ds = make(paths, labels, batch_size=6, augment="none", on_error=on_error)
        images, _ = collect(ds)
        assert ds.report.skipped == {} and np.array_equal(images, clean)


@pytest.mark.parametrize("damage", list(UNDECODABLE))
def test_a_file_that_does_not_load_names_itself_and_advises_skip(tmp_path, damage):
    paths, labels = write_images(str(tmp_path), (6, 3))
    victim = paths[7]  # a class-1 image: oversampled, so it is read by the bank builder
    overwrite(victim, UNDECODABLE[damage](read(victim)))
    for cache in ("auto", 0):  # found while the bank is built, and while iterating
        with pytest.raises(tf.errors.InvalidArgumentError, match=pattern(victim)) as raised:
            collect(make(paths, labels, batch_size=6, decode_cache=cache))
        assert SKIP_ADVICE in raised.value.message


def test_decode_failures_under_model_fit_name_the_file(tmp_path):
    paths, labels = write_images(str(tmp_path), (6, 3))
    overwrite(paths[2], b"\xff\xd8\xff\xd9")
    model = tf.keras.Sequential([tf.keras.Input((*SIZE, 3)), tf.keras.layers.GlobalAveragePooling2D(),
                                 tf.keras.layers.Dense(2)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern(paths[2]) + ": TensorFlow cannot decode it"):
        model.fit(make(paths, labels, batch_size=6), epochs=1, verbose=0)


def test_skip_replaces_files_that_do_not_load_within_their_class(tmp_path):
    paths, labels = write_images(str(tmp_path), (12, 6, 6))
    damaged = {13: "JPEG of SOI and EOI only", 14: "JPEG with broken markers", 19: "text", 20: "truncated JPEG"}
    for index, damage in damaged.items():
        overwrite(paths[index], UNDECODABLE[damage](read(paths[index])))
    overwrite(paths[15], read(paths[15]) + b"\0" * 100)  # a trailer: not damage
    os.remove(paths[21])
    ds = make(paths, labels, on_error="skip")
    assert set(ds.report.skipped) == {paths[i] for i in (13, 14, 19, 20, 21)}
    assert ds.report.skipped[paths[21]] == "missing"
    assert ds.report.skipped[paths[19]] == "not an image (unrecognised header)"
    assert ds.report.skipped[paths[20]].startswith("truncated JPEG")
    assert ds.report.skipped[paths[13]].startswith("JPEG with no image")
    assert ds.report.skipped[paths[14]].startswith("corrupt JPEG")
    _, got = collect(ds)
    assert np.bincount(got).tolist() == BalancedIndexSampler(labels, batch_size=12, seed=3).quotas.tolist()


def test_skip_finds_by_decoding_what_the_structure_check_cannot(tmp_path):
    paths, labels = write_images(str(tmp_path), (6, 3))
    data = bytearray(read(paths[7]))
    scan = data.index(b"\xff\xda")
    data[scan + 20 : scan + 60] = b"\xff\x17" * 20  # markers libjpeg refuses, inside the image data
    overwrite(paths[7], bytes(data))
    ds = make(paths, labels, batch_size=6, on_error="skip")
    assert list(ds.report.skipped) == [paths[7]]
    assert ds.report.skipped[paths[7]].startswith("TensorFlow cannot decode it (")
    _, got = collect(ds)
    assert np.bincount(got).tolist() == [6, 6]


def test_a_class_with_no_loadable_file_is_named_by_its_folder(tmp_path):
    write_images(str(tmp_path), (6, 3))
    os.makedirs(tmp_path / ".ipynb_checkpoints")  # hidden: not a class
    write_images(str(tmp_path / ".ipynb_checkpoints"), (2,))
    options = dict(image_size=SIZE, batch_size=6, progress=False)
    assert from_directory(str(tmp_path), **options).class_names == ["class_0", "class_1"]
    for k in range(3):
        overwrite(str(tmp_path / "class_1" / f"{k:04d}.jpg"), b"\xff\xd8\xff\xd9")
    folder = str(tmp_path / "class_1")
    with pytest.raises(ValueError, match=rf"class 1 \('class_1', folder {pattern(folder)}\) has no readable image "
                                         r"left \(3 files failed the check: .*0000\.jpg: JPEG with no image"):
        from_directory(str(tmp_path), on_error="skip", **options)


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_a_file_changed_after_the_check_or_after_it_loaded_still_names_itself(tmp_path, on_error):
    paths, labels = write_images(str(tmp_path), (6, 3))
    ds = make(paths, labels, batch_size=6, on_error=on_error, decode_cache=0)
    original = read(paths[1])
    overwrite(paths[1], original[:600] + b"\xff\xd9")  # cut, with an end marker: passes the graph's checks
    advice = "it has changed since" if on_error == "skip" else SKIP_ADVICE
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern(paths[1]) + ": TensorFlow cannot decode it") as e:
        collect(ds)
    assert advice in e.value.message
    overwrite(paths[1], original)
    collect(ds)  # every file has loaded once
    overwrite(paths[1], original[:600] + b"\xff\xd9")
    changed = pattern(paths[1]) + r".*its length changed since it loaded"
    with pytest.raises(tf.errors.InvalidArgumentError, match=changed):
        collect(ds)
    os.remove(paths[1])
    with pytest.raises(tf.errors.NotFoundError, match=pattern(paths[1])):
        collect(ds)


def test_materialized_epochs_name_a_bad_file_without_python_even_through_the_service(tmp_path):
    paths, labels = write_images(str(tmp_path), (6, 3))
    overwrite(paths[4], b"\xff\xd8\xff\xd9")
    ds = make(paths, labels, batch_size=6, epochs=2)
    graph = ds._as_serialized_graph().numpy()
    assert b"PyFunc" not in graph and b"NumpyFunction" not in graph and b"EagerPyFunc" not in graph
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern(paths[4])):
        collect(ds)
    dispatcher = tf.data.experimental.service.DispatchServer()
    worker = tf.data.experimental.service.WorkerServer(
        tf.data.experimental.service.WorkerConfig(dispatcher_address=dispatcher.target.split("://")[1]))
    try:
        served = ds.apply(tf.data.experimental.service.distribute("distributed_epoch", dispatcher.target))
        with pytest.raises(tf.errors.InvalidArgumentError, match=pattern(paths[4]) + ": TensorFlow cannot decode it"):
            collect(served)
    finally:
        # The worker first: stopping, it waits for its split requests, which a stopped dispatcher never answers.
        del worker
        del dispatcher


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (png_declaring(15000, 15000), "declares 15000 x 15000 pixels"),
        (png_declaring(60000, 60000), "declares 60000 x 60000 pixels"),
        (b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\0\0\0,\0\0\0\0\1\0\1\0\0\2\2D\1\0;",
         "declares 65535 x 65535 pixels"),
        (encoded(pixels(), "BMP", "P"), "8-bit BMP with a colour palette"),
        (b"RIFF\x10\0\0\0WEBPVP8 ", "not an image"),
    ],
    ids=["PNG bomb", "PNG past TensorFlow's limit", "GIF bomb", "palette BMP", "WebP"],
)
def test_headers_the_decoder_should_not_see_are_refused_naming_the_file(tmp_path, content, reason):
    paths, labels = write_images(str(tmp_path), (6, 3))
    overwrite(paths[1], content)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern(paths[1]) + ": " + reason):
        collect(make(paths, labels, batch_size=6))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 256 << 10  # KiB: nothing allocated for it
    assert make(paths, labels, batch_size=6, on_error="skip").report.skipped[paths[1]].startswith(reason)


def test_load_image_names_the_file(tmp_path):
    path = str(tmp_path / "x.jpg")
    overwrite(path, b"\xff\xd8\xff\xd9")
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern(path)):
        load_image(tf.constant(path), SIZE)


def test_files_that_cannot_be_read_are_named_before_any_work(image_folder, tmp_path):
    _, paths, labels = image_folder
    broken = list(paths)
    broken[5] = paths[5] + ".gone"
    os.mkdir(tmp_path / "folder.jpg")
    broken[6] = str(tmp_path / "folder.jpg")
    os.symlink(tmp_path / "loop.jpg", tmp_path / "loop.jpg")
    broken[7] = str(tmp_path / "loop.jpg")
    with pytest.raises(FileNotFoundError, match=r"3 image files cannot be read: .*0005\.jpg\.gone: missing; "
                                                r".*folder\.jpg: not a file \(a directory\); .*loop\.jpg: unreadable"):
        make(broken, labels)
    skipped = make(broken, labels, on_error="skip").report.skipped
    assert skipped[broken[5]] == "missing" and skipped[broken[6]] == "not a file (a directory)"


def test_file_names_that_are_not_utf8_load_or_are_named(tmp_path):
    # Names from an archive of another system (Latin-1 "café"): the dataset failed before any
    # work with "Unable to convert element to UTF-8", and a damaged one raised UnicodeDecodeError
    # instead of an error naming it.
    root = tmp_path / "images"
    paths, _ = write_images(str(root), (4, 2))
    folder = os.fsencode(root / "class_1")
    try:
        os.rename(paths[-1], folder + b"/caf\xe9.jpg")
    except OSError:
        pytest.skip("this file system takes UTF-8 names only")
    ds = from_directory(str(root), image_size=SIZE, batch_size=4, seed=3, progress=False)
    _, got = collect(ds)
    assert np.bincount(got).tolist() == [4, 4] and os.fsdecode(folder + b"/caf\xe9.jpg") in ds.file_paths
    overwrite(folder + b"/bad\xff.jpg", b"this is not an image")
    # Named with the byte escaped where Python words the error, replaced (U+FFFD) where the graph does.
    for bank, named in (("auto", r"bad\\xff\.jpg"), (0, "bad\ufffd\\.jpg")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=named + ": not an image"):
            collect(from_directory(str(root), image_size=SIZE, batch_size=4, seed=3, progress=False,
                                   decode_cache=bank))
    skipping = from_directory(str(root), image_size=SIZE, batch_size=4, seed=3, progress=False, on_error="skip")
    assert skipping.report.skipped == {os.fsdecode(folder + b"/bad\xff.jpg"): "not an image (unrecognised header)"}
    assert np.bincount(collect(skipping)[1]).tolist() == [4, 4]
