"""Writing small test images."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf


def write_images(root, counts, size=(40, 56), fmt="jpg", seed=0):
    """Class folders class_0, class_1, ... with `counts` smooth random images each; returns (paths, labels)."""
    rng = np.random.default_rng(seed)
    paths, labels = [], []
    for c, n in enumerate(counts):
        folder = os.path.join(root, f"class_{c}")
        os.makedirs(folder, exist_ok=True)
        for k in range(n):
            base = rng.random((5, 7, 3)) * 255  # smooth at any size, like a photo at low resolution
            pixels = tf.image.resize(base[None], size)[0].numpy().clip(0, 255).astype(np.uint8)
            path = os.path.join(folder, f"{k:04d}.{fmt}")
            encoded = tf.io.encode_jpeg(pixels, quality=95) if fmt == "jpg" else tf.io.encode_png(pixels)
            tf.io.write_file(path, encoded)
            paths.append(path)
            labels.append(c)
    return paths, np.array(labels)
