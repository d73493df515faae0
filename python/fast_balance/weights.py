"""Target class distributions and loss class weights.

`target_weights` turns a user's ``target`` into exact integer weights for the core;
`class_weights` gives per-class loss weights for Keras ``model.fit(class_weight=...)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Mapping, Sequence, Union

import numpy as np

Target = Union[str, float, Sequence[float], np.ndarray, Mapping[int, float]]

TARGET_NAMES = ("balanced", "instance")

# Float weights are scaled so the largest becomes 2**40: ample resolution, and the core's
# 128-bit arithmetic keeps samples_per_epoch * weight exact.
_FLOAT_WEIGHT_SCALE = 2.0**40


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_weight_values(weights: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(weights)):
        bad = np.flatnonzero(~np.isfinite(weights))
        raise ValueError(f"{what}: weights must be finite; classes {bad.tolist()[:10]} are {weights[bad][:10].tolist()}")
    if np.any(weights < 0):
        bad = np.flatnonzero(weights < 0)
        raise ValueError(f"{what}: weights must be >= 0; classes {bad.tolist()[:10]} are negative")
    if not np.any(weights > 0):
        raise ValueError(f"{what}: weights are all zero")


def _explicit_weights(target: object, num_classes: int) -> np.ndarray:
    if isinstance(target, Mapping):
        weights = np.zeros(num_classes, dtype=np.float64)
        for key, value in target.items():
            if not isinstance(key, (numbers.Integral, np.integer)) or isinstance(key, (bool, np.bool_)):
                raise TypeError(f"target: dict keys must be class integers, got {key!r}")
            if not 0 <= int(key) < num_classes:
                raise ValueError(f"target: class {key} is outside [0, {num_classes})")
            if not _is_number(value):
                raise TypeError(f"target: weight of class {key} must be a number, got {value!r}")
            weights[int(key)] = float(value)
        return weights
    try:
        weights = np.asarray(target, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"target: cannot read {type(target).__name__} as per-class weights") from error
    if weights.ndim != 1:
        raise ValueError(f"target: per-class weights must be 1-D, got shape {weights.shape}")
    if weights.shape[0] != num_classes:
        raise ValueError(f"target: got {weights.shape[0]} weights for {num_classes} classes")
    return weights


def target_probabilities(target: Target, class_counts: np.ndarray) -> np.ndarray:
    """Per-class weights (not normalised, float64) that a ``target`` asks for.

    ``"balanced"``: 1 for every class. ``"instance"``: the class counts. A number q: counts**q
    (empty classes get 0 when q > 0). A sequence, array or dict {class: weight}: those weights
    (classes missing from a dict get 0).
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    num_classes = counts.shape[0]
    if isinstance(target, str):
        if target == "balanced":
            return np.ones(num_classes)
        if target == "instance":
            return counts.copy()
        raise ValueError(f"target: unknown name {target!r}; use one of {TARGET_NAMES}, a power, or per-class weights")
    if _is_number(target):
        power = float(target)
        if not math.isfinite(power):
            raise ValueError(f"target: power must be finite, got {power}")
        weights = np.zeros(num_classes)
        present = counts > 0
        weights[present] = counts[present] ** power
        if power <= 0:
            weights[~present] = np.inf  # an empty class is asked for; reported by the caller
        return weights
    if isinstance(target, (bool, np.bool_)):
        raise TypeError("target: a bool is not a target")
    weights = _explicit_weights(target, num_classes)
    _check_weight_values(weights, "target")
    return weights


def target_weights(target: Target, class_counts: np.ndarray) -> np.ndarray:
    """Exact integer weights (uint64) for the core, checked against the class counts.

    Raises ValueError naming the classes that the target asks for but that have no samples.
    """
    weights = target_probabilities(target, class_counts)
    counts = np.asarray(class_counts)
    wanted_empty = np.flatnonzero((weights > 0) & (counts == 0))
    if wanted_empty.size:
        listed = ", ".join(map(str, wanted_empty[:20].tolist())) + (" ..." if wanted_empty.size > 20 else "")
        raise ValueError(
            f"target {target!r} asks for {wanted_empty.size} classes with no samples: {listed}. "
            "Pass num_classes matching the labels, or give those classes weight 0."
        )
    _check_weight_values(weights, "target")
    if np.all(weights == np.round(weights)) and weights.max() <= 2.0**53:
        return weights.astype(np.uint64)
    scaled = np.round(weights / weights.max() * _FLOAT_WEIGHT_SCALE)
    scaled[(weights > 0) & (scaled == 0)] = 1  # keep tiny positive weights positive
    return scaled.astype(np.uint64)


def class_weights(labels, mode: str = "balanced", beta: float = 0.999, num_classes: int | None = None) -> dict:
    """Per-class loss weights, for ``keras.Model.fit(class_weight=...)``.

    Parameters
    ----------
    labels : array_like of int
        Class of every sample.
    mode : {"balanced", "effective_number"}
        ``"balanced"``: ``n_samples / (n_classes * count_c)``, as scikit-learn's
        ``compute_class_weight("balanced")``. ``"effective_number"``: ``(1 - beta) / (1 - beta**count_c)``
        (Cui et al., 2019), scaled so the weights average 1.
    beta : float
        For ``"effective_number"``; in [0, 1).
    num_classes : int, optional
        Only classes that occur get a weight; this just checks that labels are below it.

    Returns
    -------
    dict
        ``{class: weight}`` for every class present in ``labels``.

    Notes
    -----
    These weights correct the loss for imbalance. A ``BalancedIndexSampler`` with
    ``target="balanced"`` already corrects the input; using both corrects twice and
    over-weights rare classes. Use one or the other (or a partial target such as ``0.5``
    with mild weights).

    Examples
    --------
    >>> fast_balance.class_weights([0, 0, 0, 1])
    {0: 0.666..., 1: 2.0}
    """
    from .sampler import normalize_labels  # one place checks labels

    values, inferred = normalize_labels(labels)
    if num_classes is not None and int(values.max()) >= num_classes:
        raise ValueError(f"labels: {int(values.max())} is >= num_classes ({num_classes})")
    counts = np.bincount(values.astype(np.int64, copy=False), minlength=inferred)
    present = np.flatnonzero(counts)
    if mode == "balanced":
        weights = values.size / (present.size * counts[present])
    elif mode == "effective_number":
        if not (_is_number(beta) and 0.0 <= float(beta) < 1.0):
            raise ValueError(f"beta must be in [0, 1), got {beta!r}")
        effective = (1.0 - np.power(float(beta), counts[present])) / (1.0 - float(beta))
        weights = 1.0 / effective
        weights *= present.size / weights.sum()
    else:
        raise ValueError(f"mode must be 'balanced' or 'effective_number', got {mode!r}")
    return {int(c): float(w) for c, w in zip(present, weights)}
