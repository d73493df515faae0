"""TensorFlow layer: balanced, augmented tf.data image pipelines.

Importing this module imports TensorFlow; ``import fast_balance`` alone does not. TensorFlow is not a
dependency of fast_balance: install the build that suits the machine as TensorFlow's docs say.
"""

from __future__ import annotations

_MIN_TENSORFLOW = (2, 15)

_INSTALL_TENSORFLOW = """\
fast_balance.tf needs TensorFlow {min_version} or newer, which is not installed. fast_balance never installs \
TensorFlow itself, so that it cannot replace a build you chose; install the distribution TensorFlow's \
install guide gives for this machine, one of:
    pip install tensorflow               # CPU, or the GPU on Linux with CUDA already set up
    pip install "tensorflow[and-cuda]"   # Linux with an NVIDIA GPU, CUDA from pip
    pip install tensorflow-cpu           # CPU only, a smaller download
    pip install tensorflow-macos         # older Apple-silicon set-ups"""


def _require_tensorflow() -> None:
    """Raises ImportError naming what to install when TensorFlow is missing or too old."""
    min_version = ".".join(map(str, _MIN_TENSORFLOW))
    try:
        import tensorflow
    except ModuleNotFoundError as error:
        # Only a missing top-level package means "not installed"; a TensorFlow that fails to load
        # (a missing CUDA library, a NumPy mismatch) keeps its own, more useful error.
        if error.name != "tensorflow":
            raise
        raise ImportError(_INSTALL_TENSORFLOW.format(min_version=min_version), name="tensorflow") from error
    version = getattr(tensorflow, "__version__", "0")
    found = tuple(int(part) if part.isdigit() else 0 for part in version.split(".")[:2])
    if found < _MIN_TENSORFLOW:
        distribution = _distribution_of("tensorflow") or "tensorflow"
        raise ImportError(
            f"fast_balance.tf needs TensorFlow {min_version} or newer; found {version} "
            f"(distribution {distribution}). Upgrade it with: pip install --upgrade {distribution}",
            name="tensorflow",
        )


def _distribution_of(module: str) -> str | None:
    """The installed distribution that provides ``module`` (tensorflow, tensorflow-cpu, ...), if known."""
    import importlib.metadata

    names: list[str] = importlib.metadata.packages_distributions().get(module, [])
    return names[0] if names else None


_require_tensorflow()

from .augment import augment_batch  # noqa: E402 (after the guard, so a missing TensorFlow is explained)
from .dataset import PipelineReport, balanced_dataset  # noqa: E402
from .decode import load_image  # noqa: E402
from .directory import from_directory  # noqa: E402
from .rebalance import RebalanceReport, rebalance  # noqa: E402
from .resume import InputCheckpoint, SamplerState  # noqa: E402

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
