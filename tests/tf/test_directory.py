"""fast_balance.tf.from_directory against keras.utils.image_dataset_from_directory itself.

Where Keras defines the behaviour (the file listing and split, pixels, labels, lengths), the
reference is Keras, run on the same folder. Images are tiny (16-28 px) and few.
"""

from __future__ import annotations

import io
import math
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tf_images import write_images

from fast_balance.tf import augment_batch, balanced_dataset, from_directory, load_image

SIZE = (16, 16)
# Pixels are kept as uint8 between decoding and the batch: Keras' float values, rounded.
ROUNDING = 0.5


def quiet(**options):
    return {"verbose": False, **options}


def collect(dataset):
    """All batches of one pass, concatenated: (images, labels) or images."""
    parts = [tuple(t.numpy() for t in element) if isinstance(element, tuple) else (element.numpy(),)
             for element in dataset]
    joined = tuple(np.concatenate(column) for column in zip(*parts))
    return joined if len(joined) > 1 else joined[0]


def keras_both(root, **options):
    """Keras' (train, val) with ``subset="both"``: its validation part is in file order, unshuffled."""
    options = {"image_size": SIZE, "batch_size": 4, "verbose": False, **options}
    return keras.utils.image_dataset_from_directory(root, subset="both", **options)


def keras_by_path(root, **options):
    """{path: (image, label)} of every file, as Keras loads it."""
    options = {"image_size": SIZE, "batch_size": 1024, "verbose": False, "shuffle": False, **options}
    ds = keras.utils.image_dataset_from_directory(root, **options)
    images, labels = collect(ds)
    return {path: (images[k], labels[k]) for k, path in enumerate(ds.file_paths)}


@pytest.fixture(scope="module")
def png_folder(tmp_path_factory):
    """Three classes of 9, 8 and 3 PNGs of 20 x 28 (some 28 x 20), class_1 with nested folders
    named so that Keras' order (folder by folder) differs from a sort of the full paths."""
    root = str(tmp_path_factory.mktemp("png"))
    write_images(root, (9, 5, 3), size=(20, 28), fmt="png")
    write_images(os.path.join(root, "class_1", "00"), (2,), size=(28, 20), fmt="png", seed=1)  # class_1/00/class_0/
    write_images(os.path.join(root, "class_1"), (1,), size=(20, 28), fmt="png", seed=2)  # class_1/class_0/
    return root


@pytest.fixture(scope="module")
def two_classes(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("binary"))
    write_images(root, (6, 3), size=(20, 28), fmt="png")
    return root


def test_file_split_equals_keras_for_every_seed_and_split(png_folder):
    for seed, split in [(0, 0.2), (1, 0.5), (7, 0.3), (123, 0.25)]:
        k_train, k_val = keras_both(png_folder, seed=seed, validation_split=split)
        train, val = from_directory(png_folder, seed=seed, validation_split=split, subset="both",
                                    image_size=SIZE, batch_size=4, decode_cache=0, **quiet())
        assert train.file_paths == k_train.file_paths and val.file_paths == k_val.file_paths
        assert train.class_names == val.class_names == k_train.class_names
        assert np.array_equal(collect(k_val)[1], val.labels)
    assert np.array_equal(collect(val)[1], val.labels)
    for part, keras_part in (("training", k_train), ("validation", k_val)):
        alone = from_directory(png_folder, seed=123, validation_split=0.25, subset=part, image_size=SIZE,
                               decode_cache=0, **quiet())
        assert alone.file_paths == keras_part.file_paths
    # Without a split, file_paths is the whole shuffled list, as Keras has it.
    k_all = keras.utils.image_dataset_from_directory(png_folder, seed=5, image_size=SIZE, verbose=False)
    assert from_directory(png_folder, seed=5, image_size=SIZE, **quiet()).file_paths == k_all.file_paths


def test_seed_none_is_seed_zero(png_folder):
    ds = from_directory(png_folder, validation_split=0.2, subset="validation", image_size=SIZE, **quiet())
    _, k_val = keras_both(png_folder, seed=0, validation_split=0.2)
    assert ds.seed == 0 and ds.file_paths == k_val.file_paths


