"""Targets that change over epochs: the published sampling schedules for long-tailed data.

A *schedule* is any function of the epoch that returns a target (``"balanced"``, ``"instance"``,
a power q, per-class weights, or a `Blend`); a sampler given one samples epoch e from
``schedule(e)``. Kang et al. (ICLR 2020, "Decoupling Representation and Classifier for
Long-Tailed Recognition") write the class probabilities as p_j = n_j^q / sum_i n_i^q: q = 1 is
instance-balanced (the data's own distribution), q = 0 class-balanced, q = 1/2 square-root.

- `ProgressivelyBalanced`: p(t) = (1 - t/T) p^start + (t/T) p^end, from one target to another
  over T epochs (Kang et al.: instance to class-balanced).
- `TwoStage`: one target until an epoch, another after (the sampling half of classifier
  re-training, cRT: instance-balanced for the representation, then class-balanced).
- `PowerSchedule`: q(t) = lambda^t (catalyst's ``DynamicBalanceClassSampler``), from
  instance-balanced at t = 0 towards class-balanced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._checks import INT64_LIMIT, check_int, finite_float
from .weights import Blend, Target

#: A target as a function of the epoch.
Schedule = Callable[[int], Target]


@dataclass(frozen=True)
class ProgressivelyBalanced:
    """Kang et al.'s progressively-balanced sampling: ``start`` to ``end`` linearly over ``epochs``.

    Epoch t samples ``Blend(start, end, min(t / epochs, 1))``: ``start`` at epoch 0, ``end``
    from epoch ``epochs`` on.

    Examples
    --------
    >>> schedule = ProgressivelyBalanced(epochs=4)
    >>> schedule(0), schedule(2).fraction, schedule(9).fraction
    (Blend(start='instance', end='balanced', fraction=0.0), 0.5, 1.0)
    """

    epochs: int
    start: Target = "instance"
    end: Target = "balanced"

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, minimum=1)

    def __call__(self, epoch: int) -> Target:
        epoch = check_int("epoch", epoch, minimum=0, maximum=INT64_LIMIT - 1)
        return Blend(self.start, self.end, min(epoch / self.epochs, 1.0))


@dataclass(frozen=True)
class TwoStage:
    """``first`` for epochs ``0 .. switch - 1``, ``then`` from epoch ``switch`` on.

    Examples
    --------
    >>> schedule = TwoStage("instance", "balanced", switch=10)
    >>> schedule(9), schedule(10)
    ('instance', 'balanced')
    """

    first: Target
    then: Target
    switch: int

    def __post_init__(self) -> None:
        check_int("switch", self.switch, minimum=0)

    def __call__(self, epoch: int) -> Target:
        epoch = check_int("epoch", epoch, minimum=0, maximum=INT64_LIMIT - 1)
        return self.first if epoch < self.switch else self.then


@dataclass(frozen=True)
class PowerSchedule:
    """Class probabilities proportional to n_c^(lambda^t) at epoch t.

    ``lam`` in (0, 1]: t = 0 is instance-balanced (q = 1), and q falls towards 0 (class-balanced)
    as t grows; ``lam = 1`` stays instance-balanced.

    Examples
    --------
    >>> schedule = PowerSchedule(0.5)
    >>> schedule(0), schedule(1), schedule(3)
    (1.0, 0.5, 0.125)
    """

    lam: float

    def __post_init__(self) -> None:
        lam = finite_float(self.lam)
        if lam is None or not 0.0 < lam <= 1.0:
            raise ValueError(f"PowerSchedule: lam must be a number in (0, 1], got {self.lam!r}")

    def __call__(self, epoch: int) -> Target:
        epoch = check_int("epoch", epoch, minimum=0, maximum=INT64_LIMIT - 1)
        return float(self.lam) ** epoch


__all__ = ["Blend", "PowerSchedule", "ProgressivelyBalanced", "Schedule", "TwoStage"]
