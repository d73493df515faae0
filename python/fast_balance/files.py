"""Image folders: listing them the Keras way, and what makes a file a whole image (no TensorFlow).

What a whole image is, per format, is defined here once, following what TensorFlow's decoders
accept, so that a file passing `check_image_file` decodes unless its compressed data is corrupt
(which only decoding finds):

- JPEG: the segments from the start-of-image marker to the first scan are well formed (bytes
  between segments are skipped, as libjpeg does), a frame header comes before the scan, and an
  end-of-image marker follows the scan. Bytes after that marker (trailers of cameras and
  editors) are ignored, as the decoder ignores them.
- PNG: the IHDR chunk comes first, with valid fields; the chunks that follow stay inside the
  file, at least one IDAT (after a PLTE for palette images), up to IEND; the checksums of these
  critical chunks match (libpng refuses them otherwise; it only warns for other chunks). Bytes
  after IEND are ignored.
- GIF: the blocks up to the end of the first image (extensions, the image and its data
  sub-blocks) are whole; the decoder reads that image only, so later frames may be cut off.
- BMP: 8, 24 or 32 bits per pixel, uncompressed, and exactly as long as its header declares
  (TensorFlow refuses any other size); an 8-bit BMP must have a grey palette (TensorFlow reads
  its indices as grey levels).
- Every format: no more than `MAX_IMAGE_PIXELS` pixels declared, so that a broken or hostile
  header never makes a decoder allocate gigabytes.

The graph (`fast_balance.tf.decode`) checks a subset before decoding, with these constants: the
format, the declared pixels and the BMP palette. Completeness it leaves to the decoder, which
refuses what these rules refuse (a failure then names the file: `fast_balance.tf.reading`), save
a JPEG missing only its last byte, which it decodes whole.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Union

import numpy as np

#: A path as the file functions take it.
StrPath = Union[str, "os.PathLike[str]"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

#: Leading bytes of each format read (``decode_image`` also takes others, such as WebP; they are
#: refused everywhere, so that the two ``on_error`` modes agree).
MAGIC = {"JPEG": (b"\xff\xd8\xff",), "PNG": (b"\x89PNG\r\n\x1a\n",), "GIF": (b"GIF87a", b"GIF89a"), "BMP": (b"BM",)}

#: Most pixels an image may declare: Pillow's decompression-bomb limit (2 x 89,478,485).
MAX_IMAGE_PIXELS = 178_956_970

# Reasons, worded once (the graph's checks give the same).
MISSING = "missing"
NOT_A_FILE = "not a file (a directory)"
NOT_REGULAR = "not a regular file"
EMPTY = "empty file"
NOT_AN_IMAGE = "not an image (unrecognised header)"
JPEG_NO_END = "truncated JPEG (no end-of-image marker after the image data)"
GREY_PALETTE_ONLY = "8-bit BMP with a colour palette (TensorFlow reads its colour indices as grey levels)"


def too_many_pixels(width: int, height: int) -> str:
    """The reason given for an image declaring more than `MAX_IMAGE_PIXELS`."""
    return f"declares {width} x {height} pixels, more than the limit of {MAX_IMAGE_PIXELS:,}"


# Checking this many files or more shows a progress bar.
_PROGRESS_FROM = 1000
# Files checked at once: the check waits on storage far more than it computes.
_CHECK_THREADS = 16
# Bytes read at a time when looking for a JPEG's end marker.
_SCAN_BLOCK = 1 << 20


def printable(path: str) -> str:
    r"""``path`` with the bytes of a name that is not valid UTF-8 shown as ``\xNN`` escapes, so
    that printing it cannot fail.

    Examples
    --------
    >>> printable("b/caf\udce9.jpg")
    'b/caf\\xe9.jpg'
    """
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _hidden(name: str) -> bool:
    return name.startswith(".")


def walk_image_files(folder: str, follow_links: bool = False) -> list[str]:
    """Image files anywhere inside ``folder``, in Keras' order: folder by folder in sorted order of
    their paths, each folder's files sorted by name (``keras.utils.image_dataset_from_directory``
    lists them so, and its ``labels`` lists and file splits follow that order). Hidden files and
    folders are left out.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ("b.png", "a/z.jpg", "a/.hidden.jpg", "notes.txt"):
    ...     os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
    ...     open(os.path.join(root, name), "wb").close()
    >>> [os.path.relpath(p, root) for p in walk_image_files(root)]
    ['b.png', 'a/z.jpg']
    """
    walked = []
    for root, folders, files in os.walk(folder, followlinks=follow_links):
        folders[:] = [name for name in folders if not _hidden(name)]  # os.walk does not enter pruned folders
        walked.append((root, files))
    return [
        os.path.join(root, file)
        for root, files in sorted(walked, key=lambda entry: entry[0])
        for file in sorted(files)
        if not _hidden(file) and file.lower().endswith(IMAGE_EXTENSIONS)
    ]


def class_folders(directory: StrPath) -> list[str]:
    """The sorted names of the class sub-folders of ``directory`` (hidden ones left out)."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"image directory {directory!r} does not exist or is not a directory")
    return sorted(entry.name for entry in os.scandir(directory) if entry.is_dir() and not _hidden(entry.name))


