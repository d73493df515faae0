"""Type stubs of the private C++ extension (python/fast_balance/_bindings/)."""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

class ClassIndex:
    def __init__(self, labels: npt.NDArray[np.integer], num_classes: int) -> None: ...
    @property
    def classes(self) -> npt.NDArray[np.int64]: ...
    @property
    def counts(self) -> npt.NDArray[np.int64]: ...
    @property
    def num_ids(self) -> int: ...
    @property
    def num_samples(self) -> int: ...
    @property
    def label_hash(self) -> int: ...
    def labels(self) -> npt.NDArray[np.int32]: ...

class Sampler:
    def __init__(
        self,
        index: ClassIndex,
        weights: npt.NDArray[np.uint64],
        seed: int,
        samples_per_epoch: int,
        batch_size: int,
        replacement: bool,
        num_shards: int,
        shard_index: int,
        sample_weights: SampleWeights | None = None,
        draw_shifts: npt.NDArray[np.int64] | None = None,
    ) -> None: ...
    @property
    def quotas(self) -> npt.NDArray[np.int64]: ...
    @property
    def shard_size(self) -> int: ...
    @property
    def fingerprint(self) -> int: ...
    def fill(
        self, epoch: int, start: int, stop: int
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32]]: ...
    def fill_into(
        self,
        epoch: int,
        start: int,
        stop: int,
        indices: npt.NDArray[np.int64],
        labels: npt.NDArray[np.int32],
        repeats: npt.NDArray[np.int32],
    ) -> None: ...

class SampleWeights:
    def __init__(self, weights: npt.NDArray[np.float64], index: ClassIndex) -> None: ...
    @property
    def hash(self) -> int: ...
    def integers(self) -> npt.NDArray[np.uint32]: ...

class WeightedSampler:
    _max_samples: int  # a limit passed up from the core (class attribute)
    def __init__(
        self,
        weights: npt.NDArray[np.float64],
        seed: int,
        samples_per_epoch: int,
        batch_size: int,
        replacement: bool,
        num_shards: int,
        shard_index: int,
    ) -> None: ...
    @property
    def shard_size(self) -> int: ...
    @property
    def fingerprint(self) -> int: ...
    @property
    def num_samples(self) -> int: ...
    def integer_weights(self) -> npt.NDArray[np.uint32]: ...
    def fill(self, epoch: int, start: int, stop: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]: ...
    def fill_into(
        self, epoch: int, start: int, stop: int, indices: npt.NDArray[np.int64], repeats: npt.NDArray[np.int32]
    ) -> None: ...

class OutputPool:
    def __init__(self) -> None: ...
    def take(self, size: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.int32]]: ...

class Rebalancer:
    _max_classes: int  # limits passed up from the core (class attributes)
    _bytes_per_class: int
    def __init__(self, weights: npt.NDArray[np.uint64], capacity_per_class: int, seed: int) -> None: ...
    def push(
        self, payloads: Sequence[bytes], labels: npt.NDArray[np.int64], final: bool
    ) -> tuple[list[bytes], npt.NDArray[np.int32], npt.NDArray[np.int32]]: ...
    @property
    def finished(self) -> bool: ...
    @property
    def stats(self) -> dict[str, int]: ...

def apportion(total: int, weights: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]: ...
