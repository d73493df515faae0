"""Target class distributions and loss class weights.

`target_weights` turns a user's ``target`` into exact integer weights for the core;
`class_weights` gives per-class loss weights for Keras ``model.fit(class_weight=...)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from ._checks import check_choice, check_int, finite_float, is_number

Target = Union[str, float, Sequence[float], np.ndarray, Mapping[int, float], "Blend"]

TARGET_NAMES = ("balanced", "instance")
CLASS_WEIGHT_MODES = ("balanced", "effective_number")


@dataclass(frozen=True)
class Blend:
    """The target ``(1 - fraction) * p^start + fraction * p^end``, a mixture of two distributions.

    Each of ``start`` and ``end`` is any target; each is normalised to a distribution over the
    classes first, then they are mixed.

    Examples
    --------
    >>> labels = np.repeat([0, 1], [90, 10])
    >>> blend = fast_balance.schedules.Blend("instance", "balanced", 0.5)
    >>> s = fast_balance.BalancedIndexSampler(labels, target=blend)
    >>> s.class_probabilities.round(9).tolist()   # halfway between [0.9, 0.1] and [0.5, 0.5]
    [0.7, 0.3]
    """

    start: Target
    end: Target
    fraction: float

    def __post_init__(self) -> None:
        if isinstance(self.start, Blend) or isinstance(self.end, Blend):
            raise TypeError("Blend: start and end must be plain targets, not Blends")
        fraction = finite_float(self.fraction)
        if fraction is None or not 0.0 <= fraction <= 1.0:
            raise ValueError(f"Blend: fraction must be a number in [0, 1], got {self.fraction!r}")


# Float weights are scaled so the largest becomes 2**40: ample resolution, and the core's
# 128-bit arithmetic keeps samples_per_epoch * weight exact.
_FLOAT_WEIGHT_SCALE = 2.0**40


def check_weights(weights: np.ndarray, what: str, classes: np.ndarray | None = None) -> None:
    named = (lambda where: classes[where]) if classes is not None else (lambda where: where)
    if not np.all(np.isfinite(weights)):
        bad = np.flatnonzero(~np.isfinite(weights))
        raise ValueError(
            f"{what}: weights must be finite; classes {named(bad).tolist()[:10]} are {weights[bad][:10].tolist()}"
        )
    if np.any(weights < 0):
        bad = np.flatnonzero(weights < 0)
        raise ValueError(f"{what}: weights must be >= 0; classes {named(bad).tolist()[:10]} are negative")
    if not np.any(weights > 0):
        raise ValueError(f"{what}: weights are all zero")


def _first_absent(classes: np.ndarray, num_classes: int, limit: int) -> list[int]:
    """The first ``limit`` class ids in [0, num_classes) that are not in the sorted ``classes``."""
    absent: list[int] = []
    candidate = 0
    for present in [*classes.tolist(), num_classes]:
        while candidate < present and len(absent) < limit:
            absent.append(candidate)
            candidate += 1
        if len(absent) >= limit:
            break
        candidate = present + 1
    return absent


def _asks_for_absent(target: object, count: int, listed: list[int]) -> ValueError:
    shown = ", ".join(map(str, listed)) + (" ..." if count > len(listed) else "")
    return ValueError(
        f"target {target!r} asks for {count:,} classes with no samples: {shown}. "
        "Pass num_classes matching the labels, or give those classes weight 0."
    )


def _as_float(value: object, what: str) -> float:
    """``value`` as a float, or ValueError naming ``what`` when it is too large for one."""
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError as error:
        raise ValueError(f"target: {what} is too large for a float") from error


def present_class_weights(target: Target, classes: np.ndarray, counts: np.ndarray, num_classes: int) -> np.ndarray:
    """Float weights (not normalised) that ``target`` gives the classes present in the data.

    ``classes`` are the sorted ids of the classes with samples, ``counts`` their sample counts,
    ``num_classes`` the number of class ids. Raises ValueError naming the classes that the target
    asks for but that have no samples. Nothing here is of size ``num_classes`` unless the target
    itself is (a sequence of per-class weights), so a large ``num_classes`` costs no memory.

    Examples
    --------
    >>> present_class_weights("balanced", np.array([0, 1]), np.array([10, 3]), 2).tolist()
    [1.0, 1.0]
    >>> present_class_weights({2: 3.0}, np.array([0, 2]), np.array([10, 3]), 5).tolist()
    [0.0, 3.0]
    """
    classes = np.asarray(classes, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    absent = num_classes - classes.size
    if isinstance(target, Blend):
        start, end = (present_class_weights(part, classes, counts, num_classes) for part in (target.start, target.end))
        if target.fraction in (0, 1):  # exactly the end point's weights, so its stream is unchanged
            return start if target.fraction == 0 else end
        check_weights(start, "target (Blend start)", classes)
        check_weights(end, "target (Blend end)", classes)
        mixed: np.ndarray = (1 - target.fraction) * start / start.sum() + target.fraction * end / end.sum()
        return mixed
    if isinstance(target, str):
        if target not in TARGET_NAMES:
            raise ValueError(
                f"target: unknown name {target!r}; use one of {TARGET_NAMES}, a power, or per-class weights"
            )
        if target == "instance":
            return counts.copy()
        if absent:
            raise _asks_for_absent(target, absent, _first_absent(classes, num_classes, 20))
        return np.ones(classes.size)
    if isinstance(target, (bool, np.bool_)):
        raise TypeError("target: a bool is not a target")
    if is_number(target):
        power = _as_float(target, "power")
        if not math.isfinite(power):
            raise ValueError(f"target: power must be finite, got {power}")
        if power <= 0 and absent:  # count**q is infinite for an empty class
            raise _asks_for_absent(target, absent, _first_absent(classes, num_classes, 20))
        with np.errstate(over="ignore"):  # an infinite weight is refused by name below
            return counts**power
    if isinstance(target, Mapping):
        weights = np.zeros(classes.size, dtype=np.float64)
        absent_keys: list[int] = []
        entries: Iterable[tuple[Any, Any]] = target.items()  # checked one by one below
        for key, value in entries:
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, (numbers.Integral, np.integer)):
                raise TypeError(f"target: dict keys must be class integers, got {key!r}")
            if not 0 <= int(key) < num_classes:
                raise ValueError(f"target: class {key} is outside [0, {num_classes})")
            if not is_number(value):
                raise TypeError(f"target: weight of class {key} must be a number, got {value!r}")
            weight = _as_float(value, f"weight of class {key}")
            where = int(np.searchsorted(classes, int(key)))
            if where < classes.size and classes[where] == int(key):
                weights[where] = weight
            elif weight != 0.0:
                if not (math.isfinite(weight) and weight >= 0):
                    check_weights(np.array([weight]), "target", np.array([int(key)]))
                absent_keys.append(int(key))
        if absent_keys:
            raise _asks_for_absent(target, len(absent_keys), sorted(absent_keys)[:20])
        return weights
    try:
        raw = np.asarray(target)
        # Numbers only: NumPy would read "1" or True as 1.0, which a dict weight refuses.
        if raw.dtype == object and not all(map(is_number, raw.ravel())):
            raise TypeError(f"target: cannot read {type(target).__name__} as per-class weights")
        if raw.dtype.kind not in "iufO":
            raise TypeError(f"target: per-class weights must be numbers, got {raw.dtype}")
        dense = raw.astype(np.float64)
    except OverflowError as error:
        raise ValueError("target: a per-class weight is too large for a float") from error
    except (TypeError, ValueError) as error:
        if str(error).startswith("target:"):
            raise
        raise TypeError(f"target: cannot read {type(target).__name__} as per-class weights") from error
    if dense.ndim != 1:
        raise ValueError(f"target: per-class weights must be 1-D, got shape {dense.shape}")
    if dense.shape[0] != num_classes:
        raise ValueError(f"target: got {dense.shape[0]} weights for {num_classes} classes")
    check_weights(dense, "target")
    positive = np.flatnonzero(dense > 0)
    wanted_absent = positive[~np.isin(positive, classes)]
    if wanted_absent.size:
        raise _asks_for_absent(target, int(wanted_absent.size), wanted_absent[:20].tolist())
    present: np.ndarray = dense[classes]
    return present


def integer_weights(weights: np.ndarray) -> np.ndarray:
    """Exact uint64 weights for the core from float weights (already checked).

    Integral weights up to 2**53 are kept as they are; others are scaled so the largest becomes
    2**40 (ample resolution; the core's 128-bit arithmetic keeps samples_per_epoch * weight exact),
    tiny positive weights staying positive.
    """
    if np.all(weights == np.round(weights)) and weights.max() <= 2.0**53:
        scaled = weights
    else:
        scaled = np.round(weights / weights.max() * _FLOAT_WEIGHT_SCALE)
        scaled[(weights > 0) & (scaled == 0)] = 1
    exact: np.ndarray = scaled.astype(np.uint64)
    return exact


def target_weights(target: Target, class_counts: np.ndarray) -> np.ndarray:
    """Exact integer weights (uint64, one per class id) for ``target`` over ``class_counts``.

    Raises ValueError naming the classes that the target asks for but that have no samples.

    Examples
    --------
    >>> target_weights("instance", np.array([10, 3, 7])).tolist()
    [10, 3, 7]
    """
    counts = np.asarray(class_counts)
    classes = np.flatnonzero(counts > 0)
    weights = present_class_weights(target, classes, counts[classes], counts.shape[0])
    check_weights(weights, "target", classes)
    dense = np.zeros(counts.shape[0], dtype=np.uint64)
    dense[classes] = integer_weights(weights)
    return dense


def class_weights(
    labels: npt.ArrayLike, mode: str = "balanced", beta: float = 0.999, num_classes: int | None = None
) -> dict[int, float]:
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
    from .labels import normalize_labels  # one place checks labels

    if num_classes is not None:
        num_classes = check_int("num_classes", num_classes, minimum=1)
    values, inferred = normalize_labels(labels, num_classes=num_classes)
    mode = check_choice("mode", mode, CLASS_WEIGHT_MODES)
    # Counted per class present, not per id up to the largest label (one label of 10**9 would
    # cost 8 GB); densely only when the ids are about as many as the labels.
    if inferred < 2 * values.size + 1024:
        counts = np.bincount(values.astype(np.int64, copy=False), minlength=inferred)
        present = np.flatnonzero(counts)
        counts = counts[present]
    else:
        present, counts = np.unique(values, return_counts=True)
    if mode == "balanced":
        weights = values.size / (present.size * counts)
    else:
        if not (is_number(beta) and 0.0 <= float(beta) < 1.0):
            raise ValueError(f"beta must be in [0, 1), got {beta!r}")
        effective = (1.0 - np.power(float(beta), counts)) / (1.0 - float(beta))
        weights = 1.0 / effective
        weights *= present.size / weights.sum()
    return {int(c): float(w) for c, w in zip(present, weights)}
