"""Multi-label input and LVIS repeat factors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse

import fast_balance
from fast_balance import as_label_sets, class_frequencies, repeat_factors


def lvis_factors(sets: list[list[int]], threshold: float) -> list[float]:
    """The formula, written out as the LVIS paper states it, one image and one class at a time."""
    images_with = {}
    for classes in sets:
        for c in set(classes):
            images_with[c] = images_with.get(c, 0) + 1
    per_class = {c: max(1.0, math.sqrt(threshold / (n / len(sets)))) for c, n in images_with.items()}
    return [max((per_class[c] for c in set(classes)), default=1.0) for classes in sets]


def long_tailed_sets(num_images: int, num_classes: int, seed: int) -> list[list[int]]:
    """1-10 labels per image, class c drawn with probability ~ 1 / (c + 1)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, num_classes + 1)
    p /= p.sum()
    return [rng.choice(num_classes, size=rng.integers(1, 11), p=p).tolist() for _ in range(num_images)]


def test_repeat_factors_equal_the_formula_on_hand_made_sets():
    # 10 images: class 0 everywhere, class 1 in 2 images, class 2 in 1, class 3 in none.
    sets = [[0]] * 7 + [[0, 1], [1, 0, 1], [2]]
    t = 0.4
    got = repeat_factors(sets, threshold=t, num_classes=4)
    expected = [1.0] * 7 + [math.sqrt(0.4 / 0.2)] * 2 + [math.sqrt(0.4 / 0.1)]
    assert got.tolist() == pytest.approx(expected, rel=1e-15)
    assert got.tolist() == pytest.approx(lvis_factors(sets, t), rel=1e-15)


@pytest.mark.parametrize("threshold", [1e-3, 0.01, 0.3, 1.0])
def test_repeat_factors_equal_the_formula_on_a_long_tailed_set(threshold):
    sets = long_tailed_sets(2000, 300, seed=4)
    got = repeat_factors(sets, threshold=threshold)
    assert got.tolist() == pytest.approx(lvis_factors(sets, threshold), rel=1e-12)
    assert got.min() >= 1.0


def test_empty_sets_are_not_repeated_and_unseen_classes_are_ignored():
    got = repeat_factors([[], [5], [], [5, 0]], threshold=1.0, num_classes=8)
    # f(5) = 1/2, f(0) = 1/4: sqrt(2) and 2; classes 1-4, 6, 7 are in no image.
    assert got.tolist() == pytest.approx([1.0, math.sqrt(2.0), 1.0, 2.0])


def test_every_form_gives_the_same_sets():
    sets = [[3, 1], [], [0, 3, 3], [2]]
    dense = np.zeros((4, 5), dtype=bool)
    for i, row in enumerate(sets):
        dense[i, row] = True
    indptr = np.array([0, 2, 2, 5, 6])
    indices = np.array([3, 1, 0, 3, 3, 2])
    forms = [
        sets,
        [tuple(row) for row in sets],
        [np.array(row, dtype=np.uint8) for row in sets],
        (indptr, indices),
        dense,
        dense.astype(np.float32),
        scipy.sparse.csr_matrix(dense),
        scipy.sparse.coo_array(dense.astype(np.int64)),
    ]
    reference = as_label_sets(sets, num_classes=5)
    assert reference.indptr.tolist() == [0, 2, 2, 4, 5]
    assert reference.indices.tolist() == [1, 3, 0, 3, 2]
    for form in forms:
        got = as_label_sets(form, num_classes=5)
        assert got.indptr.tolist() == reference.indptr.tolist(), type(form)
        assert got.indices.tolist() == reference.indices.tolist(), type(form)
        assert got.num_classes == 5
    assert np.array_equal(reference.multi_hot(bool), dense)
    assert reference.class_counts().tolist() == [1, 1, 1, 2, 0]


def test_class_frequencies_count_each_image_once():
    assert class_frequencies([[0, 0, 1], [0], [2, 2]]).tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])


@pytest.mark.parametrize(
    ("label_sets", "kwargs", "error", "message"),
    [
        ([[0, 1], [-1]], {}, ValueError, r"class ids must be >= 0, got -1 in the set of sample 1"),
        ([[0, 1], [7]], {"num_classes": 5}, ValueError, r"must be < num_classes \(5\), got 7 in the set of sample 1"),
        ([[0, 1.5]], {}, TypeError, r"class ids must be integers, got float 1.5 in the set of sample 0"),
        ([[0], [True]], {}, TypeError, r"got bool True in the set of sample 1"),
        ([[0], 3], {}, TypeError, r"the set of sample 1 must be a sequence of class ids, got int 3"),
        ([[0], "ab"], {}, TypeError, r"the set of sample 1 must be a sequence of class ids, got str"),
        ("abc", {}, TypeError, r"label_sets must be a sequence of per-sample class sets"),
        (np.zeros((2, 3, 4)), {}, ValueError, r"must be 2-D \[samples, classes\], got shape \(2, 3, 4\)"),
        (np.array([[0, np.nan]]), {}, ValueError, r"multi-hot entry \[0, 1\] is nan"),
        (np.array([["a"]]), {}, TypeError, r"must be numeric or bool, got dtype <U1"),
        (np.ones((2, 3)), {"num_classes": 4}, ValueError, r"matrix of 3 columns for num_classes=4"),
        ((np.array([1, 2]), np.array([0, 1])), {}, ValueError, r"indptr must start with 0"),
        ((np.array([0, 2, 1]), np.array([0])), {}, ValueError, r"indptr must not decrease, got 2 then 1"),
        ((np.array([0, 2]), np.array([0])), {}, ValueError, r"indptr ends at 2 but there are 1 indices"),
        ((np.array([0, 1]), np.array([0.5])), {}, TypeError, r"indices must hold integers, got dtype float64"),
        ([[2**40]], {}, ValueError, r"class ids must be < 2,147,483,647, got 1099511627776 in the set of sample 0"),
        ([[0]], {"num_classes": 0}, ValueError, r"num_classes must be >= 1, got 0"),
    ],
)
def test_bad_label_sets_name_the_sample_and_value(label_sets, kwargs, error, message):
    with pytest.raises(error, match=message):
        as_label_sets(label_sets, **kwargs)


