"""Reading and decoding images in the tf.data graph.

What every image becomes is an `ImageSpec`: its size, channels (``color_mode``), interpolation and
aspect handling, with the meaning ``keras.utils.image_dataset_from_directory`` gives them (the
decode of ``tf.io.decode_image``, then ``tf.image.resize``; Keras' centre crop for
``crop_to_aspect_ratio``, ``tf.image.resize_with_pad`` for ``pad_to_aspect_ratio``). Every image
ends as uint8 of the target size, rounded and clipped to [0, 255], so that images from the decode
bank and from files are identical. Where TensorFlow's decoders refuse a channel count that Keras
asks them for (JPEG and GIF as RGBA, BMP and GIF as greyscale), the image is decoded as RGB and
converted: an opaque alpha channel, or ``tf.image.rgb_to_grayscale``.

JPEGs take a fast path (``ImageSpec.fast_jpeg``, on by default): libjpeg's DCT scaling
(`decode_jpeg(ratio=...)`) decodes at 1/2, 1/4 or 1/8 scale whenever the file is at least that many
times larger than the target on both sides, which skips most of the decoding work for large
photos. The result is smoother than Keras' full decode resized without antialiasing, so its pixels
differ from Keras'; smaller JPEGs, and all of them without the fast path, decode exactly as Keras
decodes them (the same decoder, the same ``INTEGER_FAST`` DCT).

Before decoding, the graph checks what the decoders do not, with the rules and constants of
`fast_balance.files` (a subset of `check_image_file`): the format is JPEG, PNG, GIF or BMP; the
header declares at most `MAX_IMAGE_PIXELS`; an 8-bit BMP has a grey palette. Whether the file is
whole the decoder decides: it refuses what `check_image_file` refuses (truncated JPEGs, PNGs
without IEND, GIFs cut in their first frame, BMPs of the wrong size), and ignores trailers, with
one difference: a JPEG missing only its final byte decodes, whole, in the graph, while
`check_image_file` calls it truncated. On the error path, `problem_of` words the reason, with the
same end-marker rule as `check_image_file` as far as a byte search goes (a marker after the first
scan marker).

A failed check or decode fails the op without the file's name. `try_images` catches such a
failure in the graph (a one-element tf.data dataset with ``ignore_errors``: no Python), and
`load_image(check=True)` and `fast_balance.tf.reading` use it to name the file.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union, cast

import tensorflow as tf

from .._checks import check_bool, check_choice, check_int
from ..files import EMPTY, GREY_PALETTE_ONLY, JPEG_NO_END, MAGIC, MAX_IMAGE_PIXELS, NOT_AN_IMAGE

JPEG_MAGIC = MAGIC["JPEG"][0]
JPEG_END = b"\xff\xd9"
JPEG_SCAN = b"\xff\xda"
_RATIOS = (8, 4, 2, 1)

#: ``color_mode`` names and their channel counts, as Keras names them.
COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}
#: ``interpolation`` names: the methods of ``tf.image.resize``, as Keras lists them.
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
#: How an image meets the target's aspect ratio: stretched, centre-cropped (Keras'
#: ``crop_to_aspect_ratio``) or padded with zeros (``pad_to_aspect_ratio``).
ASPECTS = ("stretch", "crop", "pad")


@dataclass(frozen=True)
class ImageSpec:
    """What every image is decoded and resized to: uint8 ``[height, width, channels]``.

    Examples
    --------
    >>> spec = image_spec((32, 48), color_mode="grayscale", crop_to_aspect_ratio=True)
    >>> spec.shape, spec.aspect
    ((32, 48, 1), 'crop')
    """

    size: tuple[int, int]
    channels: int = 3
    interpolation: str = "bilinear"
    aspect: str = "stretch"
    fast_jpeg: bool = True

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.size[0], self.size[1], self.channels)

    @property
    def nbytes(self) -> int:
        """Bytes of one decoded image."""
        return self.size[0] * self.size[1] * self.channels


ImageSize = Union[ImageSpec, Sequence[int]]


def image_spec(
    image_size: object,
    color_mode: str = "rgb",
    interpolation: str = "bilinear",
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fast_jpeg: bool = True,
) -> ImageSpec:
    """The `ImageSpec` of these arguments, checked, named as ``image_dataset_from_directory`` names
    them; ``image_size`` may be one int for a square."""
    if not isinstance(image_size, ImageSpec) and isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or any(check_int("image_size", side) < 1 for side in image_size)):
        raise ValueError(f"image_size must be (height, width) of positive ints, got {image_size!r}")
    check_choice("color_mode", color_mode, tuple(COLOR_MODES))
    interpolation = interpolation.lower() if isinstance(interpolation, str) else interpolation
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    crop = check_bool("crop_to_aspect_ratio", crop_to_aspect_ratio)
    pad = check_bool("pad_to_aspect_ratio", pad_to_aspect_ratio)
    if crop and pad:
        raise ValueError("give crop_to_aspect_ratio or pad_to_aspect_ratio, not both")
    return ImageSpec(
        size=(int(image_size[0]), int(image_size[1])),
        channels=COLOR_MODES[color_mode],
        interpolation=interpolation,
        aspect="crop" if crop else "pad" if pad else "stretch",
        fast_jpeg=check_bool("fast_jpeg", fast_jpeg),
    )


def as_image_spec(image: ImageSize) -> ImageSpec:
    """``image`` itself, or the default `ImageSpec` of a ``(height, width)`` size."""
    if isinstance(image, ImageSpec):
        return image
    height, width = image
    return ImageSpec((int(height), int(width)))
# Header bytes read for the checks of PNG, GIF and BMP (all their fields lie in the first 54).
_HEAD = 64

#: What the error message says of a file that passes the graph's checks and fails to decode.
UNDECODABLE = "TensorFlow cannot decode it (fast-balance inspect or fast_balance.files.check_image_file may say why)"


def file_names(paths: Iterable[str]) -> list[bytes]:
    r"""Paths as the graph takes them: the bytes that name each file (`os.fsencode`).

    A name that is not valid UTF-8 (from an archive made on another system) has no TensorFlow
    string as ``str``; as bytes, every name has. A list, not a NumPy array, whose fixed width
    would be the longest path's for each.

    Examples
    --------
    >>> file_names(["a/1.jpg", "b/caf\udce9.jpg"])
    [b'a/1.jpg', b'b/caf\xe9.jpg']
    """
    return [os.fsencode(path) for path in paths]


def _jpeg_has_end(contents: tf.Tensor) -> tf.Tensor:
    """Whether the JPEG ends with its end marker or has one after its first scan marker."""

    def after_scan() -> tf.Tensor:
        scan = tf.strings.split(contents, sep=JPEG_SCAN, maxsplit=1)
        rest = scan[-1]
        return tf.logical_and(tf.size(scan) == 2, tf.size(tf.strings.split(rest, sep=JPEG_END, maxsplit=1)) == 2)

    ends = tf.equal(tf.strings.substr(contents, -2, 2), JPEG_END)
    return tf.cond(ends, lambda: tf.constant(True), after_scan)


def _jpeg_ratio_branch(contents: tf.Tensor, spec: ImageSpec, guard: bool) -> tf.Tensor:
    shape = tf.io.extract_jpeg_shape(contents)
    height, width = shape[0], shape[1]
    # Completeness is the decoder's: it refuses a JPEG without its end marker (`_jpeg_has_end`
    # only words the reason on the error path), except one missing just its last byte, which it
    # decodes whole.
    checks = [
        tf.debugging.Assert(tf.cast(height, tf.int64) * tf.cast(width, tf.int64) <= MAX_IMAGE_PIXELS,
                            ["fast_balance: too many pixels declared"]),
    ] if guard else []
    target_height, target_width = spec.size
    # libjpeg gives 1 or 3 channels; INTEGER_FAST is what decode_image (and so Keras) uses.
    channels = 1 if spec.channels == 1 else 3
    ratios = _RATIOS if spec.fast_jpeg else (1,)
    # The largest DCT scaling that keeps both sides at least the target's.
    fits = [tf.logical_and(height // r >= target_height, width // r >= target_width) for r in ratios]
    branch = tf.argmax(tf.cast(tf.stack(fits), tf.int32))  # the first ratio (largest) that fits; 1 always does
    branch = tf.where(tf.reduce_any(tf.stack(fits)), branch, len(ratios) - 1)
    decoders = [
        (lambda r=r: tf.io.decode_jpeg(contents, channels=channels, ratio=r, dct_method="INTEGER_FAST"))
        for r in ratios
    ]
    with tf.control_dependencies(checks):
        return _with_channels(tf.switch_case(tf.cast(branch, tf.int32), decoders), spec.channels)


def _with_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """A uint8 RGB (or already fitting) image with ``channels`` channels: grey by
    ``tf.image.rgb_to_grayscale``, RGBA with an opaque alpha channel."""
    have = image.shape[-1]
    if have == channels:
        return image
    if channels == 1:
        return tf.image.rgb_to_grayscale(image)
    alpha = tf.fill(tf.concat([tf.shape(image)[:2], [1]], 0), tf.constant(255, tf.uint8))
    return tf.concat([image, alpha], axis=-1)


def _fields(head: tf.Tensor, start: int, dtype: tf.DType, count: int, big_endian: bool = False) -> tf.Tensor:
    """``count`` integers of ``dtype`` from byte ``start`` of the padded header, as int64."""
    size = dtype.size * count
    raw = tf.io.decode_raw(tf.strings.substr(head, start, size), dtype, little_endian=not big_endian)
    return tf.cast(tf.reshape(raw, [count]), tf.int64)


def header_failures(contents: tf.Tensor) -> list[tuple[tf.Tensor, Callable[[], tf.Tensor]]]:
    """The graph's checks of a file that is not a JPEG: ``(failed, reason)`` pairs, in order, each
    ``failed`` a boolean tensor and ``reason()`` the message to give (built only when asked for)."""
    head = tf.strings.substr(tf.strings.join([tf.strings.substr(contents, 0, _HEAD), b"\0" * _HEAD]), 0, _HEAD)
    start = tf.strings.substr(contents, 0, 8)
    is_png = tf.equal(start, MAGIC["PNG"][0])
    is_gif = tf.reduce_any(tf.equal(tf.strings.substr(start, 0, 6), list(MAGIC["GIF"])))
    is_bmp = tf.equal(tf.strings.substr(start, 0, 2), MAGIC["BMP"][0])
    known = tf.reduce_any(tf.stack([is_png, is_gif, is_bmp]))
    png = _fields(head, 16, tf.int32, 2, big_endian=True)  # IHDR width, height; past 2**31 they read < 0
    png = tf.where(png < 0, tf.constant(2**31, tf.int64), png)
    gif = _fields(head, 6, tf.uint16, 2)  # logical screen width, height
    bmp = _fields(head, 18, tf.int32, 2)  # width, height (< 0: rows stored top-down)
    size = tf.where(is_png, png, tf.where(is_gif, gif, tf.abs(bmp)))
    width, height = size[0], size[1]
    palette_bmp = tf.logical_and(is_bmp, _fields(head, 28, tf.uint16, 1)[0] == 8)

    def grey_palette() -> tf.Tensor:
        info_size = _fields(head, 14, tf.int32, 1)[0]
        colours = tf.clip_by_value(_fields(head, 46, tf.int32, 1)[0], 0, 256)
        colours = tf.where(colours == 0, tf.constant(256, tf.int64), colours)
        at = tf.clip_by_value(14 + info_size, 0, tf.cast(tf.strings.length(contents), tf.int64))
        table = tf.strings.substr(tf.strings.join([tf.strings.substr(contents, at, 1024), b"\0" * 1024]), 0, 1024)
        entries = tf.reshape(tf.io.decode_raw(table, tf.uint8), [256, 4])
        grey = tf.cast(tf.range(256)[:, None], tf.uint8)
        used = tf.range(256, dtype=tf.int64) < colours
        return tf.reduce_all(tf.logical_or(tf.logical_not(used), tf.reduce_all(entries[:, :3] == grey, axis=1)))

    colour_palette = tf.cond(palette_bmp, lambda: tf.logical_not(grey_palette()), lambda: tf.constant(False))
    return [
        (tf.equal(tf.strings.length(contents), 0), lambda: tf.constant(EMPTY)),
        (tf.logical_not(known), lambda: tf.constant(NOT_AN_IMAGE)),
        (width * height > MAX_IMAGE_PIXELS, lambda: too_many_pixels(width, height)),
        (colour_palette, lambda: tf.constant(GREY_PALETTE_ONLY)),
    ]


def too_many_pixels(width: tf.Tensor, height: tf.Tensor) -> tf.Tensor:
    """In the graph, `fast_balance.files.too_many_pixels`."""
    return tf.strings.join(
        ["declares ", tf.strings.as_string(width), " x ", tf.strings.as_string(height),
         f" pixels, more than the limit of {MAX_IMAGE_PIXELS:,}"]
    )


def _decode_other(contents: tf.Tensor, channels: int) -> tf.Tensor:
    """PNG, GIF or BMP as uint8 with ``channels`` channels, as ``decode_image`` gives it, where it
    can: it refuses grey from BMP and GIF, and RGBA from GIF, which are converted from RGB instead."""
    def native() -> tf.Tensor:
        return tf.io.decode_image(contents, channels=channels, expand_animations=False)

    def converted() -> tf.Tensor:
        rgb = tf.io.decode_image(contents, channels=3, expand_animations=False)
        return _with_channels(tf.ensure_shape(rgb, [None, None, 3]), channels)

    if channels == 3:
        return native()
    is_png = tf.equal(tf.strings.substr(contents, 0, 8), MAGIC["PNG"][0])
    is_bmp = tf.equal(tf.strings.substr(contents, 0, 2), MAGIC["BMP"][0])
    decodes = is_png if channels == 1 else tf.logical_or(is_png, is_bmp)
    return tf.cond(decodes, native, converted)


def _other_branch(contents: tf.Tensor, spec: ImageSpec, guard: bool) -> tf.Tensor:
    if not guard:
        return _decode_other(contents, spec.channels)
    failed = tf.reduce_any(tf.stack([failure for failure, _ in header_failures(contents)]))
    with tf.control_dependencies([tf.debugging.Assert(tf.logical_not(failed), ["fast_balance: header check failed"])]):
        return _decode_other(contents, spec.channels)


def _centre_crop(image: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """The largest centred window of ``image`` with the aspect ratio of ``size``: the arithmetic of
    Keras' ``smart_resize`` (float32, truncated), so that the same pixels are kept."""
    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    target_height, target_width = size
    crop_height = tf.cast(tf.cast(width * target_height, tf.float32) / target_width, tf.int32)
    crop_height = tf.maximum(tf.minimum(height, crop_height), 1)
    crop_width = tf.cast(tf.cast(height * target_width, tf.float32) / target_height, tf.int32)
    crop_width = tf.maximum(tf.minimum(width, crop_width), 1)
    top = tf.cast(tf.cast(height - crop_height, tf.float32) / 2, tf.int32)
    left = tf.cast(tf.cast(width - crop_width, tf.float32) / 2, tf.int32)
    return image[top : top + crop_height, left : left + crop_width, :]


