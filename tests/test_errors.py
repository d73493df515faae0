"""Bad input: a clear error naming what is wrong, never a crash or a wrong stream."""

from __future__ import annotations

import numpy as np
import pytest

import fast_balance
from fast_balance import BalancedIndexSampler, WeightedIndexSampler, _core

LABELS = np.array([0, 1, 1, 2, 2, 2])


@pytest.mark.parametrize(
    "labels, error, message",
    [
        (np.zeros((2, 3), dtype=int), ValueError, "1-D"),
        (np.array([0.0, 1.0]), TypeError, "integer dtype, got float64"),
        (np.array([True, False]), TypeError, "integer dtype, got bool"),
        (np.array(["a", "b"]), TypeError, "integer dtype"),
        (np.array([], dtype=int), ValueError, "empty"),
        ([], ValueError, "empty"),
        (np.array([0, 3, -2]), ValueError, "label -2 at position 2"),
    ],
)
def test_bad_labels(labels, error, message):
    with pytest.raises(error, match=message):
        BalancedIndexSampler(labels)


def test_label_not_below_num_classes():
    with pytest.raises(ValueError, match=r"< num_classes \(2\); label 2 at position 3"):
        BalancedIndexSampler(LABELS, num_classes=2)


def test_empty_classes_that_the_target_asks_for_are_listed():
    labels = np.array([0, 0, 2, 5])
    with pytest.raises(ValueError, match="4 classes with no samples: 1, 3, 4, 6"):
        BalancedIndexSampler(labels, num_classes=7)
    with pytest.raises(ValueError, match="classes with no samples: 1"):
        BalancedIndexSampler(labels, target=-1.0)
    # Targets that give empty classes no weight are fine.
    assert BalancedIndexSampler(labels, num_classes=7, target="instance").quotas.tolist() == [2, 0, 1, 0, 0, 1, 0]
    assert BalancedIndexSampler(labels, target={0: 1, 2: 1, 5: 1}).quotas[[1, 3, 4]].sum() == 0


@pytest.mark.parametrize(
    "target, error, message",
    [
        ("uniform", ValueError, "unknown name 'uniform'"),
        ([1, 2], ValueError, "got 2 weights for 3 classes"),
        ([1, -1, 1], ValueError, ">= 0"),
        ([1, np.nan, 1], ValueError, "finite"),
        ([1, np.inf, 1], ValueError, "finite"),
        ([0, 0, 0], ValueError, "all zero"),
        ([[1, 2, 3]], ValueError, "1-D"),
        ({0: 1, 7: 1}, ValueError, "class 7 is outside"),
        ({0: "x"}, TypeError, "must be a number"),
        (float("nan"), ValueError, "finite"),
        (True, TypeError, "bool"),
        (object(), TypeError, "cannot read"),
    ],
)
def test_bad_targets(target, error, message):
    with pytest.raises(error, match=message):
        BalancedIndexSampler(LABELS, target=target)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"samples_per_epoch": 0}, ValueError, "samples_per_epoch must be >= 1"),
        ({"samples_per_epoch": -5}, ValueError, "samples_per_epoch must be >= 1"),
        ({"samples_per_epoch": "all"}, ValueError, "samples_per_epoch must be one of"),
        ({"samples_per_epoch": 2.5}, TypeError, "samples_per_epoch must be an integer"),
        ({"samples_per_epoch": (1 << 46) + 1}, ValueError, "more than the 70,368,744,177,664 \\(2\\^46\\)"),
        ({"target": [1, 1, 10**15]}, ValueError, "samples_per_epoch would be"),
        ({"samples_per_epoch": 3 << 32}, ValueError, "class 0 would repeat a sample 2\\^31 - 1 or more times"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 4.0}, TypeError, "batch_size must be an integer"),
        ({"num_shards": 0}, ValueError, "num_shards must be >= 1"),
        ({"num_shards": 2, "shard_index": 2}, ValueError, "shard_index must be < num_shards"),
        ({"shard_index": -1}, ValueError, "shard_index must be >= 0"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 1 << 64}, ValueError, "seed must be < 2"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"num_classes": 0}, ValueError, "num_classes must be >= 1"),
        ({"replacement": "yes"}, TypeError, "replacement must be a bool"),
    ],
)
def test_bad_options(kwargs, error, message):
    with pytest.raises(error, match=message):
        BalancedIndexSampler(LABELS, **kwargs)