def list_image_files(
    directory: StrPath,
    class_names: Sequence[str] | None = None,
    follow_links: bool = False,
) -> tuple[list[str], np.ndarray, list[str]]:
    """Image files of a folder with one sub-folder per class, as ``keras.utils.image_dataset_from_directory``.

    Class names are the sorted sub-folder names, or ``class_names`` (some or all of them, in the
    order given: only their folders are read); files ending in .jpg, .jpeg, .png, .bmp or .gif
    (any case) anywhere inside a class folder belong to it, in Keras' order (`walk_image_files`).
    Hidden files and folders (names starting with "."), such as ``.ipynb_checkpoints`` or macOS
    ``._`` files, are ignored at every level (Keras ignores hidden class folders only). Symbolic
    links to folders inside a class folder are followed with ``follow_links`` only, as in Keras.

    Returns
    -------
    (paths, labels, class_names)
        ``labels`` is int32, the index of each path's class in ``class_names``.

    Examples
    --------
    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> for name in ("crack/0.jpg", "normal/1.jpg", "normal/2.png", "normal/.ipynb_checkpoints/1.jpg"):
    ...     os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
    ...     open(os.path.join(root, name), "wb").close()
    >>> paths, labels, class_names = list_image_files(root)
    >>> class_names, labels.tolist()
    (['crack', 'normal'], [0, 1, 1])
    >>> list_image_files(root, class_names=["normal", "crack"])[1].tolist()
    [0, 0, 1]
    """
    directory = os.fspath(directory)
    folders = class_folders(directory)
    if not folders:
        raise ValueError(f"image directory {directory!r} has no class sub-folders")
    if class_names is not None:
        class_names = [str(name) for name in class_names]
        unknown = [name for name in class_names if name not in folders]
        if unknown or len(set(class_names)) != len(class_names) or not class_names:
            raise ValueError(
                f"class_names must name sub-folders of {directory!r}, each once: it has {folders}, got {class_names}"
            )
        folders = class_names
    paths: list[str] = []
    labels: list[int] = []
    empty = []
    for label, name in enumerate(folders):
        found = walk_image_files(os.path.join(directory, name), follow_links)
        if not found:
            empty.append(name)
        paths.extend(found)
        labels.extend([label] * len(found))
    if empty:
        raise ValueError(
            f"class folders with no images ({', '.join(IMAGE_EXTENSIONS)}) in {directory!r}: {', '.join(empty)}"
        )
    return paths, np.asarray(labels, dtype=np.int32), list(folders)