def resize(image: tf.Tensor, spec: ImageSpec) -> tf.Tensor:
    """float32 ``image`` resized to ``spec``, as ``image_dataset_from_directory`` resizes (no
    antialiasing; values may overshoot [0, 255] with the cubic and Lanczos kernels)."""
    image = tf.cast(image, tf.float32)
    if spec.aspect == "pad":
        return tf.image.resize_with_pad(image, spec.size[0], spec.size[1], method=spec.interpolation)
    if spec.aspect == "crop":
        image = _centre_crop(image, spec.size)
    return tf.image.resize(image, spec.size, method=spec.interpolation)


def decode_resized(contents: tf.Tensor, image_size: ImageSize, guard: bool = True) -> tf.Tensor:
    """uint8 image of ``image_size`` (an `ImageSpec`, or ``(height, width)`` for RGB, bilinear)
    from encoded bytes; fails (without a path) when the bytes do not decode or, with ``guard``,
    fail the graph's checks."""
    return _decoder(as_image_spec(image_size), guard)(contents)


# One traced function per spec in a process, called from every graph that decodes (each reading
# stage calls it from several places): tracing the decoders' branches is what building a dataset
# spends most of its time on.
@functools.cache
def _decoder(spec: ImageSpec, guard: bool) -> Callable[[tf.Tensor], tf.Tensor]:
    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])  # type: ignore[untyped-decorator]
    def decode(contents: tf.Tensor) -> tf.Tensor:
        is_jpeg = tf.equal(tf.strings.substr(contents, 0, 3), JPEG_MAGIC)
        image = tf.cond(is_jpeg, lambda: _jpeg_ratio_branch(contents, spec, guard),
                        lambda: _other_branch(contents, spec, guard))
        image = resize(tf.ensure_shape(image, [None, None, spec.channels]), spec)
        return tf.ensure_shape(tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8), spec.shape)

    return cast(Callable[[tf.Tensor], tf.Tensor], decode)