def test_bad_epoch_slices_and_states():
    sampler = BalancedIndexSampler(LABELS, seed=1)
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        sampler.epoch(-1)
    with pytest.raises(ValueError, match="start <= stop"):
        sampler.epoch(0, 5, 2)
    with pytest.raises(ValueError, match="stop <= 9"):
        sampler.epoch(0, 0, 10)
    with pytest.raises(ValueError, match="epoch must be <= "):
        sampler.epoch(2**63)
    with pytest.raises(TypeError, match="epoch must be an integer, got float"):
        sampler.epoch(1.0)
    with pytest.raises(ValueError, match="num_batches needs batch_size"):
        _ = sampler.num_batches


def test_out_arrays_that_share_memory_are_refused():
    sampler = BalancedIndexSampler(LABELS, batch_size=3, seed=1)
    good = sampler.epoch(0)
    both = np.zeros(2 * len(sampler), dtype=np.int32)
    with pytest.raises(ValueError, match="out.labels and out.repeats share memory"):
        sampler.epoch(1, out=(good.indices, both[: len(sampler)], both[1 : len(sampler) + 1]))
    with pytest.raises(ValueError, match="share memory"):
        sampler.epoch(1, out=(good.indices, good.labels, good.labels))


@pytest.mark.parametrize(
    "labels, kwargs, error, message",
    [
        (np.array([0, 1, 1], dtype=">i4"), {}, None, None),  # big-endian labels are labels
        (
            np.array([0, 2**63], dtype=np.uint64),
            {},
            ValueError,
            r"< 2\*\*31 - 1 .* label 9223372036854775808 at position 1",
        ),
        (np.array([0, 2**31], dtype=np.int64), {}, ValueError, "label 2147483648 at position 1"),
        ((c for c in [0, 1]), {}, TypeError, "got a generator; materialise it first"),
        (np.array([0, None], dtype=object), {}, TypeError, "integer dtype, got object"),
        (LABELS, {"batch_size": 2**32}, ValueError, "batch_size must be <= 67,108,864, got 4,294,967,296"),
        (LABELS, {"seed": 2**64}, ValueError, "seed must be < 2\\*\\*64"),
        (LABELS, {"seed": 2**64 - 1}, None, None),
        (LABELS, {"num_classes": 2**31}, ValueError, "num_classes must be <= 2,147,483,647"),
        (np.arange(8) % 2, {"batch_size": 1, "samples_per_epoch": 2**33}, ValueError, "more than the 2,147,483,647"),
    ],
)
def test_clear_errors_instead_of_raw_failures(labels, kwargs, error, message):
    if error is None:
        sampler = BalancedIndexSampler(labels, **kwargs)
        assert np.array_equal(np.asarray(labels)[sampler.epoch(0).indices], sampler.epoch(0).labels)
        return
    with pytest.raises(error, match=message):
        BalancedIndexSampler(labels, **kwargs)


def test_big_endian_labels_give_the_native_stream():
    native = BalancedIndexSampler(np.array([0, 1, 1, 2, 0, 0], dtype="<i4"), seed=3, batch_size=3)
    swapped = BalancedIndexSampler(np.array([0, 1, 1, 2, 0, 0], dtype=">i8"), seed=3, batch_size=3)
    assert all(np.array_equal(a, b) for a, b in zip(native.epoch(2), swapped.epoch(2)))
    assert native.fingerprint == swapped.fingerprint


def test_a_huge_largest_label_fails_fast_without_memory(tmp_path):
    # One label of 10**8 among two: the error must come from the labels, not after allocating per class.
    code = (
        "import resource, time, fast_balance;"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
        "start = time.perf_counter()\n"
        "try:\n"
        "    fast_balance.BalancedIndexSampler([0, 1, 10**8])\n"
        "except ValueError as error:\n"
        "    named = 'asks for 99,999,998 classes with no samples' in str(error)\n"
        "    print('ValueError', named, time.perf_counter() - start)"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    kind, named, seconds = out.stdout.split()
    assert (kind, named) == ("ValueError", "True"), out.stderr[-2000:]
    assert float(seconds) < 1.0


def test_core_checks_its_own_preconditions():
    # Reached only by bypassing the Python layer: the core still refuses, with ValueError.
    weights = np.ones(3, dtype=np.uint64)
    with pytest.raises(ValueError, match="outside \\[0, 2\\)"):
        _core.ClassIndex(LABELS, 2)
    with pytest.raises(TypeError, match="integer dtype"):
        _core.ClassIndex(np.array([0.5]), 1)
    index = _core.ClassIndex(LABELS, 4)  # ids 0-2 present of 4
    assert index.classes.tolist() == [0, 1, 2] and index.counts.tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="weights has 2 entries for 3 classes present"):
        _core.Sampler(index, weights[:2], 0, 6, 0, False, 1, 0)
    with pytest.raises(ValueError, match="multiple of batch_size"):
        _core.Sampler(index, weights, 0, 7, 2, False, 1, 0)
    with pytest.raises(ValueError, match="weights sum to zero"):
        _core.Sampler(index, np.zeros(3, dtype=np.uint64), 0, 6, 0, False, 1, 0)
    with pytest.raises(ValueError, match="batch_size must be at most 2\\^26"):
        _core.Sampler(index, weights, 0, 2**30, 2**28, False, 1, 0)
    sampler = _core.Sampler(index, weights, 0, 6, 0, False, 1, 0)
    with pytest.raises(ValueError, match="outside the shard's epoch"):
        sampler.fill(0, 0, 7)
    out = np.zeros(12, dtype=np.int32)
    with pytest.raises(ValueError, match="share memory"):
        sampler.fill_into(0, 0, 6, np.zeros(6, np.int64), out[:6], out[4:10])


