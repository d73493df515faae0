"""Proof on real data: the same small CNN trained on long-tailed handwritten digits through each input pipeline.

Data: scikit-learn's digits (1,797 8x8 images, 10 classes, no download). 50 images per class are held
out as a balanced test set; the training part is made long-tailed (geometric, 120 images of the largest
class down to 6 of the smallest, imbalance ratio 20), and both are written as 32x32 PNGs, one
sub-folder per class. Every method trains the same model for the same number of optimizer steps of
the same batch size, seeded (pipeline and model initialisation) by the run's seed; the split is the
same for all runs. Results go to benchmarks/digits_training.json and a markdown table to stdout.

    python benchmarks/digits_training.py --seeds 8 --steps 2000   # docs/real-data.md: ~15 min on 2 cores
    python benchmarks/digits_training.py --quick          # smoke test: 1 seed, 60 steps, under a minute
    python benchmarks/digits_training.py --table-only     # the tables of the JSON, without training
    python benchmarks/digits_training.py --table-only --doc docs/real-data.md   # ... written into the results page
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# TensorFlow, Keras and scikit-learn are imported where used: --table-only needs none of them.

NUM_CLASSES = 10
TEST_PER_CLASS = 50
LARGEST = 120  # training images of the most frequent class
IMBALANCE = 20  # largest / smallest training class
IMAGE_SIZE = (32, 32)
BATCH = 32
LEARNING_RATE = 1e-3
DATA_SEED = 0  # the split and which digit gets which count: fixed, so seeds vary only training
# Digits: no mirror (a flipped digit is another symbol), no saturation (grey images); the crop
# is the package's random resized crop (area 0.6-1, aspect 3/4-4/3), the only one it offers.
DIGIT_AUGMENT = {"flip": False, "crop": True, "brightness": 0.2, "contrast": 0.2, "saturation": 0.0}
DEFAULT_JSON = pathlib.Path(__file__).with_name("digits_training.json")
COMMAND = "python benchmarks/digits_training.py"


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Digits:
    """The written PNG folders and what the pipelines and the evaluation need from them."""

    train_dir: str
    train_paths: np.ndarray  # str, sorted as from_directory lists them
    train_labels: np.ndarray  # int32
    test_paths: np.ndarray
    test_labels: np.ndarray
    train_counts: list[int]  # per class


def long_tailed_counts(largest: int = LARGEST, imbalance: float = IMBALANCE, classes: int = NUM_CLASSES) -> np.ndarray:
    """Geometric class sizes from ``largest`` down to ``largest / imbalance``.

    >>> long_tailed_counts().tolist()
    [120, 86, 62, 44, 32, 23, 16, 12, 8, 6]
    """
    return np.round(largest * float(imbalance) ** (-np.arange(classes) / (classes - 1))).astype(int)


def split_digits(seed: int = DATA_SEED):
    """(train images, train labels, test images, test labels, train counts per digit), 8x8 in 0-16.

    The test set takes TEST_PER_CLASS of every digit; the training set takes a long-tailed number
    of the rest, the rank of each digit in the tail drawn from ``seed`` (so that the rarest classes
    are not the same hard or easy digits by construction).
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    counts = long_tailed_counts()[np.argsort(rng.permutation(NUM_CLASSES))]  # counts[d]: digit d's size
    train, test = [], []
    for digit in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(digits.target == digit))
        test.append(members[:TEST_PER_CLASS])
        train.append(members[TEST_PER_CLASS:TEST_PER_CLASS + counts[digit]])
    train, test = np.concatenate(train), np.concatenate(test)
    return digits.images[train], digits.target[train], digits.images[test], digits.target[test], counts


def write_pngs(directory: str, images: np.ndarray, labels: np.ndarray) -> None:
    """8x8 images (0-16) as upscaled greyscale PNGs in ``directory/<digit>/``."""
    from PIL import Image

    shutil.rmtree(directory, ignore_errors=True)
    for i, (image, label) in enumerate(zip(images, labels)):
        folder = os.path.join(directory, str(label))
        os.makedirs(folder, exist_ok=True)
        pixels = np.round(image * (255 / 16)).astype(np.uint8)
        Image.fromarray(pixels, mode="L").resize(IMAGE_SIZE[::-1], Image.BILINEAR).save(
            os.path.join(folder, f"{i:04d}.png")
        )


