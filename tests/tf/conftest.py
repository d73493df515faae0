"""Small image folders written on the spot for the TensorFlow tests."""

from __future__ import annotations

# TensorFlow comes with the test extra; these tests import it outright so that a missing
# install step fails instead of skipping.
import pytest
from tf_images import write_images


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """Three classes of 24, 8 and 4 JPEGs."""
    root = str(tmp_path_factory.mktemp("images"))
    paths, labels = write_images(root, (24, 8, 4))
    return root, paths, labels
