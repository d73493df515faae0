"""Shared data for the benchmarks: long-tailed label sets by (N, C) and the generated JPEG set,
built once per session."""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile
import time

import numpy as np
import pytest

BENCHMARKS = str(pathlib.Path(__file__).resolve().parent)
# The default import mode already puts this directory on sys.path (no __init__.py here);
# --import-mode=importlib does not, and the tests import their baselines by module name.
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)

import sampler_baselines  # noqa: E402

# tests/ modules do `from conftest import long_tailed_labels`; in a run that collects both tests/
# and benchmarks/, whichever conftest was loaded last answers to that name.
from fast_balance.synthetic import long_tailed_labels  # noqa: E402, F401

BLOG_SETUP_LIMIT_S = 30.0  # the blog iterator is skipped where its set-up alone would take longer
BLOG_PROBE_CLASSES = 20  # classes timed to extrapolate its set-up


@pytest.fixture(scope="session")
def labels_for():
    """``labels_for(N, C)``: cached `sampler_baselines.labels_for` (int32, imbalance ratio 100)."""
    cache = {}

    def get(total: int, num_classes: int):
        if (total, num_classes) not in cache:
            cache[total, num_classes] = sampler_baselines.labels_for(total, num_classes)
        return cache[total, num_classes]

    return get


class BlogSetups:
    """The blog iterator's set-up (``np.where`` per class, O(N * C)), estimated before it is run.

    ``estimate(N, C)`` times the first BLOG_PROBE_CLASSES classes and extrapolates;
    ``class_indices(N, C)`` runs the whole set-up once and caches it, or returns None when
    the estimate exceeds BLOG_SETUP_LIMIT_S.
    """

    limit_s = BLOG_SETUP_LIMIT_S
    probe_classes = BLOG_PROBE_CLASSES

    def __init__(self, labels_for) -> None:
        self._labels_for = labels_for
        self._estimates: dict = {}
        self._indices: dict = {}

    def estimate(self, total: int, num_classes: int) -> float:
        key = (total, num_classes)
        if key not in self._estimates:
            labels = self._labels_for(total, num_classes)
            probe = min(num_classes, self.probe_classes)
            start = time.perf_counter()
            for c in range(probe):
                np.where(labels == c)
            self._estimates[key] = (time.perf_counter() - start) * num_classes / probe
        return self._estimates[key]

    def feasible(self, total: int, num_classes: int) -> bool:
        return self.estimate(total, num_classes) <= self.limit_s

    def store(self, total: int, num_classes: int, class_indices: dict) -> None:
        self._indices[total, num_classes] = class_indices

    def class_indices(self, total: int, num_classes: int):
        key = (total, num_classes)
        if key not in self._indices:
            if not self.feasible(total, num_classes):
                return None
            self._indices[key] = sampler_baselines.blog_class_indices(self._labels_for(total, num_classes))
        return self._indices[key]


@pytest.fixture(scope="session")
def blog_setups(labels_for) -> BlogSetups:
    return BlogSetups(labels_for)


@pytest.fixture(scope="session")
def image_set():
    """(paths, labels) of the generated long-tailed JPEG set: 10 classes, 1000 down to 20, 160-320 px,
    written once to the temporary folder and reused."""
    pytest.importorskip("tensorflow")
    from fast_balance.files import list_image_files
    from fast_balance.tf.synthetic import make_long_tailed_images

    directory = os.path.join(tempfile.gettempdir(), "fast_balance_benchmark_images")
    make_long_tailed_images(directory, seed=0, progress=False)
    paths, labels, _ = list_image_files(directory)
    return np.asarray(paths), labels