def test_class_names_and_labels_lists_as_keras(png_folder):
    chosen = ["class_2", "class_0"]
    _, k_val = keras_both(png_folder, seed=3, validation_split=0.25, class_names=chosen)
    train, val = from_directory(png_folder, seed=3, validation_split=0.25, subset="both", class_names=chosen,
                                image_size=SIZE, batch_size=4, **quiet())
    assert train.class_names == chosen and val.file_paths == k_val.file_paths
    assert np.array_equal(val.labels, collect(k_val)[1])

    count = len(keras_by_path(png_folder))
    given = [k % 2 for k in range(count)]  # one label per file, in Keras' order
    # A copy: Keras shuffles the list it is given in place.
    k_train, k_val = keras_both(png_folder, seed=4, validation_split=0.3, labels=list(given))
    train, val = from_directory(png_folder, labels=given, seed=4, validation_split=0.3, subset="both",
                                image_size=SIZE, batch_size=4, **quiet())
    assert train.class_names == k_train.class_names == ["0", "1"]
    assert train.file_paths == k_train.file_paths and val.file_paths == k_val.file_paths
    assert np.array_equal(val.labels, collect(k_val)[1])
    with pytest.raises(ValueError, match="one label per file"):
        from_directory(png_folder, labels=given[:-1], image_size=SIZE, **quiet())
    with pytest.raises(ValueError, match="class_names goes with labels='inferred'"):
        from_directory(png_folder, labels=given, class_names=["a"], **quiet())
    with pytest.raises(ValueError, match="sub-folders"):
        from_directory(png_folder, class_names=["class_0", "nowhere"], **quiet())


def test_follow_links_as_keras(tmp_path, png_folder):
    root = tmp_path / "linked"
    write_images(str(root), (3, 2), size=(20, 28), fmt="png")
    try:
        os.symlink(os.path.join(png_folder, "class_2"), root / "class_0" / "elsewhere")
    except OSError:
        pytest.skip("no symbolic links here")
    for follow in (False, True):
        k_all = keras.utils.image_dataset_from_directory(str(root), seed=1, follow_links=follow, verbose=False)
        ds = from_directory(str(root), seed=1, follow_links=follow, image_size=SIZE, batch_size=4, **quiet())
        assert ds.file_paths == k_all.file_paths


@pytest.mark.parametrize(
    "options",
    [{}, {"color_mode": "grayscale"}, {"color_mode": "rgba"}, {"crop_to_aspect_ratio": True},
     {"pad_to_aspect_ratio": True}, {"interpolation": "area"}, {"interpolation": "bicubic"},
     {"interpolation": "nearest", "color_mode": "grayscale", "crop_to_aspect_ratio": True}],
    ids=["rgb", "grayscale", "rgba", "crop", "pad", "area", "bicubic", "nearest-grey-crop"],
)
def test_validation_batches_equal_keras_on_png(png_folder, options):
    """PNG decodes identically; the one difference is rounding to integers (at most 0.5), and the
    cubic kernels' overshoot past [0, 255], which is clipped."""
    _, k_val = keras_both(png_folder, seed=2, validation_split=0.5, **options)
    val = from_directory(png_folder, seed=2, validation_split=0.5, subset="validation", image_size=SIZE,
                         batch_size=4, **quiet(**options))
    assert len(val) == len(k_val) == math.ceil(len(val.file_paths) / 4)  # the last batch partial, as Keras
    images, labels = collect(val)
    k_images, k_labels = collect(k_val)
    assert images.dtype == np.float32 and images.shape == k_images.shape
    assert np.array_equal(labels, k_labels)
    assert np.max(np.abs(images - np.clip(k_images.astype(np.float32), 0, 255))) <= ROUNDING
    assert np.array_equal(images, collect(val)[0])  # deterministic: the next pass is the same


def test_training_images_equal_keras_file_by_file(png_folder):
    """The balanced path (sampler, decode bank, reading) with augmentation off: every image drawn
    is Keras' image of that file."""
    for options in ({}, {"color_mode": "grayscale", "crop_to_aspect_ratio": True}):
        reference = keras_by_path(png_folder, **options)
        train = from_directory(png_folder, seed=2, validation_split=0.25, subset="training", image_size=SIZE,
                               batch_size=6, augment="none", with_indices=True, **quiet(**options))
        assert train.report.bank_images > 0  # the oversampled classes come from the bank
        images, labels, indices = collect(train)
        for image, label, index in zip(images, labels, indices):
            expected, expected_label = reference[train.file_paths[index]]
            assert label == expected_label == train.labels[index]
            assert np.max(np.abs(image - expected)) <= ROUNDING


