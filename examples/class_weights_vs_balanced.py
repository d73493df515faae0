"""Two ways to train on a long-tailed set: balanced input, or plain input with class weights.

Run: python examples/class_weights_vs_balanced.py [--epochs 4] [--counts 400 120 40 12]

Both use the same small CNN and the same generated JPEGs; the script prints each way's
per-class recall and balanced accuracy on a held-out, balanced test split. Do not combine the
two: a balanced sampler already removes the imbalance that class weights correct for.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import tensorflow as tf

import fast_balance
from fast_balance.files import list_image_files
from fast_balance.tf import balanced_dataset, load_image
from fast_balance.tf.synthetic import make_long_tailed_images


def small_cnn(num_classes: int, size: int) -> tf.keras.Model:
    model = tf.keras.Sequential(
        [
            tf.keras.Input((size, size, 3)),
            tf.keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
            tf.keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(num_classes),
        ]
    )
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def plain_dataset(paths, labels, size: int, batch_size: int, seed: int) -> tf.data.Dataset:
    """The usual unbalanced pipeline: shuffle, decode, batch."""
    ds = tf.data.Dataset.from_tensor_slices((list(paths), labels.astype(np.int32))).shuffle(len(paths), seed=seed)
    ds = ds.map(lambda p, y: (tf.cast(load_image(p, (size, size)), tf.float32) / 255.0, y), tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def recall_per_class(model, paths, labels, size: int) -> np.ndarray:
    images = np.stack([load_image(tf.constant(p), (size, size)).numpy() for p in paths]).astype(np.float32) / 255.0
    predicted = np.argmax(model.predict(images, verbose=0), axis=1)
    return np.array([np.mean(predicted[labels == c] == c) for c in np.unique(labels)])


def split(paths, labels, per_class_test: int, seed: int):
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class_test] for c in np.unique(labels)])
    train = np.setdiff1d(np.arange(labels.size), test)
    return (paths[train], labels[train]), (paths[test], labels[test])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[400, 120, 40, 12])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--directory", default=os.path.join(tempfile.gettempdir(), "fast_balance_weights_example"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    test_per_class = max(2, min(args.counts) // 4)
    make_long_tailed_images(args.directory, counts=[n + test_per_class for n in args.counts], seed=args.seed,
                            progress=False)
    paths, labels, class_names = list_image_files(args.directory)
    (train_paths, train_labels), (test_paths, test_labels) = split(np.array(paths), labels, test_per_class, args.seed)
    print(f"train {np.bincount(train_labels).tolist()}, test {np.bincount(test_labels).tolist()} ({class_names})")

    tf.keras.utils.set_random_seed(args.seed)
    balanced = small_cnn(len(class_names), args.size)
    ds = balanced_dataset(train_paths, train_labels, image_size=(args.size, args.size), batch_size=args.batch_size,
                          samples_per_epoch="n", value_range=(0, 1), seed=args.seed, progress=False)
    balanced.fit(ds, epochs=args.epochs, verbose=0)

    tf.keras.utils.set_random_seed(args.seed)
    weighted = small_cnn(len(class_names), args.size)
    weights = fast_balance.class_weights(train_labels)
    weighted.fit(plain_dataset(train_paths, train_labels, args.size, args.batch_size, args.seed),
                 epochs=args.epochs, class_weight=weights, verbose=0)

    for name, model in (("balanced input", balanced), ("class weights", weighted)):
        recall = recall_per_class(model, test_paths, test_labels, args.size)
        print(f"{name:>15}: per-class recall {np.round(recall, 2).tolist()}, balanced accuracy {recall.mean():.3f}")


if __name__ == "__main__":
    main()