def try_images(function: Callable[[tf.Tensor], object], argument: tf.Tensor, spec: object) -> Any:
    """``(function(argument), True)``, or ``(empty, False)`` when it fails: an error caught in the
    graph, by a one-element dataset that drops its element on error.

    ``spec`` (a `tf.TensorSpec` or a structure of them) describes the result; on failure each of
    its tensors has 0 rows.
    """
    attempt = tf.data.Dataset.from_tensors(argument).map(lambda x: (function(x), True)).ignore_errors()
    empty = tf.nest.map_structure(lambda part: tf.zeros([0, *part.shape[1:]], part.dtype), spec)
    failed = tf.data.Dataset.from_tensors((empty, False))
    return attempt.concatenate(failed).take(1).get_single_element()


# Traced once however many pipelines call it, and not inlined where called: a graph instantiates
# it only when a file fails.
@tf.function(  # type: ignore[untyped-decorator]
    input_signature=[tf.TensorSpec([], tf.string)], experimental_attributes={"_noinline": True})
def problem_of(path: tf.Tensor) -> tf.Tensor:
    """Why the file at `path` fails to load, in the graph: the first of the graph's checks that it
    fails, else that it cannot be read or decoded. For the error path only (it reads the file again)."""
    contents, readable = try_images(lambda p: tf.io.read_file(p)[None], path, tf.TensorSpec([None], tf.string))
    readable = tf.logical_and(readable, tf.size(contents) == 1)

    def checked() -> tf.Tensor:
        data = contents[0]

        def jpeg() -> tf.Tensor:
            shape, parsed = try_images(lambda c: tf.io.extract_jpeg_shape(c)[None], data,
                                       tf.TensorSpec([None, 3], tf.int32))

            def sized() -> tf.Tensor:
                height, width = tf.cast(shape[0, 0], tf.int64), tf.cast(shape[0, 1], tf.int64)
                return tf.case(
                    [(height * width > MAX_IMAGE_PIXELS, lambda: too_many_pixels(width, height)),
                     (tf.logical_not(_jpeg_has_end(data)), lambda: tf.constant(JPEG_NO_END))],
                    default=lambda: tf.constant(UNDECODABLE))

            return tf.cond(parsed, sized, lambda: tf.constant(UNDECODABLE))

        def other() -> tf.Tensor:
            return tf.case([(failed, reason) for failed, reason in header_failures(data)],
                           default=lambda: tf.constant(UNDECODABLE), exclusive=False)

        is_jpeg = tf.equal(tf.strings.substr(data, 0, 3), JPEG_MAGIC)
        return tf.cond(is_jpeg, jpeg, other)

    return tf.cond(readable, checked, lambda: tf.constant("missing or unreadable"))