def test_jpeg_pixels_against_keras(tmp_path):
    """JPEGs smaller than twice the target decode exactly as Keras' (same decoder, same DCT), so
    only rounding differs. Larger ones take the DCT-scaled fast path by default: a smoother
    picture, not Keras' pixels; fast_jpeg=False gives Keras' pixels."""
    small, large = str(tmp_path / "small"), str(tmp_path / "large")
    write_images(small, (4, 3), size=(20, 28))
    write_images(large, (4, 3), size=(64, 72))
    for root, fast, tolerance in [(small, True, ROUNDING), (large, False, ROUNDING)]:
        _, k_val = keras_both(root, seed=1, validation_split=0.5)
        val = from_directory(root, seed=1, validation_split=0.5, subset="validation", image_size=SIZE,
                             batch_size=4, fast_jpeg=fast, **quiet())
        assert np.max(np.abs(collect(val)[0] - collect(k_val)[0])) <= tolerance
    _, k_val = keras_both(large, seed=1, validation_split=0.5)
    val = from_directory(large, seed=1, validation_split=0.5, subset="validation", image_size=SIZE, batch_size=4,
                         **quiet())
    difference = np.abs(collect(val)[0] - collect(k_val)[0])
    # Decoded at 1/4 scale: the same picture, resampled differently (smooth test images: a few levels).
    assert difference.max() > ROUNDING and difference.mean() < 6.0


def test_label_modes_as_keras(png_folder, two_classes):
    for mode in ("categorical", None):
        _, k_val = keras_both(png_folder, seed=1, validation_split=0.5, label_mode=mode)
        train, val = from_directory(png_folder, seed=1, validation_split=0.5, subset="both", label_mode=mode,
                                    image_size=SIZE, batch_size=4, decode_cache=0, **quiet())
        if mode is None:
            assert isinstance(train.element_spec, tf.TensorSpec) and isinstance(val.element_spec, tf.TensorSpec)
            assert np.max(np.abs(collect(val) - collect(k_val))) <= ROUNDING
        else:
            assert train.element_spec[1] == tf.TensorSpec([4, 3], tf.float32)
            assert val.element_spec[1] == k_val.element_spec[1]
            assert np.array_equal(collect(val)[1], collect(k_val)[1])
            assert np.all(next(iter(train))[1].numpy().sum(axis=1) == 1)
    _, k_val = keras_both(two_classes, seed=1, validation_split=0.5, label_mode="binary")
    train, val = from_directory(two_classes, seed=1, validation_split=0.5, subset="both", label_mode="binary",
                                image_size=SIZE, batch_size=4, decode_cache=0, **quiet())
    assert train.element_spec[1] == tf.TensorSpec([4, 1], tf.float32)
    assert val.element_spec[1] == k_val.element_spec[1]
    assert np.array_equal(collect(val)[1], collect(k_val)[1])
    with pytest.raises(ValueError, match="exactly 2 classes"):
        from_directory(png_folder, label_mode="binary", **quiet())
    with pytest.raises(ValueError, match="label_mode must be one of"):
        from_directory(png_folder, label_mode="sparse", **quiet())


def test_shuffle_false_reads_every_file_in_order_as_keras(png_folder):
    k_ds = keras.utils.image_dataset_from_directory(png_folder, shuffle=False, image_size=SIZE, batch_size=4,
                                                    verbose=False)
    ds = from_directory(png_folder, shuffle=False, image_size=SIZE, batch_size=4, augment="all", **quiet())
    assert ds.file_paths == k_ds.file_paths and len(ds) == len(k_ds)
    images, labels = collect(ds)
    k_images, k_labels = collect(k_ds)
    assert np.array_equal(labels, k_labels) and np.max(np.abs(images - k_images)) <= ROUNDING  # not augmented


