"""fast_balance.tf.balanced_dataset and from_directory."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from fast_balance import BalancedIndexSampler
from fast_balance.tf import augment_batch, balanced_dataset, from_directory

SIZE = (32, 32)


def collect(dataset):
    images, labels = [], []
    for x, y in dataset:
        images.append(x.numpy())
        labels.append(y.numpy())
    return np.concatenate(images), np.concatenate(labels)


def make(paths, labels, **options):
    options = {"image_size": SIZE, "batch_size": 12, "seed": 3, "progress": False, **options}
    return balanced_dataset(paths, labels, **options)


def test_batches_follow_the_sampler_and_each_pass_is_the_next_epoch(image_folder):
    _, paths, labels = image_folder
    ds = make(paths, labels)
    reference = BalancedIndexSampler(labels, batch_size=12, seed=3)
    assert len(ds) == reference.num_batches == 6
    assert ds.element_spec[0].shape.as_list() == [12, 32, 32, 3] and ds.element_spec[0].dtype == tf.float32
    for epoch in range(2):
        images, got = collect(ds)
        assert np.array_equal(got, reference.epoch(epoch).labels)
        assert images.min() >= 0.0 and images.max() <= 255.0 and images.max() > 1.0  # Keras' scale
    per_batch = got.reshape(-1, 12)
    assert all(np.bincount(row, minlength=3).tolist() == [4, 4, 4] for row in per_batch)
    assert int(ds.next_epoch.numpy()) == 2


def test_value_range_maps_pixels_linearly(image_folder):
    _, paths, labels = image_folder
    keras_scale, _ = collect(make(paths, labels, augment="all"))
    unit, _ = collect(make(paths, labels, augment="all", value_range=(0, 1)))
    signed, _ = collect(make(paths, labels, augment="all", value_range=(-1, 1)))
    assert np.allclose(keras_scale / 255.0, unit, atol=1e-5) and np.allclose(unit * 2 - 1, signed, atol=1e-5)
    assert unit.max() <= 1.0 and signed.min() >= -1.0
    for bad in ((1, 0), (0,), "unit", (0, float("inf"))):
        with pytest.raises(ValueError, match="value_range"):
            make(paths, labels, value_range=bad)


def test_repeats_policy_augments_only_duplicates(image_folder):
    _, paths, labels = image_folder
    plain, _ = collect(make(paths, labels, augment="none"))
    augmented, _ = collect(make(paths, labels, augment="repeats"))
    repeats = BalancedIndexSampler(labels, batch_size=12, seed=3).epoch(0).repeats
    same = np.all(np.isclose(plain, augmented), axis=(1, 2, 3))
    assert np.array_equal(same, repeats == 0)
    everything, _ = collect(make(paths, labels, augment="all"))
    assert not np.any(np.all(np.isclose(plain, everything), axis=(1, 2, 3)))


def test_callable_augmentation_receives_the_repeat_mask(image_folder):
    _, paths, labels = image_folder
    masks = []

    def darken(images, mask):
        masks.append(mask)
        return tf.where(mask[:, None, None, None], images * 0.0, images)

    images, _ = collect(make(paths, labels, augment=darken))
    repeats = BalancedIndexSampler(labels, batch_size=12, seed=3).epoch(0).repeats
    assert np.array_equal(images.reshape(len(images), -1).max(axis=1) == 0, repeats >= 1)


def test_decode_bank_serves_identical_images(image_folder):
    _, paths, labels = image_folder
    banked = make(paths, labels, augment="none", decode_cache="auto")
    unbanked = make(paths, labels, augment="none", decode_cache=0)
    a, _ = collect(banked)
    b, _ = collect(unbanked)
    assert np.array_equal(a, b)
    # Classes 1 and 2 are oversampled (8 and 4 samples drawn 24 times): all 12 are in the bank.
    assert banked.report.bank_images == 12 and unbanked.report.bank_images == 0
    drawn = BalancedIndexSampler(labels, batch_size=12, seed=3).epoch(0)
    assert banked.report.bank_hit_rate == pytest.approx(np.mean(drawn.labels >= 1))
    # A budget for 5 images keeps the most-drawn class (4 samples) and one more.
    small = make(paths, labels, decode_cache=5 * 32 * 32 * 3)
    assert small.report.bank_images == 5


def test_bad_arguments_fail_before_any_work(image_folder):
    _, paths, labels = image_folder
    with pytest.raises(ValueError, match="differ in length"):
        make(paths[:-1], labels)
    with pytest.raises(ValueError, match="paths is empty"):
        make([], [])
    with pytest.raises(ValueError, match="augment must be one of"):
        make(paths, labels, augment="some")
    with pytest.raises(ValueError, match="on_error must be one of"):
        make(paths, labels, on_error="ignore")
    with pytest.raises(ValueError, match="decode_cache must be"):
        make(paths, labels, decode_cache=-1)
    with pytest.raises(ValueError, match="image_size"):
        make(paths, labels, image_size=(0, 10))
    with pytest.raises(ValueError, match="differs from the sampler's"):
        make(paths, labels, sampler=BalancedIndexSampler(labels, batch_size=6))
    with pytest.raises(ValueError, match="differs from the sampler.s None"):
        make(paths, labels, sampler=BalancedIndexSampler(labels, samples_per_epoch=50))
    with pytest.raises(ValueError, match="epochs must be"):
        make(paths, labels, epochs=0)


def test_from_directory_names_classes(image_folder, tmp_path):
    root, _, _ = image_folder
    ds = from_directory(root, image_size=SIZE, batch_size=12, verbose=False)
    assert ds.class_names == ["class_0", "class_1", "class_2"]
    assert len(ds) == 3  # samples_per_epoch "n": the 36 files
    assert np.bincount(collect(ds)[1]).tolist() == [12, 12, 12]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError):
        from_directory(str(empty))


def test_model_fit_runs_on_the_dataset(image_folder):
    _, paths, labels = image_folder
    ds = make(paths, labels)
    model = tf.keras.Sequential(
        [tf.keras.Input((32, 32, 3)), tf.keras.layers.Conv2D(4, 3, activation="relu"),
         tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(3)]
    )
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    assert int(ds.next_epoch.numpy()) == 2  # Keras' two epochs were the sampler's epochs 0 and 1


def test_augment_batch_is_deterministic_and_respects_the_mask():
    images = tf.random.stateless_uniform([6, 16, 16, 3], seed=[1, 2])
    mask = tf.constant([True, False, True, False, True, True])
    a = augment_batch(images, mask, tf.constant([5, 6], tf.int64))
    b = augment_batch(images, mask, tf.constant([5, 6], tf.int64))
    c = augment_batch(images, mask, tf.constant([5, 7], tf.int64))
    assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a.numpy(), c.numpy())
    unchanged = np.all(a.numpy() == images.numpy(), axis=(1, 2, 3))
    assert unchanged.tolist() == [False, True, False, True, False, False]
    assert float(tf.reduce_min(a)) >= 0.0 and float(tf.reduce_max(a)) <= 1.0


def test_augmentation_copied_to_a_device_matches_the_in_pipeline_path(image_folder):
    # copy_to_device is the GPU path; on this CPU-only machine it is exercised with /CPU:0.
    _, paths, labels = image_folder
    in_pipeline = make(paths, labels, augment="all", augment_device=None)
    copied = make(paths, labels, augment="all", augment_device="/CPU:0")
    assert in_pipeline.augment_device is None and copied.augment_device == "/CPU:0"
    a, la = collect(in_pipeline)
    b, lb = collect(copied)
    assert np.array_equal(la, lb) and np.allclose(a, b, atol=1e-6)
    expected = "/GPU:0" if tf.config.list_logical_devices("GPU") else None
    assert make(paths, labels).augment_device == expected
    with pytest.raises(ValueError, match="augment_device"):
        make(paths, labels, augment_device="")