@pytest.mark.parametrize("threshold", [0, -0.1, 1.5, float("nan"), float("inf"), 10**400])
def test_threshold_outside_the_unit_interval_is_refused(threshold):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\], got"):
        repeat_factors([[0], [1]], threshold=threshold)


def test_threshold_must_be_a_number():
    with pytest.raises(TypeError, match="threshold must be a number, got str '0.1'"):
        repeat_factors([[0], [1]], threshold="0.1")
    with pytest.raises(ValueError, match="no samples"):
        repeat_factors([], threshold=0.1)


def test_repeat_factor_sampler_gives_each_image_floor_or_ceil_of_its_factor_exactly():
    sets = long_tailed_sets(3000, 200, seed=8)
    factors = repeat_factors(sets, threshold=0.01)
    assert np.any(factors == 1.0) and np.any(factors > 1.5)
    for batch_size in (None, 16):
        sampler = fast_balance.repeat_factor_sampler(sets, threshold=0.01, batch_size=batch_size, seed=3)
        counts = np.stack([np.bincount(sampler.epoch(e).indices, minlength=3000) for e in range(6)])
        assert np.all(counts >= np.floor(factors)) and np.all(counts <= np.ceil(factors))
        assert np.all(counts[:, factors == 1.0] == 1)  # a factor of exactly 1: exactly once, every epoch
        assert len(sampler) % (batch_size or 1) == 0
        assert abs(len(sampler) - factors.sum()) <= (batch_size or 1)
        # The fractions move between epochs; their long-run rate follows the factors.
        fractional = factors > np.floor(factors)
        rate = counts[:, fractional].mean(axis=0)
        assert np.abs(rate - factors[fractional]).mean() < 0.35


def test_repeat_factor_weights_put_expected_counts_between_floor_and_factor():
    factors = np.array([1.0, 1.0, 2.0, 1.25, 1.5, 3.75, 1.0])
    weights, size = fast_balance.repeat_factor_weights(factors)
    expected = weights.astype(np.float64) / weights.sum() * size
    assert size == 11 and np.all(expected >= np.floor(factors)) and np.all(expected <= factors + 1e-12)
    assert expected[[0, 1, 2, 6]].tolist() == [1.0, 1.0, 2.0, 1.0]
    with pytest.raises(ValueError, match="finite counts >= 0"):
        fast_balance.repeat_factor_weights([1.0, np.nan])
    with pytest.raises(TypeError, match="sets samples_per_epoch itself"):
        fast_balance.repeat_factor_sampler([[0], [1]], samples_per_epoch=5)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"num_shards": None}, TypeError, "num_shards must be an integer, got NoneType None"),
        ({"batch_size": np.array([1, 2])}, TypeError, "batch_size must be an integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
        ({"num_shards": 2, "shard_index": 2}, ValueError, r"shard_index must be < num_shards \(2\), got 2"),
    ],
)
def test_repeat_factor_sampler_checks_its_layout_before_using_it(options, error, message):
    # batch_size * num_shards was computed first: None or an array failed inside the arithmetic.
    with pytest.raises(error, match=message):
        fast_balance.repeat_factor_sampler([[0], [1]], 0.5, **options)


def test_whole_batches_can_add_a_draw_beyond_ceil_of_the_factor():
    # The documented exception: one image of factor 1 in batches of 3 is an epoch of 3 draws.
    sampler = fast_balance.repeat_factor_sampler([[]], 1.0, batch_size=3, seed=0)
    assert len(sampler) == 3 and np.bincount(sampler.epoch(0).indices).tolist() == [3]
    # Where a multiple of the batch lies between sum floor(r) and sum r, each stays floor or ceil.
    sets = [[0]] * 8 + [[1]] * 2
    factors = repeat_factors(sets, 0.5)
    counts = np.bincount(fast_balance.repeat_factor_sampler(sets, 0.5, batch_size=2, seed=1).epoch(0).indices)
    assert np.all((np.floor(factors) <= counts) & (counts <= np.ceil(factors)))