def describe_classes(paths: Sequence[str], labels: np.ndarray) -> list[str]:
    """How errors name each class: its number, and the folder holding its files.

    When every class's files lie in its own sub-folder of one common folder (the layout of
    `list_image_files`), that sub-folder is the class folder and its name the class name.

    Examples
    --------
    >>> describe_classes(["parts/crack/0.jpg", "parts/normal/1.jpg", "parts/normal/2.jpg"], np.array([0, 1, 1]))
    ["class 0 ('crack', folder parts/crack)", "class 1 ('normal', folder parts/normal)"]
    """
    labels = np.asarray(labels)
    paths = [os.fspath(p) for p in paths]
    classes = np.unique(labels)
    folders: dict[int, str] = {}
    names: dict[int, str] = {}
    try:
        for c in classes:
            members = [os.path.dirname(paths[i]) or "." for i in np.flatnonzero(labels == c)]
            folders[int(c)] = os.path.commonpath(members) or "."
        root = (os.path.commonpath(list(folders.values())) or ".") if len(folders) > 1 else None
    except ValueError:  # absolute and relative paths mixed: no common folder to name
        folders, root = {}, None
    if root is not None:
        tops = {c: os.path.relpath(folder, root).split(os.sep)[0] for c, folder in folders.items()}
        if "." not in tops.values() and len(set(tops.values())) == len(tops):
            folders = {c: os.path.join(root, top) for c, top in tops.items()}
            names = tops
    count = int(labels.max()) + 1 if labels.size else 0
    return [
        (f"class {c} ({repr(names[c]) + ', ' if c in names else ''}folder {folders[c]})" if c in folders
         else f"class {c}")
        for c in range(count)
    ]


def substitutes(
    labels: np.ndarray,
    bad: np.ndarray,
    seed: int,
    paths: Sequence[str] | None = None,
    reasons: dict[str, str] | None = None,
) -> np.ndarray:
    """For every sample, itself if readable, else a readable sample of the same class.

    A class with no readable sample left is an error naming it (with its folder, from ``paths``:
    `describe_classes`) and, from ``reasons`` (``{path: reason}``), why its files failed.

    Examples
    --------
    >>> substitutes(np.array([0, 0, 1, 1]), np.array([False, True, False, False]), seed=0).tolist()
    [0, 0, 2, 3]
    """
    substitute = np.arange(labels.size, dtype=np.int64)
    if not bad.any():
        return substitute
    rng = np.random.default_rng(seed)
    for c in np.unique(labels[bad]):
        good = np.flatnonzero((labels == c) & ~bad)
        broken = np.flatnonzero((labels == c) & bad)
        if good.size == 0:
            name = describe_classes(paths, labels)[c] if paths is not None else f"class {c}"
            why = ""
            if paths is not None and reasons:
                listed = "; ".join(f"{paths[i]}: {reasons[paths[i]]}" for i in broken[:3] if paths[i] in reasons)
                why = f": {listed}" + ("; ..." if broken.size > 3 else "")
            raise ValueError(f"{name} has no readable image left ({broken.size} files failed the check{why})")
        substitute[broken] = rng.choice(good, size=broken.size)
    return substitute


def image_format(head: bytes) -> str | None:
    """The format whose leading bytes `head` starts with ("JPEG", "PNG", "GIF", "BMP"), or None.

    Examples
    --------
    >>> image_format(b"\\x89PNG\\r\\n\\x1a\\n..."), image_format(b"<html>")
    ('PNG', None)
    """
    for name, magics in MAGIC.items():
        if head.startswith(magics):
            return name
    return None


