"""fast_balance: class-balanced input for image classification, with a C++ core.

``import fast_balance`` needs only NumPy; ``fast_balance.tf`` (TensorFlow) is imported on use.
"""

from .iterator import SamplerIterator
from .sampler import BalancedIndexSampler, Epoch
from .stream import StreamRebalancer
from .weighted_sampler import WeightedEpoch, WeightedIndexSampler
from .weights import class_weights

__version__ = "0.1.0"  # the one place the version is written: pyproject.toml reads it from here
__all__ = [
    "BalancedIndexSampler",
    "Epoch",
    "SamplerIterator",
    "StreamRebalancer",
    "WeightedEpoch",
    "WeightedIndexSampler",
    "__version__",
    "class_weights",
]
