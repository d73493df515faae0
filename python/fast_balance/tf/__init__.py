"""TensorFlow layer: balanced, augmented tf.data image pipelines.

Importing this module imports TensorFlow; ``import fast_balance`` alone does not.
"""

from .augment import augment_batch
from .dataset import PipelineReport, balanced_dataset, from_directory
from .decode import load_image
from .rebalance import RebalanceReport, rebalance
from .resume import InputCheckpoint, SamplerState

__all__ = [
    "InputCheckpoint",
    "PipelineReport",
    "RebalanceReport",
    "SamplerState",
    "augment_batch",
    "balanced_dataset",
    "from_directory",
    "load_image",
    "rebalance",
]