class _Window:
    """Reads of an open file at any offset, through one cached block (the checks jump around
    headers and skip over data)."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self.file, self.size = file, size
        self.start, self.block = 0, b""

    def read(self, offset: int, count: int) -> bytes:
        if not (self.start <= offset and offset + count <= self.start + len(self.block)):
            self.file.seek(offset)
            self.start, self.block = offset, self.file.read(max(count, 1 << 16))
        return self.block[offset - self.start : offset - self.start + count]


# Markers of libjpeg's header reader: the frame headers (SOFn) and those it skips or reads before
# the first scan. Any other marker there is fatal to it.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_BEFORE_SCAN = _JPEG_FRAMES | {0xC4, 0xCC, 0xDB, 0xDD, 0xDC, 0xFE} | set(range(0xE0, 0xF0))
_JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}
# Segments libjpeg skips without reading (APPn, COM, DNL): a length word below 2 skips nothing,
# and it looks for the next marker from there (a warning to it, not an error).
_JPEG_SKIPPED = frozenset(range(0xE0, 0xF0)) | {0xFE, 0xDC}


def _check_jpeg(window: _Window) -> str | None:
    size, position, frame = window.size, 2, False
    while True:
        # As libjpeg: bytes up to the next 0xFF are skipped (a warning to it), then fill bytes 0xFF.
        byte = window.read(position, 1)
        while byte and byte != b"\xff":
            position += 1
            byte = window.read(position, 1)
        while byte == b"\xff":
            position += 1
            byte = window.read(position, 1)
        if not byte:
            return "truncated JPEG (ends before its image data)"
        marker = byte[0]
        position += 1
        if marker == 0xD9:
            return "JPEG with no image (end marker before any image data)"
        if marker in _JPEG_STANDALONE or marker == 0x00:
            continue
        if marker not in _JPEG_BEFORE_SCAN and marker != 0xDA:
            return f"corrupt JPEG (marker 0xFF{marker:02X} at byte {position - 2})"
        length_bytes = window.read(position, 2)
        if len(length_bytes) < 2:
            return "truncated JPEG (ends inside a header segment)"
        length = struct.unpack(">H", length_bytes)[0]
        if length < 2 and marker in _JPEG_SKIPPED:
            position += 2
            continue
        end = position + length
        if length < 2 or end > size:
            return "truncated JPEG (a header segment runs past the end of the file)" if length >= 2 else (
                f"corrupt JPEG (segment length {length} at byte {position})")
        if marker in _JPEG_FRAMES:
            header = window.read(position + 2, 5)
            if len(header) < 5 or length < 8:
                return "corrupt JPEG (frame header too short)"
            height, width = struct.unpack(">HH", header[1:5])
            if height == 0 or width == 0:
                return f"corrupt JPEG (frame of {width} x {height} pixels)"
            if width * height > MAX_IMAGE_PIXELS:
                return too_many_pixels(width, height)
            frame = True
        if marker == 0xDA:
            if not frame:
                return "corrupt JPEG (image data before the frame header)"
            return None if _jpeg_end_after(window, end) else JPEG_NO_END
        position = end


def _jpeg_end_after(window: _Window, start: int) -> bool:
    """Whether an end-of-image marker follows `start`: the file's last bytes, usually; otherwise
    (a trailer follows the image) the first FFD9 after the scan, which coded data never holds."""
    size = window.size
    if size - start >= 2 and window.read(size - 2, 2) == b"\xff\xd9":
        return True
    window.file.seek(start)
    previous = b""
    while True:
        block = window.file.read(_SCAN_BLOCK)
        if not block:
            return False
        if b"\xff\xd9" in previous[-1:] + block:
            return True
        previous = block


_PNG_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
# Bit depths libpng allows for each colour type.
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def _crc_matches(window: _Window, start: int, length: int) -> bool:
    """Whether the CRC after a chunk's type and data (``length`` bytes from `start` + 4) matches."""
    window.file.seek(start)
    crc, left = 0, 4 + length
    while left:
        block = window.file.read(min(left, _SCAN_BLOCK))
        if not block:
            return False
        crc, left = zlib.crc32(block, crc), left - len(block)
    return bool(window.file.read(4) == struct.pack(">I", crc))


