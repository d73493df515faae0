"""Smoke test of an installed fast_balance (cibuildwheel's test-command, and .ci/wheels).

Imports the package, checks that its version is the installed distribution's, runs the sampler
and checks that every batch is stratified; prints a digest of the epochs, so that two installs
(a repaired wheel, a source build) can be compared.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import sys

import numpy as np

import fast_balance


def epochs_digest() -> str:
    """SHA-256 of epoch 0 of a long-tailed label set, unbatched and in batches of 8."""
    counts = [500, 120, 40, 9, 1]
    n = sum(counts)
    # A fixed interleaving (7 is coprime with n) instead of a NumPy RNG, whose streams may change.
    labels = np.repeat(np.arange(len(counts)), counts)[(np.arange(n) * 7) % n]
    digest = hashlib.sha256()
    for batch_size in (None, 8):
        epoch = fast_balance.BalancedIndexSampler(labels, batch_size=batch_size, seed=3).epoch(0)
        digest.update(epoch.indices.astype("<i8").tobytes())
        digest.update(epoch.labels.astype("<i4").tobytes())
        digest.update(epoch.repeats.astype("<i4").tobytes())
    return digest.hexdigest()


def base_requirements() -> list[str]:
    """Names of the installed distribution's requirements without an extra (numpy, tqdm)."""
    texts = importlib.metadata.requires("fast_balance") or []
    return [re.match(r"[A-Za-z0-9._-]+", text).group(0) for text in texts if "extra ==" not in text]


def main() -> None:
    installed = importlib.metadata.version("fast_balance")
    assert fast_balance.__version__ == installed, (fast_balance.__version__, installed)
    sampler = fast_balance.BalancedIndexSampler([0] * 90 + [1] * 6 + [2] * 4, batch_size=30, seed=0)
    epoch = sampler.epoch(0)
    for start in range(0, epoch.labels.size, 30):
        assert np.bincount(epoch.labels[start:start + 30], minlength=3).tolist() == [10, 10, 10]
    print(json.dumps({
        "version": installed,
        "module": fast_balance.__file__,
        "extension": fast_balance._core.__file__,
        "digest": epochs_digest(),
        "python": sys.version.split()[0],
        "dependencies": {name: importlib.metadata.version(name) for name in base_requirements()},
    }))


if __name__ == "__main__":
    main()