# -- sample weights -------------------------------------------------------------------------------

BAD_WEIGHTS = [
    ([1, 2, np.nan, 1, 1, 1], ValueError, "must be finite; nan at position 2"),
    ([1, 2, 1, 1, np.inf, 1], ValueError, "must be finite; inf at position 4"),
    ([1, 2, 1, -np.inf, 1, 1], ValueError, "must be finite; -inf at position 3"),
    ([1, -0.5, 1, 1, 1, 1], ValueError, "must be >= 0; -0.5 at position 1"),
    ([0, 0, 0, 0, 0, 0], ValueError, "are all zero"),
    (np.ones((2, 3)), ValueError, r"must be 1-D, got shape \(2, 3\)"),
    (np.array(["a"] * 6), TypeError, "float or integer dtype, got <U1"),
    (np.ones(6, dtype=bool), TypeError, "float or integer dtype, got bool"),
    (np.ones(6, dtype=complex), TypeError, "float or integer dtype, got complex128"),
    ([1, "x", 1, 1, 1, 1], TypeError, "float or integer dtype, got <U"),
    (np.array([1, None, 1, 1, 1, 1], dtype=object), TypeError, "numbers, got dtype object"),
    ((w for w in [1.0] * 6), TypeError, "got a generator; materialise it first"),
    ([], ValueError, "is empty"),
]


@pytest.mark.parametrize("weights, error, message", BAD_WEIGHTS)
def test_bad_sample_weights(weights, error, message):
    with pytest.raises(error, match="^sample_weights .*" + message):
        BalancedIndexSampler(LABELS, sample_weights=weights)


@pytest.mark.parametrize("weights, error, message", BAD_WEIGHTS)
def test_bad_weights_of_a_weighted_sampler(weights, error, message):
    with pytest.raises(error, match="^weights .*" + message):
        WeightedIndexSampler(weights, samples_per_epoch=10)


def test_sample_weights_of_the_wrong_length_are_refused_before_any_copy():
    with pytest.raises(ValueError, match="sample_weights has 5 entries for 6 samples"):
        BalancedIndexSampler(LABELS, sample_weights=np.ones(5, dtype=np.int8))
    # Checked on the shape alone: a read-only view of a huge array is never converted.
    huge = np.broadcast_to(np.float32(1), (10**12,))
    with pytest.raises(ValueError, match="sample_weights has 1,000,000,000,000 entries for 6 samples"):
        BalancedIndexSampler(LABELS, sample_weights=huge)
    with pytest.raises(ValueError, match="weights has 1,000,000,000,000 entries, more than the 2,147,483,647"):
        WeightedIndexSampler(huge, samples_per_epoch=10)


def test_classes_whose_sample_weights_are_all_zero_are_named():
    weights = np.array([1.0, 0, 0, 1, 1, 1])  # class 1 (positions 1 and 2) has only zeros
    with pytest.raises(ValueError, match="all zero in 1 classes that the target draws from: 1"):
        BalancedIndexSampler(LABELS, sample_weights=weights)
    # A target that gives the class no draws needs none of its weights.
    sampler = BalancedIndexSampler(LABELS, sample_weights=weights, target={0: 1, 2: 1})
    assert 1 not in sampler.epoch(0).labels


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"samples_per_epoch": 0}, ValueError, "samples_per_epoch must be >= 1"),
        ({"samples_per_epoch": "max"}, ValueError, "samples_per_epoch must be 'n' or a positive integer"),
        ({"samples_per_epoch": 2.5}, TypeError, "samples_per_epoch must be an integer"),
        ({"samples_per_epoch": (1 << 46) + 1}, ValueError, r"more than the 70,368,744,177,664 \(2\^46\)"),
        ({"samples_per_epoch": 1 << 31, "replacement": True}, ValueError, "with replacement repeats are int32"),
        ({"samples_per_epoch": 10, "batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"samples_per_epoch": 10, "num_shards": 2, "shard_index": 2}, ValueError, "shard_index must be < num_shards"),
        ({"samples_per_epoch": 10, "num_shards": (1 << 46) + 1}, ValueError, "num_shards must be <= 70,368,744,177"),
        ({"samples_per_epoch": 10, "seed": -1}, ValueError, "seed must be >= 0"),
        ({"samples_per_epoch": 10, "replacement": 1}, TypeError, "replacement must be a bool"),
    ],
)
def test_bad_options_of_a_weighted_sampler(kwargs, error, message):
    with pytest.raises(error, match=message):
        WeightedIndexSampler([1.0, 2.0], **kwargs)


