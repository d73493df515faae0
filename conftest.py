"""Names the package's docstring examples use.

Every example has ``np``, ``fast_balance`` and ``tmp`` (a fresh folder, a `pathlib.Path`, for
examples that write files); those of ``fast_balance.tf`` also have a tiny image folder: ``folder``
(class sub-folders ``class_0``, ``class_1``, ``class_2`` of 12, 4 and 2 JPEGs), and its ``paths``
and ``labels`` as `fast_balance.files.list_image_files` lists them.

The examples run both ways with these names: ``python -m pytest --doctest-modules python/fast_balance``
(the autouse fixture below) and tests/test_docs.py, in every run of the suite (`docstring_names`).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import fast_balance

#: Images per class of the doctests' folder.
DOCTEST_IMAGE_COUNTS = (12, 4, 2)


@pytest.fixture(scope="session")
def doctest_images(tmp_path_factory) -> dict:
    """``{"folder", "paths", "labels"}`` of a tiny long-tailed folder of 48 x 64 JPEGs."""
    import tensorflow as tf

    from fast_balance.files import list_image_files

    root = tmp_path_factory.mktemp("doctest_images")
    rng = np.random.default_rng(0)
    for label, count in enumerate(DOCTEST_IMAGE_COUNTS):
        os.makedirs(root / f"class_{label}")
        for k in range(count):
            coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)  # blocks: smooth enough to compress
            pixels = np.kron(coarse, np.ones((8, 8, 1), dtype=np.uint8))
            tf.io.write_file(str(root / f"class_{label}" / f"{k:02d}.jpg"), tf.io.encode_jpeg(pixels))
    paths, labels, _ = list_image_files(root)
    return {"folder": str(root), "paths": paths, "labels": labels}


@pytest.fixture
def docstring_names(request, tmp_path):
    """``names(module)``: the names the examples of the module named ``module`` run with."""

    def names(module: str) -> dict:
        found = {"np": np, "fast_balance": fast_balance, "tmp": tmp_path}
        if module == "fast_balance.tf" or module.startswith("fast_balance.tf."):
            found.update(request.getfixturevalue("doctest_images"))
        return found

    return names


@pytest.fixture(autouse=True)
def _doctest_names(request, doctest_namespace):
    example = getattr(request.node, "dtest", None)  # set on the items of pytest --doctest-modules
    if example is not None:
        doctest_namespace.update(request.getfixturevalue("docstring_names")(example.name))
