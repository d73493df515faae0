"""Which files a dataset can read, found while it is built: the two ``on_error`` modes.

``"raise"``: one ``stat`` per file; a missing or unreadable file fails before any work, named.
``"skip"``: every file passes `fast_balance.files.check_image_file` and one decode, and the ones
that fail are reported with the reason, for the caller to replace or leave out.
"""

from __future__ import annotations

import numpy as np

from ..files import check_image_files, check_readable
from .bank import decode_pass, load_failure
from .decode import CHANGED_HINT, SKIP_HINT, ImageSpec


def screen_files(paths: np.ndarray, on_error: str, spec: ImageSpec, progress: bool) -> tuple[dict[str, str], str]:
    """``({path: reason} of the files that cannot be loaded, the hint for load errors later)``.

    With ``on_error="raise"`` the dict is empty: a file that cannot be read raises
    ``FileNotFoundError`` here (listing up to five), and one that cannot be decoded fails where
    the pipeline meets it, with ``SKIP_HINT``.
    """
    if on_error == "raise":
        unreadable = {p: reason for p in dict.fromkeys(paths) if (reason := check_readable(p)) is not None}
        if unreadable:
            listed = "; ".join(f"{p}: {reason}" for p, reason in list(unreadable.items())[:5])
            more = f"; and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
            raise FileNotFoundError(f"{len(unreadable)} image files cannot be read: {listed}{more}. {SKIP_HINT}")
        return {}, SKIP_HINT
    # The structure check first (reasons worth reading), then one decode of every file that
    # passes it, so that what iteration decodes is known to decode.
    skipped = check_image_files(paths, progress=progress)
    passed = paths[np.fromiter((p not in skipped for p in paths), bool, paths.size)]
    _, failed = decode_pass(passed, spec, keep=False, progress=progress, desc="decoding images")
    skipped.update({p: load_failure(p, spec) for p in dict.fromkeys(passed[failed])})
    return skipped, CHANGED_HINT