def test_validation_is_unaugmented_and_balanced_training_uses_training_files_only(png_folder):
    train, val = from_directory(png_folder, seed=6, validation_split=0.3, subset="both", image_size=SIZE,
                                batch_size=6, augment="all", with_indices=True, **quiet())
    plain = from_directory(png_folder, seed=6, validation_split=0.3, subset="validation", image_size=SIZE,
                           batch_size=6, augment="none", **quiet())
    assert np.array_equal(collect(val)[0], collect(plain)[0])
    assert sorted(val.file_paths) == sorted(set(val.file_paths)) and not set(val.file_paths) & set(train.file_paths)
    assert sorted(val.file_paths + train.file_paths) == sorted(keras_by_path(png_folder))
    _, labels, indices = collect(train)
    assert set(indices.tolist()) <= set(range(len(train.file_paths))) and np.array_equal(labels, train.labels[indices])
    assert all(np.bincount(row, minlength=3).tolist() == [2, 2, 2] for row in labels.reshape(-1, 6))
    for ds in (train, val):
        assert ds.class_names == ["class_0", "class_1", "class_2"]
        assert isinstance(ds.file_paths, list) and ds.labels.dtype == np.int32
        folders = [os.path.relpath(path, png_folder).split(os.sep)[0] for path in ds.file_paths]
        assert [ds.class_names[c] for c in ds.labels] == folders


def test_keras_epochs_mean_keras_steps(png_folder):
    """samples_per_epoch "n": len(train) is Keras' length, whatever the target, and model.fit
    trains that many steps every epoch without running out of data; .repeat() with
    steps_per_epoch trains any number."""
    k_train, _ = keras_both(png_folder, seed=1, validation_split=0.25, batch_size=4)
    train, val = from_directory(png_folder, seed=1, validation_split=0.25, subset="both", image_size=SIZE,
                                batch_size=4, **quiet())
    assert len(train) == len(k_train) == math.ceil(len(train.file_paths) / 4)
    assert len(from_directory(png_folder, seed=1, validation_split=0.25, subset="training", image_size=SIZE,
                              batch_size=4, target="instance", **quiet())) == len(train)
    assert train.sampler.samples_per_epoch == len(train) * 4

    model = keras.Sequential([keras.Input((*SIZE, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    class Steps(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.per_epoch = [*getattr(self, "per_epoch", []), 0]

        def on_train_batch_end(self, batch, logs=None):
            self.per_epoch[-1] += 1

    runs = [(train, dict(epochs=3, validation_data=val), [len(train)] * 3),
            (train.repeat(), dict(epochs=2, steps_per_epoch=2), [2, 2])]
    for data, options, expected in runs:
        steps = Steps()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = model.fit(data, callbacks=[steps], verbose=0, **options)
        assert steps.per_epoch == expected
        assert not [w for w in caught if "ran out of data" in str(w.message)]
        assert len(history.history["val_loss" if "validation_data" in options else "loss"]) == len(expected)


def test_unknown_arguments_name_the_function_and_the_closest_name(png_folder):
    with pytest.raises(TypeError, match=r"^from_directory\(\) got an unexpected keyword argument 'bath_size'; "
                                        r"did you mean 'batch_size'\?$"):
        from_directory(png_folder, bath_size=8)
    with pytest.raises(TypeError, match=r"from_directory\(\) got an unexpected keyword argument 'sampels_per_epoch'; "
                                        r"did you mean 'samples_per_epoch'\?"):
        from_directory(png_folder, sampels_per_epoch="n")
    with pytest.raises(TypeError, match=r"^from_directory\(\) got an unexpected keyword argument 'zzz'$"):
        from_directory(png_folder, zzz=1)
    with pytest.raises(TypeError, match=r"^balanced_dataset\(\) got an unexpected keyword argument 'validation_split'"):
        balanced_dataset(["a.png"], [0], validation_split=0.2)
    assert "validation_split" in str(__import__("inspect").signature(from_directory))


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"labels": None}, ValueError, "label_mode=None"),
        ({"batch_size": None}, ValueError, "batch_size=None"),
        ({"data_format": "channels_first"}, ValueError, "channels_last"),
        ({"format": "grain"}, ValueError, "format must be 'tf'"),
        ({"validation_split": 0.2}, ValueError, "together"),
        ({"subset": "training"}, ValueError, "together"),
        ({"validation_split": 1.5, "subset": "training"}, ValueError, "between 0 and 1"),
        ({"validation_split": 0.2, "subset": "testing"}, ValueError, "subset must be"),
        ({"validation_split": 0.01, "subset": "training"}, ValueError, "holds out 0"),
        ({"validation_split": 0.9, "subset": "training", "seed": 0}, ValueError, "leaves no training file of class"),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, ValueError, "not both"),
        ({"interpolation": "cubic"}, ValueError, "interpolation must be one of"),
        ({"color_mode": "rgbx"}, ValueError, "color_mode must be one of"),
        ({"image_size": (16, 0)}, ValueError, "image_size"),
    ],
)
def test_keras_arguments_it_cannot_honour_fail_clearly(png_folder, options, error, match):
    with pytest.raises(error, match=match):
        from_directory(png_folder, **quiet(**options))