def prepare(root: str) -> Digits:
    from fast_balance.files import list_image_files

    train_x, train_y, test_x, test_y, counts = split_digits()
    write_pngs(os.path.join(root, "train"), train_x, train_y)
    write_pngs(os.path.join(root, "test"), test_x, test_y)
    train_paths, train_labels, _ = list_image_files(os.path.join(root, "train"))
    test_paths, test_labels, _ = list_image_files(os.path.join(root, "test"))
    return Digits(os.path.join(root, "train"), np.asarray(train_paths), train_labels,
                  np.asarray(test_paths), test_labels, counts.tolist())


# ---------------------------------------------------------------------------------------------
# Input pipelines: each yields (float32 [BATCH, 32, 32, 3] in [0, 255], int32 [BATCH]) forever.
# The baselines decode with the package's own load_image, so only the choice of samples and the
# augmentation differ between methods.


def _decode(path, label):
    from fast_balance.tf import load_image

    return load_image(path, IMAGE_SIZE, check=False), label  # uint8


def _to_float(images, labels):
    import tensorflow as tf

    return tf.cast(images, tf.float32), labels


def _augment_every_image(seed: int):
    """The balanced pipeline's augmentation (augment_batch, DIGIT_AUGMENT) on every image of a batch,
    keyed statelessly by (seed, batch number)."""
    import tensorflow as tf

    from fast_balance.tf import augment_batch

    def augment(batch, element):
        images, labels = element
        key = tf.stack([tf.constant(seed, tf.int64), batch])
        everything = tf.ones_like(labels, tf.bool)
        return augment_batch(images, everything, key, **DIGIT_AUGMENT) * 255.0, labels

    return augment


def plain_pipeline(data: Digits, seed: int, augment: bool = False):
    """Unbalanced: the training files shuffled, decoded, batched."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((data.train_paths, data.train_labels))
    ds = ds.shuffle(len(data.train_paths), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.map(_decode, tf.data.AUTOTUNE).batch(BATCH, drop_remainder=True)
    ds = ds.enumerate().map(_augment_every_image(seed)) if augment else ds.map(_to_float)
    return ds.prefetch(tf.data.AUTOTUNE)


def balanced_pipeline(data: Digits, seed: int, augment: str):
    """fast_balance's balanced batches (samples_per_epoch "max": every class as often as the largest)."""
    import fast_balance.tf as fbt

    options = {} if augment == "none" else {"augment_options": DIGIT_AUGMENT}
    ds = fbt.from_directory(data.train_dir, image_size=IMAGE_SIZE, batch_size=BATCH, seed=seed,
                            samples_per_epoch="max", augment=augment, progress=False, **options)
    return ds.repeat()  # every repetition is the sampler's next epoch


def sample_from_datasets_pipeline(data: Digits, seed: int, augment: bool):
    """The usual tf.data recipe: one shuffled, repeated dataset per class, drawn with equal weights."""
    import tensorflow as tf

    per_class = []
    for c in range(NUM_CLASSES):
        members = data.train_labels == c
        one = tf.data.Dataset.from_tensor_slices((data.train_paths[members], data.train_labels[members]))
        per_class.append(one.shuffle(int(members.sum()), seed=seed + c, reshuffle_each_iteration=True).repeat())
    ds = tf.data.Dataset.sample_from_datasets(per_class, weights=[1 / NUM_CLASSES] * NUM_CLASSES, seed=seed)
    ds = ds.map(_decode, tf.data.AUTOTUNE).batch(BATCH, drop_remainder=True)
    ds = ds.enumerate().map(_augment_every_image(seed)) if augment else ds.map(_to_float)
    return ds.prefetch(tf.data.AUTOTUNE)


@dataclass
class Method:
    name: str
    pipeline: Callable  # (data, seed) -> dataset
    augmentation: str  # what is augmented, for the table and the JSON
    class_weight: bool = False


METHODS = [
    Method("plain", plain_pipeline, "none"),
    Method("plain + class_weight", plain_pipeline, "none", class_weight=True),
    Method("balanced", lambda d, s: balanced_pipeline(d, s, "none"), "none"),
    Method("balanced + augment repeats", lambda d, s: balanced_pipeline(d, s, "repeats"), "repeats only"),
    Method("sample_from_datasets", lambda d, s: sample_from_datasets_pipeline(d, s, False), "none"),
    Method("sample_from_datasets + augment all", lambda d, s: sample_from_datasets_pipeline(d, s, True), "every image"),
    # Controls: augmentation without balancing, and balancing with every image augmented, to tell
    # what the augmentation does from what augmenting only the repeats does.
    Method("plain + augment all", lambda d, s: plain_pipeline(d, s, True), "every image"),
    Method("balanced + augment all", lambda d, s: balanced_pipeline(d, s, "all"), "every image"),
]


