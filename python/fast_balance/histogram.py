"""Class histograms as text, for the command line and the demo."""

from __future__ import annotations

import numpy as np


def histogram_text(counts: np.ndarray, names: list[str] | None = None, width: int = 40) -> str:
    """One line per class: name, count and a bar scaled to the largest count.

    Examples
    --------
    >>> print(histogram_text(np.array([4, 2]), ["normal", "crack"], width=4))
      normal          4  ####
       crack          2  ##
    """
    names = names if names is not None else [f"class {c:>2}" for c in range(len(counts))]
    top = max(int(np.max(counts)), 1)
    name_width = max(len(name) for name in names)
    return "\n".join(
        f"  {name:>{name_width}}  {n:>9,}  {'#' * max(1, round(width * n / top)) if n else ''}"
        for name, n in zip(names, counts)
    )