def test_verbose_prints_what_keras_prints(png_folder, capsys):
    from_directory(png_folder, seed=1, validation_split=0.25, subset="both", image_size=SIZE, progress=False)
    assert capsys.readouterr().out.splitlines() == [
        "Found 20 files belonging to 3 classes.", "Using 15 files for training.", "Using 5 files for validation."]


def encoded(image: np.ndarray, kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, kind)
    return buffer.getvalue()


def test_channels_keras_cannot_decode_are_converted(tmp_path):
    """JPEG and GIF as RGBA get an opaque alpha channel; BMP and GIF as grey, the grey of their RGB."""
    pixels = (np.random.default_rng(0).random((20, 28, 3)) * 255).astype(np.uint8)
    for kind, suffix in [("JPEG", "jpg"), ("GIF", "gif"), ("BMP", "bmp")]:
        path = str(tmp_path / f"image.{suffix}")
        with open(path, "wb") as file:
            file.write(encoded(pixels, kind))
        rgb = load_image(tf.constant(path), (20, 28)).numpy()
        rgba = load_image(tf.constant(path), (20, 28), color_mode="rgba").numpy()
        assert np.array_equal(rgba[..., :3], rgb) and np.all(rgba[..., 3] == 255)
        if kind != "JPEG":
            grey = load_image(tf.constant(path), (20, 28), color_mode="grayscale").numpy()
            assert grey.shape == (20, 28, 1)
            assert np.max(np.abs(grey.astype(int) - tf.image.rgb_to_grayscale(rgb).numpy().astype(int))) <= 1


@pytest.mark.parametrize("channels", [1, 4])
def test_augmentation_of_grey_and_rgba_leaves_alpha_alone(channels):
    images = tf.random.stateless_uniform([4, 16, 16, channels], seed=[1, 2])
    mask = tf.constant([True, True, False, True])
    out = augment_batch(images, mask, tf.constant([3, 4], tf.int64), crop=False, flip=False).numpy()
    assert out.shape == (4, 16, 16, channels)
    assert np.array_equal(out[2], images.numpy()[2])
    changed = out[mask.numpy()][..., :3] != images.numpy()[mask.numpy()][..., :3]
    assert changed.any()
    if channels == 4:
        assert np.array_equal(out[..., 3], images.numpy()[..., 3])  # colour changes never touch alpha
    flipped = augment_batch(images, mask, tf.constant([3, 4], tf.int64), brightness=0, contrast=0, saturation=0,
                            crop=False).numpy()
    mirrored = [np.array_equal(flipped[k], images.numpy()[k, :, ::-1]) for k in range(4)]
    assert all(np.array_equal(flipped[k], images.numpy()[k]) or mirrored[k] for k in range(4))


def test_grey_and_rgba_training_batches_flow_through_augmentation(png_folder):
    for mode, channels in (("grayscale", 1), ("rgba", 4)):
        ds = from_directory(png_folder, color_mode=mode, image_size=SIZE, batch_size=6, augment="all", **quiet())
        images, _ = next(iter(ds))
        assert images.shape == (6, *SIZE, channels)
        if channels == 4:  # opaque PNGs: crop and flip keep alpha at 255; colour changes leave it
            assert np.allclose(images.numpy()[..., 3], 255.0, atol=1e-3)