def _check_png(window: _Window) -> str | None:
    size, position = window.size, 8
    header = window.read(8, 25)
    if len(header) < 25:
        return "truncated PNG (ends inside its header)"
    length, kind = struct.unpack(">I4s", header[:8])
    if kind != b"IHDR" or length != 13:
        return "corrupt PNG (the first chunk is not a 13-byte IHDR)"
    if zlib.crc32(header[4:21]) != struct.unpack(">I", header[21:25])[0]:
        return "corrupt PNG (IHDR checksum mismatch)"
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", header[8:21])
    if not (0 < width < 2**31 and 0 < height < 2**31):
        return f"corrupt PNG (IHDR declares {width} x {height} pixels)"
    if depth not in _PNG_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        return f"corrupt PNG (IHDR fields: bit depth {depth}, colour type {colour})"
    if width * height > MAX_IMAGE_PIXELS:
        return too_many_pixels(width, height)
    position, palette, data = 33, False, False
    while True:
        chunk = window.read(position, 8)
        if len(chunk) < 8:
            return "truncated PNG (no IEND chunk)"
        length, kind = struct.unpack(">I4s", chunk)
        end = position + 12 + length
        if length >= 2**31 or not kind.isalpha():
            return f"corrupt PNG (bad chunk header at byte {position})"
        if end > size:
            return "truncated PNG (a chunk runs past the end of the file)"
        if kind[:1].isupper() and kind not in _PNG_CRITICAL:
            return f"corrupt PNG (unknown critical chunk {kind.decode()})"
        if kind in _PNG_CRITICAL and not _crc_matches(window, position + 4, length):
            return f"corrupt PNG ({kind.decode()} checksum mismatch at byte {position})"
        if kind == b"IHDR":
            return "corrupt PNG (a second IHDR chunk)"
        if kind == b"PLTE":
            palette = True
        if kind == b"IDAT":
            if colour == 3 and not palette:
                return "corrupt PNG (palette image without PLTE chunk)"
            data = True
        if kind == b"IEND":
            return None if data else "corrupt PNG (no IDAT chunk)"
        position = end


def _skip_sub_blocks(window: _Window, position: int) -> int | None:
    """Where the GIF data sub-blocks starting at `position` end (after their 0 block), or None."""
    while True:
        length = window.read(position, 1)
        if not length:
            return None
        position += 1 + length[0]
        if length[0] == 0:
            return position if position <= window.size else None


def _check_gif(window: _Window) -> str | None:
    screen = window.read(6, 7)
    if len(screen) < 7:
        return "truncated GIF (ends inside its header)"
    width, height, flags = struct.unpack("<HHB", screen[:5])
    if width * height > MAX_IMAGE_PIXELS:
        return too_many_pixels(width, height)
    position = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while True:
        kind = window.read(position, 1)
        if not kind:
            return "truncated GIF (ends before its first image)"
        if kind == b"\x3b":
            return "GIF with no image"
        if kind == b"\x21":
            end = _skip_sub_blocks(window, position + 2)
        elif kind == b"\x2c":
            descriptor = window.read(position + 1, 9)
            if len(descriptor) < 9:
                return "truncated GIF (ends inside its first image)"
            frame_width, frame_height, frame_flags = struct.unpack("<4xHHB", descriptor)
            if frame_width * frame_height > MAX_IMAGE_PIXELS:
                return too_many_pixels(frame_width, frame_height)
            colours = 3 << ((frame_flags & 7) + 1) if frame_flags & 0x80 else 0
            # The decoder reads the first image only: what follows it may be cut off.
            whole = _skip_sub_blocks(window, position + 10 + colours + 1) is not None  # +1: the LZW code size
            return None if whole else "truncated GIF (ends inside its first image)"
        else:
            return f"corrupt GIF (unknown block 0x{kind[0]:02X} at byte {position})"
        if end is None:
            return "truncated GIF (ends inside a block)"
        position = end


