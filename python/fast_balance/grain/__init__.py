"""Grain layer: class-balanced samplers for ``grain.python.DataLoader`` (JAX's input pipelines).

Importing this module imports Grain; ``import fast_balance`` alone does not. Grain itself needs
no JAX for what is used here.

- `BalancedSampler` follows Grain's Sampler protocol (``sampler[index] -> RecordMetadata``) over
  a plan (`fast_balance.BalancedIndexSampler`, or any sampler of this package via ``from_plan``);
- `RepeatsSource` brings each record's ``repeats`` to the transforms.
"""

from __future__ import annotations

_INSTALL_GRAIN = """\
fast_balance.grain needs Grain, which is not installed: pip install grain (or pip install "fast_balance[grain]")."""


def _require_grain() -> None:
    """Raises ImportError naming what to install when Grain is missing."""
    try:
        import grain.python  # noqa: F401
    except ModuleNotFoundError as error:
        # Only a missing top-level package means "not installed"; a Grain that fails to load keeps its error.
        if error.name not in ("grain", "grain.python"):
            raise
        raise ImportError(_INSTALL_GRAIN, name="grain") from error


_require_grain()

from .sampler import BalancedRecordMetadata, BalancedSampler  # noqa: E402 (after the guard)
from .source import RepeatsSource  # noqa: E402

__all__ = ["BalancedRecordMetadata", "BalancedSampler", "RepeatsSource"]
