"""fast_balance.tf.decode_batches over rebalance's output, and the streaming guide's example."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from fast_balance.tf import decode_batches, rebalance
from fast_balance.tf.decode import decode_resized

ROOT = Path(__file__).resolve().parents[2]
SIZE = (24, 24)


@pytest.fixture(scope="module")
def records(image_folder):
    """(jpeg bytes, label) of the image folder (24, 8 and 4 JPEGs), in shuffled order."""
    _, paths, labels = image_folder
    order = np.random.default_rng(1).permutation(len(paths))
    contents = [Path(paths[i]).read_bytes() for i in order]
    return tf.data.Dataset.from_tensor_slices((contents, labels[order].astype(np.int64)))


def balanced(records, seed=4):
    return rebalance(records, lambda jpeg, label: label, num_classes=3, capacity_per_class=8, seed=seed)


def collect(dataset):
    images, labels = zip(*((x.numpy(), y.numpy()) for x, y in dataset))
    return np.concatenate(images), np.concatenate(labels)


def test_first_views_are_decoded_clean_and_replays_augmented(records):
    # A second rebalance with the same seed gives the same stream: what decode_batches was given.
    stream = [(jpeg.numpy(), int(label), int(repeats)) for (jpeg, label), repeats in balanced(records)]
    images, labels = collect(decode_batches(balanced(records), SIZE, batch_size=10, seed=1))
    assert labels.dtype == np.int32 and labels.tolist() == [label for _, label, _ in stream]
    assert images.shape == (len(stream), *SIZE, 3) and images.dtype == np.float32
    clean = np.stack([decode_resized(tf.constant(jpeg), SIZE).numpy() for jpeg, _, _ in stream]).astype(np.float32)
    first = np.array([repeats == 0 for _, _, repeats in stream])
    assert first.sum() == 36 and (~first).sum() > 20  # every record once; the minorities replayed
    assert np.array_equal(images[first], clean[first])  # (0, 255) floats, exactly the decoded pixels
    changed = np.any(images != clean, axis=(1, 2, 3))
    assert changed[~first].all()
    assert images.min() >= 0.0 and images.max() <= 255.0 and images.max() > 1.0


def test_same_seed_same_batches_and_each_pass_keyed_anew(records):
    a = decode_batches(balanced(records), SIZE, batch_size=8, seed=2, drop_remainder=True)
    b = decode_batches(balanced(records), SIZE, batch_size=8, seed=2, drop_remainder=True)
    first, again = collect(a), collect(b)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert all(batch.shape[0] == 8 for batch, _ in a)  # drop_remainder
    other_seed = collect(decode_batches(balanced(records), SIZE, batch_size=8, seed=3, drop_remainder=True))
    assert np.array_equal(other_seed[1], first[1]) and not np.array_equal(other_seed[0], first[0])
    assert not np.array_equal(collect(a)[0], first[0])  # a's third pass: new replays, new keys


def test_value_range_and_policies(records):
    plain, _ = collect(decode_batches(balanced(records), SIZE, batch_size=12, augment="none"))
    unit, _ = collect(decode_batches(balanced(records), SIZE, batch_size=12, augment="none", value_range=(0, 1)))
    assert np.allclose(plain / 255.0, unit, atol=1e-6)
    everything, _ = collect(decode_batches(balanced(records), SIZE, batch_size=12, augment="all"))
    assert np.any(everything != plain, axis=(1, 2, 3)).all()
    flipped_only, _ = collect(decode_batches(
        balanced(records), SIZE, batch_size=12, augment="all",
        augment_options={"crop": False, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0}))
    mirrored = np.all(flipped_only == plain[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(mirrored | np.all(flipped_only == plain, axis=(1, 2, 3))) and 0 < mirrored.sum() < len(plain)


def test_bad_arguments_fail_before_any_work(records):
    with pytest.raises(TypeError, match=r"decode_batches needs elements \(\(image bytes, label\), repeats\)"):
        decode_batches(records, SIZE, batch_size=4)  # not rebalanced: no repeats
    with pytest.raises(ValueError, match="crop_scale"):
        decode_batches(balanced(records), SIZE, batch_size=4, augment_options={"crop_scale": (0.5, 2)})
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        decode_batches(balanced(records), SIZE, batch_size=0)
    with pytest.raises(ValueError, match="image_size"):
        decode_batches(balanced(records), (0, 8), batch_size=4)
    with pytest.raises(ValueError, match="value_range"):
        decode_batches(balanced(records), SIZE, batch_size=4, value_range=(1, 0))


def test_streaming_guide_example_runs_as_written_and_keras_does_not_run_out(capsys):
    text = (ROOT / "docs" / "guide" / "streaming.md").read_text()
    example = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    namespace: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(example, "docs/guide/streaming.md", "exec"), namespace)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "ran out of data" in m], messages
    history = namespace["model"].history.history
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
    report = namespace["balanced"].report
    assert report.passes_finished >= 1 and report.read == 81 and report.fresh == 81
    assert "read 81, emitted" in capsys.readouterr().out