def _check_bmp(window: _Window) -> str | None:
    header = window.read(0, 54)
    if len(header) < 54:
        return "truncated BMP (ends inside its header)"
    # TensorFlow reads these fields where a 40-byte info header has them, whatever size the header
    # declares; so does this check.
    offset, info_size, width, height, _, bits, compression = struct.unpack("<10xIIiiHHI", header[:34])
    if bits not in (8, 24, 32) or compression not in (0, 3) or (compression == 3 and bits != 32):
        return (f"unsupported BMP ({bits} bits per pixel, compression {compression}); "
                "TensorFlow reads 8, 24, 32 uncompressed")
    if width <= 0 or height == 0:
        return f"corrupt BMP (declares {width} x {height} pixels)"
    if width * abs(height) > MAX_IMAGE_PIXELS:
        return too_many_pixels(width, abs(height))
    expected = offset + (bits // 8 * width + 3) // 4 * 4 * abs(height)
    if window.size != expected:
        what = "truncated BMP" if window.size < expected else "BMP longer than its pixel data"
        return f"{what} ({window.size} bytes, its header declares {expected}; TensorFlow takes only the exact size)"
    if bits == 8:
        colours = struct.unpack("<I", header[46:50])[0] or 256
        size = 4 * min(colours, 256)
        # TensorFlow reads indices as grey levels and no palette: a colour palette loses its colours.
        # It is after the header, or where a header size makes that impossible, before the pixels.
        start = 14 + info_size if info_size >= 40 and 14 + info_size + size <= offset else offset - size
        if start < 54:
            return None  # no room for a palette: nothing to lose
        palette = np.frombuffer(window.read(start, size), np.uint8)
        if palette.size != size:
            return "truncated BMP (ends inside its palette)"
        grey = np.arange(palette.size // 4, dtype=np.uint8)[:, None]
        if not np.array_equal(palette.reshape(-1, 4)[:, :3], np.broadcast_to(grey, (grey.size, 3))):
            return GREY_PALETTE_ONLY
    return None


def check_readable(path: StrPath) -> str | None:
    """Why `path` cannot be read as a file ("missing", "not a file (a directory)", ...), or None.

    One ``stat`` and an access check, no read: the cheap check ``balanced_dataset`` makes of every
    file with ``on_error="raise"``.

    Examples
    --------
    >>> check_readable("no/such/file.jpg")
    'missing'
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return MISSING
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if stat.S_ISDIR(info.st_mode):
        return NOT_A_FILE
    if not stat.S_ISREG(info.st_mode):
        return NOT_REGULAR
    if not os.access(path, os.R_OK, effective_ids=os.access in os.supports_effective_ids):
        return "unreadable (Permission denied)"
    return None


_CHECKS = {"JPEG": _check_jpeg, "PNG": _check_png, "GIF": _check_gif, "BMP": _check_bmp}


def check_image_file(path: StrPath) -> str | None:
    """Why `path` is not a whole image (see the rules at the top of this module), or None.

    Reads the headers, seeking over image data; a JPEG followed by a trailer is read to its end
    marker. Never decodes, so corrupt compressed data passes; ``balanced_dataset(...,
    on_error="skip")`` also decodes every file once.

    Examples
    --------
    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.jpg")
    >>> with open(path, "w") as file:
    ...     _ = file.write("shopping list")
    >>> check_image_file(path)
    'not an image (unrecognised header)'
    """
    try:
        # Non-blocking, so that a FIFO named .jpg is reported instead of waited on.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return MISSING
    except IsADirectoryError:
        return NOT_A_FILE
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    try:
        info = os.fstat(descriptor)  # of the file opened, not of whatever the path names later
    except OSError as error:
        os.close(descriptor)
        return f"unreadable ({error.strerror or error})"
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        return NOT_A_FILE if stat.S_ISDIR(info.st_mode) else NOT_REGULAR
    with os.fdopen(descriptor, "rb") as file:
        try:
            if info.st_size == 0:
                return EMPTY
            window = _Window(file, info.st_size)
            kind = image_format(window.read(0, 8))
            return NOT_AN_IMAGE if kind is None else _CHECKS[kind](window)
        except OSError as error:
            return f"unreadable ({error.strerror or error})"


def check_image_files(paths: Iterable[StrPath], progress: bool = True) -> dict[str, str]:
    """``{path: reason}`` for the files that `check_image_file` rejects; a progress bar on large lists.

    Files are checked on a few threads, since checking mostly waits on storage.

    Examples
    --------
    >>> check_image_files(["no/such/file.jpg"], progress=False)
    {'no/such/file.jpg': 'missing'}
    """
    names = [os.fspath(p) for p in paths]
    with ThreadPoolExecutor(min(_CHECK_THREADS, max(1, len(names)))) as pool:
        reasons = pool.map(check_image_file, names)
        if progress and len(names) >= _PROGRESS_FROM:
            try:
                from tqdm.auto import tqdm

                reasons = tqdm(reasons, total=len(names), desc="checking images", unit="file")
            except ImportError:  # the progress bar is a nicety
                pass
        return {path: reason for path, reason in zip(names, reasons) if reason is not None}