def test_a_sample_drawn_2_to_the_31_times_an_epoch_is_refused():
    with pytest.raises(ValueError, match="samples_per_epoch=4294967296 would draw a sample 2\\^31 - 1 or more times"):
        WeightedIndexSampler([1.0, 1e-9], samples_per_epoch=1 << 32)
    with pytest.raises(ValueError, match="class 0 would repeat a sample 2\\^31 - 1 or more times"):
        BalancedIndexSampler([0, 0, 1], sample_weights=[1.0, 1e-9, 1.0], samples_per_epoch=1 << 32)


def test_weighted_core_checks_its_own_preconditions():
    with pytest.raises(ValueError, match="sample weight nan at position 1 is not finite"):
        _core.WeightedSampler(np.array([1.0, np.nan]), 0, 10, 0, False, 1, 0)
    with pytest.raises(ValueError, match="sample weight -1 at position 0 is negative"):
        _core.WeightedSampler(np.array([-1.0]), 0, 10, 0, False, 1, 0)
    with pytest.raises(ValueError, match="only zero sample weights"):
        _core.WeightedSampler(np.zeros(3), 0, 10, 0, False, 1, 0)
    with pytest.raises(ValueError, match="multiple of batch_size"):
        _core.WeightedSampler(np.ones(3), 0, 10, 3, False, 1, 0)
    index = _core.ClassIndex(LABELS, 3)
    with pytest.raises(ValueError, match="sample_weights has 2 entries for 6 labels"):
        _core.SampleWeights(np.ones(2), index)
    zeros = _core.SampleWeights(np.array([1.0, 0, 0, 1, 1, 1]), index)
    with pytest.raises(ValueError, match="class 1 has draws but only zero sample weights"):
        _core.Sampler(index, np.ones(3, dtype=np.uint64), 0, 6, 0, False, 1, 0, zeros)
    sampler = _core.WeightedSampler(np.ones(3), 0, 10, 0, False, 1, 0)
    with pytest.raises(ValueError, match="outside the shard's epoch"):
        sampler.fill(0, 0, 11)
    with pytest.raises(OverflowError, match="epoch too large"):
        sampler.fill(1 << 61, 0, 1)
    out = np.zeros(12, dtype=np.int32)
    with pytest.raises(ValueError, match="share memory"):
        sampler.fill_into(0, 0, 4, out[:8].view(np.int64), out[6:10])


# -- found by the fuzz suite (tests/fuzz) and the adversarial pass -------------------------------

@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_classes": "3"}, TypeError, "num_classes must be an integer, got str '3'"),
        ({"num_classes": 2.5}, TypeError, "num_classes must be an integer, got float 2.5"),
        ({"num_classes": np.array([1, 2])}, TypeError, "num_classes must be an integer"),
        ({"mode": np.array([1, 2])}, ValueError, "mode must be one of 'balanced', 'effective_number'"),
    ],
)
def test_class_weights_options_are_checked_not_compared(kwargs, error, message):
    # These reached a comparison: "'>=' not supported", "truth value of an array is ambiguous", or
    # a float num_classes accepted.
    with pytest.raises(error, match=message):
        fast_balance.class_weights([0, 1, 2], **kwargs)


