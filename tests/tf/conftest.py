"""Small image folders written on the spot for the TensorFlow tests."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")

from tf_images import write_images  # noqa: E402


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """Three classes of 24, 8 and 4 JPEGs."""
    root = str(tmp_path_factory.mktemp("images"))
    paths, labels = write_images(root, (24, 8, 4))
    return root, paths, labels
