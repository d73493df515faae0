"""balanced_dataset with label sets: repeat factor sampling and multi-hot labels."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

import fast_balance
from fast_balance.tf import balanced_dataset

THRESHOLD = 0.5  # large enough for 36 images to have rare classes: r(c) = sqrt(0.5 / f(c))


def label_sets_of(n):
    """Class 0 everywhere; class 1 in every sixth image; class 2, rare, in the last two."""
    sets = [[0] for _ in range(n)]
    for i in range(0, n, 6):
        sets[i].append(1)
    sets[-1].append(2)
    sets[-2] = [2]
    return sets


def drawn(ds, passes=1):
    images, labels, indices = [], [], []
    for _ in range(passes):
        for x, y, i in ds:
            images.append(x.numpy())
            labels.append(y.numpy())
            indices.append(i.numpy())
    return np.concatenate(images), np.concatenate(labels), np.concatenate(indices)


def make(paths, labels, **options):
    defaults = dict(image_size=(16, 16), batch_size=8, label_mode="multi_hot", repeat_threshold=THRESHOLD,
                    progress=False, with_indices=True)
    return balanced_dataset(paths, labels, **{**defaults, **options})


@pytest.mark.parametrize("form", ["lists", "dense", "sparse", "label_sets"])
def test_labels_are_the_multi_hot_rows_of_the_indices_emitted(image_folder, form):
    _, paths, _ = image_folder
    sets = fast_balance.as_label_sets(label_sets_of(len(paths)))
    given = {"lists": label_sets_of(len(paths)), "dense": sets.multi_hot(np.int8),
             "sparse": scipy.sparse.csr_matrix(sets.multi_hot()), "label_sets": sets}[form]
    ds = make(paths, given, decode_cache=0)
    assert isinstance(ds.sampler, fast_balance.WeightedIndexSampler)
    _, labels, indices = drawn(ds)
    assert labels.dtype == np.float32 and labels.shape == (len(ds.sampler), 3)
    np.testing.assert_array_equal(labels, sets.multi_hot()[indices])


def test_rare_class_images_appear_more_often_each_floor_or_ceil_of_its_factor(image_folder):
    _, paths, _ = image_folder
    sets = label_sets_of(len(paths))
    factors = fast_balance.repeat_factors(sets, THRESHOLD)
    ds = make(paths, sets)  # with the decode bank: the repeated images come from it
    assert ds.report.bank_images > 0
    assert np.floor(factors).sum() <= ds.sampler.samples_per_epoch <= factors.sum()
    assert ds.sampler.samples_per_epoch % 8 == 0
    for epoch in range(2):
        _, labels, indices = drawn(ds)
        counts = np.bincount(indices, minlength=len(paths))
        expected = ds.sampler.expected_counts
        assert np.all((counts == np.floor(expected)) | (counts == np.ceil(expected))), epoch
        assert np.all((counts >= np.floor(factors)) & (counts <= np.ceil(factors))), epoch
        rare = np.flatnonzero(labels[:, 2] == 1)
        assert counts[-2:].min() > counts[1:-2].max()  # r = sqrt(0.5 / (2/36)) = 3 against at most sqrt(3)
        assert rare.size >= 2 * 2


def test_images_repeated_in_an_epoch_are_the_ones_augmented(image_folder):
    _, paths, _ = image_folder
    sets = label_sets_of(len(paths))
    plain, _, plain_indices = drawn(make(paths, sets, augment="none", decode_cache=0))
    augmented, _, indices = drawn(make(paths, sets, decode_cache=0))
    np.testing.assert_array_equal(indices, plain_indices)
    repeats = fast_balance.repeat_factor_sampler(sets, THRESHOLD, batch_size=8).epoch(0).repeats
    first = repeats == 0
    np.testing.assert_array_equal(augmented[first], plain[first])
    assert np.any(augmented[~first] != plain[~first])


def test_errors_name_what_is_wrong(image_folder):
    _, paths, labels = image_folder
    sets = label_sets_of(len(paths))
    with pytest.raises(ValueError, match='label_mode="multi_hot", got label_mode=\'int\''):
        balanced_dataset(paths, sets, progress=False)
    with pytest.raises(ValueError, match="needs label sets"):
        balanced_dataset(paths, labels, label_mode="multi_hot", progress=False)
    with pytest.raises(ValueError, match="not a target"):
        make(paths, sets, target="sqrt")
    with pytest.raises(ValueError, match=r"repeat_threshold must be in \(0, 1\]"):
        make(paths, sets, repeat_threshold=0)
    with pytest.raises(ValueError, match="36 paths, 35 label sets"):
        make(paths, sets[:-1])
    with pytest.raises(ValueError, match=r"labels: class ids must be < num_classes \(2\), got 2"):
        make(paths, sets, num_classes=2)
    with pytest.raises(ValueError, match="samples_per_epoch"):
        make(paths, sets, samples_per_epoch="min")
    with pytest.raises(TypeError, match="WeightedIndexSampler"):
        make(paths, sets, sampler=fast_balance.BalancedIndexSampler(labels, batch_size=8))