# ---------------------------------------------------------------------------------------------
# Model, training, evaluation


def build_model():
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((*IMAGE_SIZE, 3)),
        layers.Rescaling(1 / 255),  # every pipeline yields [0, 255], as image_dataset_from_directory
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(NUM_CLASSES),
    ])
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def load_test_images(data: Digits) -> np.ndarray:
    """The test PNGs decoded as the pipelines decode theirs, float32 in [0, 255]."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((data.test_paths, data.test_labels)).map(_decode).batch(256)
    return np.concatenate([images.numpy() for images, _ in ds]).astype(np.float32)


def metrics(labels: np.ndarray, predicted: np.ndarray) -> dict:
    recall = [float(np.mean(predicted[labels == c] == c)) for c in range(NUM_CLASSES)]
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "balanced_accuracy": float(np.mean(recall)),
        "worst_class_recall": float(min(recall)),
        "per_class_recall": recall,
    }


def train_and_evaluate(method: Method, data: Digits, images: np.ndarray, seed: int, steps: int) -> dict:
    import keras

    import fast_balance

    keras.utils.set_random_seed(seed)  # model initialisation (Python, NumPy and TF global seeds)
    start = time.perf_counter()
    dataset = method.pipeline(data, seed)
    model = build_model()
    weights = fast_balance.class_weights(data.train_labels) if method.class_weight else None
    model.fit(dataset, epochs=1, steps_per_epoch=steps, class_weight=weights, shuffle=False, verbose=0)
    predicted = np.argmax(model.predict(images, batch_size=256, verbose=0), axis=1)
    return {"method": method.name, "seed": seed, "steps": steps,
            "wall_s": round(time.perf_counter() - start, 2), **metrics(data.test_labels, predicted)}


# ---------------------------------------------------------------------------------------------
# Report


def _spread(values: list[float]) -> str:
    """mean ± std (min-max), in percent."""
    values = np.asarray(values) * 100
    std = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{values.mean():.1f} ± {std:.1f} ({values.min():.1f}-{values.max():.1f})"


def table(report: dict) -> str:
    runs = report["runs"]
    names = [m["name"] for m in report["config"]["methods"]]
    augmentation = {m["name"]: m["augmentation"] for m in report["config"]["methods"]}
    lines = [("| method | augmented | accuracy % | balanced accuracy % | worst-class recall % | "
             "mean recall, 3 rarest classes % | wall s / run |"),
             "|---|---|---|---|---|---|---|"]
    rarest = np.argsort(report["config"]["train_counts"])[:3]
    for name in names:
        mine = [r for r in runs if r["method"] == name]
        if not mine:
            continue
        rare = [float(np.mean([r["per_class_recall"][c] for c in rarest])) for r in mine]
        cells = [name, augmentation[name],
                 _spread([r["accuracy"] for r in mine]), _spread([r["balanced_accuracy"] for r in mine]),
                 _spread([r["worst_class_recall"] for r in mine]), _spread(rare),
                 f"{np.mean([r['wall_s'] for r in mine]):.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    seeds = sorted({r["seed"] for r in runs})
    steps = sorted({r["steps"] for r in runs})
    lines += ["", (f"mean ± sample std (min-max) over seeds {seeds}; {steps[0] if len(steps) == 1 else steps} "
                  f"steps of batch {report['config']['batch_size']}; test: {TEST_PER_CLASS} images per digit "
                  "(so accuracy and balanced accuracy coincide).")]
    return "\n".join(lines)


def paired_table(report: dict, reference: str = "plain") -> str:
    """Differences from ``reference`` run with the same seed (same initial weights), in points."""
    runs = {(r["method"], r["seed"]): r for r in report["runs"]}
    names = [m["name"] for m in report["config"]["methods"] if m["name"] != reference]
    lines = [(f"| method | balanced accuracy - {reference} | worst-class recall - {reference} | "
             "seeds better / equal / worse (balanced accuracy) |"), "|---|---|---|---|"]
    for name in names:
        seeds = [s for (m, s) in runs if m == name and (reference, s) in runs]
        if not seeds:
            continue
        cells = [name]
        for metric in ("balanced_accuracy", "worst_class_recall"):
            diff = np.array([runs[name, s][metric] - runs[reference, s][metric] for s in seeds]) * 100
            cells.append(f"{diff.mean():+.1f} ({diff.min():+.1f} to {diff.max():+.1f})")
        diff = np.array([runs[name, s]["balanced_accuracy"] - runs[reference, s]["balanced_accuracy"] for s in seeds])
        cells.append(f"{(diff > 0).sum()} / {(diff == 0).sum()} / {(diff < 0).sum()}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "mean (min to max) over seeds of the per-seed difference, in percentage points."]
    return "\n".join(lines)


def per_class_table(report: dict) -> str:
    """Mean recall of every digit over seeds, digits from the most to the least frequent in training."""
    counts = report["config"]["train_counts"]
    order = np.argsort(counts)[::-1]
    lines = ["| method | " + " | ".join(f"digit {d} ({counts[d]})" for d in order) + " |",
             "|---|" + "---|" * len(order)]
    for name in [m["name"] for m in report["config"]["methods"]]:
        recall = [r["per_class_recall"] for r in report["runs"] if r["method"] == name]
        if recall:
            mean = np.mean(recall, axis=0) * 100
            lines.append(f"| {name} | " + " | ".join(f"{mean[d]:.0f}" for d in order) + " |")
    lines += ["", "Mean test recall (%) per digit over seeds; in brackets the digit's training images."]
    return "\n".join(lines)


# The paired tables compare every method with these, seed by seed.
REFERENCES = ("plain", "balanced", "balanced + augment repeats")


def tables(report: dict) -> str:
    machine = report["machine"]
    provenance = (f"Produced by `{report['command']}` on {report['date'].replace('T', ' ')} "
                  f"({machine['cpu_count']} logical cores, Python {machine['python']}, TensorFlow "
                  f"{machine['tensorflow']}); {len(report['runs'])} runs in {report['total_wall_s']:,.0f} s.")
    parts = [provenance, table(report), *(paired_table(report, r) for r in REFERENCES), per_class_table(report)]
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="seeds 0 .. SEEDS-1 per method")
    parser.add_argument("--steps", type=int, default=2000, help="optimizer steps per run, the same for every method")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 seed, 60 steps, JSON not written")
    parser.add_argument("--methods", nargs="*", help="names of the methods to run (default: all)")
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    parser.add_argument("--table-only", action="store_true", help="print the tables of --json and exit")
    parser.add_argument("--doc", help="with --table-only: write the tables into this file's "
                                      "<!-- benchmark:digits --> block (docs/real-data.md)")
    args = parser.parse_args(argv)
    if args.table_only:
        text = tables(json.loads(pathlib.Path(args.json).read_text()))
        if args.doc:
            from report import replace_block  # benchmarks/report.py, beside this file

            doc = pathlib.Path(args.doc)
            doc.write_text(replace_block(doc.read_text(), "digits", text))
        else:
            print(text)
        return
    seeds, steps = (1, 60) if args.quick else (args.seeds, args.steps)
    methods = [m for m in METHODS if not args.methods or m.name in args.methods]

    import tensorflow as tf

    data = prepare(os.path.join(tempfile.gettempdir(), "fast_balance_digits"))
    images = load_test_images(data)
    command = " ".join([COMMAND] + (argv if argv is not None else sys.argv[1:]))
    report = {
        "command": command,
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__},
        "config": {
            "data": "sklearn.datasets.load_digits, 8x8 upscaled (bilinear) to 32x32 greyscale PNG",
            "data_seed": DATA_SEED, "train_counts": data.train_counts, "test_per_class": TEST_PER_CLASS,
            "imbalance": IMBALANCE, "image_size": list(IMAGE_SIZE), "batch_size": BATCH,
            "optimizer": f"Adam({LEARNING_RATE})", "augment_options": DIGIT_AUGMENT, "steps": steps,
            "seeds": list(range(seeds)),
            "methods": [{"name": m.name, "augmentation": m.augmentation, "class_weight": m.class_weight}
                        for m in methods],
        },
        "runs": [],
    }
    print(f"training counts per digit: {data.train_counts}", file=sys.stderr)
    started = time.perf_counter()
    for seed in range(seeds):  # seeds outermost: a cut-short run still has every method for the first seeds
        for method in methods:
            result = train_and_evaluate(method, data, images, seed, steps)
            report["runs"].append(result)
            print(f"{method.name:36s} seed {seed}: acc {result['accuracy']:.3f} "
                  f"worst {result['worst_class_recall']:.2f} ({result['wall_s']:.0f} s)", file=sys.stderr)
    report["total_wall_s"] = round(time.perf_counter() - started, 1)
    if not args.quick:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(tables(report))
    print(f"\ntotal {report['total_wall_s']:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