def failure_message(paths: tf.Tensor, reasons: tf.Tensor, hint: str) -> tf.Tensor:
    """One message naming every failed file and its reason, then ``hint``."""
    # Valid UTF-8 (a name that is not shows U+FFFD for its bad bytes): the error's message is decoded as such.
    paths = tf.strings.unicode_transcode(paths, "UTF-8", "UTF-8", errors="replace")
    listed = tf.strings.reduce_join(tf.strings.join([paths, ": ", reasons]), separator="; ")
    many = tf.size(paths) > 1
    return tf.strings.join(
        [tf.where(many, "fast_balance: cannot load image files ", "fast_balance: cannot load image file "), listed,
         ". ", hint]
    )


# Without quotes: the graph's errors escape them.
#: What a load error advises with on_error="raise".
SKIP_HINT = (
    "Fix or remove it, or build the dataset with on_error set to skip, which replaces such files by another image "
    "of their class."
)
#: ...and with on_error="skip", where every file loaded when the dataset was built.
CHANGED_HINT = "It loaded when the dataset was built (on_error set to skip), so it has changed since."


def load_image(
    path: tf.Tensor,
    image_size: ImageSize,
    check: bool = True,
    *,
    color_mode: str = "rgb",
    interpolation: str = "bilinear",
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fast_jpeg: bool = True,
) -> tf.Tensor:
    """Reads and decodes one file into uint8 ``[height, width, channels]`` of ``image_size``.

    With ``check``, the graph's checks run first and a file that cannot be loaded fails with its
    path and the reason in the error (an ``InvalidArgumentError``; a catch per call, a nested
    dataset, costs about as much as decoding a small image). Without, it is decoded as it is and
    fails as the decoder does, without the path.

    Parameters
    ----------
    path : tf.Tensor
        A string scalar.
    image_size : (height, width) or int
    check : bool
    color_mode, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio
        As ``keras.utils.image_dataset_from_directory``: ``"grayscale"``, ``"rgb"`` or ``"rgba"``
        (1, 3 or 4 channels); a ``tf.image.resize`` method; Keras' centre crop, or zero padding,
        to the target's aspect ratio.
    fast_jpeg : bool
        Decode JPEGs at least twice the target on both sides at reduced scale (libjpeg's DCT
        scaling): faster and smoother, but not the pixels Keras gives. False decodes as Keras.

    Returns
    -------
    tf.Tensor
        uint8, rounded and clipped to [0, 255].

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "grey.png")
    >>> tf.io.write_file(path, tf.io.encode_png(tf.fill([40, 60, 3], tf.constant(128, tf.uint8))))
    >>> load_image(tf.constant(path), (20, 30)).shape.as_list()
    [20, 30, 3]
    >>> load_image(tf.constant(path), (20, 20), color_mode="rgba", crop_to_aspect_ratio=True).shape.as_list()
    [20, 20, 4]
    >>> tf.io.write_file(path, b"not an image")
    >>> load_image(tf.constant(path), (20, 30))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    tensorflow.python.framework.errors_impl.InvalidArgumentError: ...grey.png: not an image (unrecognised header)...
    """
    if isinstance(image_size, ImageSpec):
        spec = image_size
    else:
        spec = image_spec(image_size, color_mode, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, fast_jpeg)
    if not check:
        return decode_resized(tf.io.read_file(path), spec, guard=False)
    images_spec = tf.TensorSpec([None, *spec.shape], tf.uint8)
    image, loaded = try_images(lambda p: decode_resized(tf.io.read_file(p), spec)[None], path, images_spec)

    def fail() -> tf.Tensor:
        message = failure_message(path[None], problem_of(path)[None], SKIP_HINT)
        with tf.control_dependencies([tf.debugging.Assert(False, [message])]):
            return tf.zeros([1, *spec.shape], tf.uint8)

    return tf.ensure_shape(tf.cond(loaded, lambda: image, fail)[0], spec.shape)