def test_class_weights_memory_follows_the_classes_present(tmp_path):
    # One label of 10**9 among two counted every id up to it (8 GB); the sampler counts only the
    # classes present, and so must class_weights.
    import subprocess
    import sys

    code = (
        "import resource, fast_balance; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
        "print(fast_balance.class_weights([0, 10**9, 10**9, 2**31 - 2]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["{0:", "1.3333333333333333,", "1000000000:", "0.6666666666666666,", "2147483646:",
                                  "1.3333333333333333}"]


def test_a_fingerprint_of_the_wrong_type_is_named():
    sampler = BalancedIndexSampler(LABELS, seed=1)
    state = sampler.iterator().state_dict()
    for fingerprint in (np.array([1, 2]), 123, None):
        with pytest.raises(TypeError, match=r"state\['fingerprint'\] must be a str"):
            sampler.iterator().load_state_dict({**state, "fingerprint": fingerprint})


def test_num_shards_past_what_an_epoch_can_hold_is_named():
    # Said "samples_per_epoch would be 18,446,744,073,709,551,616", naming an argument not given.
    with pytest.raises(ValueError, match="num_shards must be <= 70,368,744,177,664"):
        BalancedIndexSampler(LABELS, num_shards=2**64)
    with pytest.raises(ValueError, match=r"rounded up to a multiple of batch_size \* num_shards = 3,000"):
        BalancedIndexSampler(LABELS, batch_size=3, num_shards=1000, samples_per_epoch=2**46 - 1)


@pytest.mark.parametrize(
    "target, error, message",
    [
        ({0: 2**2000, 1: 1}, ValueError, "target: weight of class 0 is too large for a float"),
        (["1", "1", "1"], TypeError, "target: per-class weights must be numbers, got <U1"),
        (np.array([b"1", b"1", b"1"]), TypeError, "target: per-class weights must be numbers, got |S1"),
        ([True, False, True], TypeError, "target: per-class weights must be numbers, got bool"),
    ],
)
def test_targets_are_numbers_not_coerced(target, error, message):
    # A string weight in a dict was refused but in a list read as a number; a huge int weight
    # raised a bare "int too large to convert to float".
    with pytest.raises(error, match=message.replace("|", r"\|")):
        BalancedIndexSampler(LABELS, target=target)


def test_a_power_target_that_overflows_says_so_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="target: weights must be finite"):
            BalancedIndexSampler(LABELS, target=2000.0)


def test_masked_labels_are_refused_not_unmasked():
    # np.asarray drops the mask: the masked label 1 was drawn as class 1.
    with pytest.raises(TypeError, match="labels is a masked array with masked values"):
        BalancedIndexSampler(np.ma.array([0, 1, 2], mask=[0, 1, 0]))
    with pytest.raises(TypeError, match="labels is a masked array with masked values"):
        fast_balance.class_weights(np.ma.array([0, 1, 2], mask=[0, 1, 0]))
    assert BalancedIndexSampler(np.ma.array([0, 1, 2])).class_counts.tolist() == [1, 1, 1]  # nothing masked


@pytest.mark.parametrize(
    "payloads, message",
    [(None, "got NoneType"), (7, "got int"), (b"ab", "got bytes"), ("ab", "got str")],
)
def test_push_names_payloads_that_are_not_a_sequence_of_records(payloads, message):
    # None and 7 gave "'NoneType' object is not iterable"; b"ab" "payloads must be bytes".
    with pytest.raises(TypeError, match=f"payloads must be a sequence of bytes, one per record; {message}"):
        fast_balance.StreamRebalancer(3).push(payloads, [0, 1])


@pytest.mark.parametrize("size", [2**59, 2**60, 2**60 + 1, 2**63 - 1])
def test_core_output_pool_refuses_sizes_it_cannot_address(size):
    # 16 bytes per sample wrapped around 2^64: take(2**60 + 1) allocated 16 bytes and built arrays
    # of 2^60 + 1 elements on them before NumPy refused the int64 one.
    with pytest.raises(ValueError, match=f"output of {size} samples is too large to address"):
        _core.OutputPool().take(size)


@pytest.mark.parametrize(
    "option, message",
    [
        (["--classes", "0"], "num_classes must be >= 1, got 0"),
        (["--largest", "-3"], "largest must be >= 1, got -3"),
        (["--ratio", "0"], "ratio (largest / smallest class) must be a finite number >= 1, got 0.0"),
        (["--ratio", "nan"], "must be a finite number >= 1, got nan"),
        (["--ratio", "inf"], "must be a finite number >= 1, got inf"),
    ],
)
def test_demo_options_are_checked(option, message):
    # --classes 0 said "zero-size array to reduction operation maximum", --ratio 0 warned and said
    # "repeats may not contain negative values", --largest -3 and --ratio inf ran on 1 sample.
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "fast_balance", "demo", "--no-images", *option],
                            capture_output=True, text=True, timeout=120)
    # One line: the message, no warning before it.
    assert result.returncode == 2 and result.stderr.startswith("fast-balance: error: "), result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
