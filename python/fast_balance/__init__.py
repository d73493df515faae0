"""fast_balance: class-balanced input for image classification, with a C++ core.

``import fast_balance`` needs only NumPy; ``fast_balance.tf`` (TensorFlow) is imported on use.
"""

from . import schedules
from .iterator import SamplerIterator
from .label_sets import (
    LabelSets,
    as_label_sets,
    class_frequencies,
    repeat_factor_sampler,
    repeat_factor_weights,
    repeat_factors,
)
from .sampler import BalancedIndexSampler, Epoch
from .stream import StreamRebalancer
from .weighted_sampler import WeightedEpoch, WeightedIndexSampler
from .weights import class_weights

__version__ = "0.1.0"  # the one place the version is written: pyproject.toml reads it from here
__all__ = [
    "BalancedIndexSampler",
    "Epoch",
    "LabelSets",
    "SamplerIterator",
    "StreamRebalancer",
    "WeightedEpoch",
    "WeightedIndexSampler",
    "__version__",
    "as_label_sets",
    "class_frequencies",
    "class_weights",
    "repeat_factor_sampler",
    "repeat_factor_weights",
    "repeat_factors",
    "schedules",
]
