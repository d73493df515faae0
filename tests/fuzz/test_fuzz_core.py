"""(a) The raw core, past every Python check: random, mostly invalid arguments must raise
ValueError, TypeError or OverflowError, never crash, hang, write out of bounds or allocate
beyond what was asked for."""

from __future__ import annotations

import numpy as np
import pytest
import reference
from fuzz_support import BAD_INPUT, counted, too_big
from hypothesis import assume, event, given
from hypothesis import strategies as st
from stream_reference import StreamModel

from fast_balance import _core

# Float weights and labels given to the raw core are cast by pybind11 (forcecast), as NumPy casts.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

INT64 = st.integers(-(2**63), 2**63 - 1)
# Sizes around every limit the core knows: 2^26 (batch), 2^31 (ids, batches), 2^46 (slots), 2^62 (draws).
EDGES = st.sampled_from([0, 1, 2, 3, 2**26, 2**26 + 1, 2**31 - 1, 2**31, 2**32, 2**46, 2**46 + 1, 2**59, 2**60,
                         2**61, 2**62, 2**63 - 1])
SIZES = st.one_of(st.integers(-3, 400), EDGES, st.integers(-(2**64), 2**64), INT64)
LABEL_DTYPES = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", ">i4", ">u8", "f4", "f8", "?", "O", "U1"]


@st.composite
def label_arrays(draw):
    values = draw(st.lists(st.one_of(st.integers(-3, 40), st.sampled_from([2**31 - 2, 2**31 - 1, 2**31, 2**63 - 1])),
                           min_size=0, max_size=60))
    dtype = draw(st.sampled_from(LABEL_DTYPES))
    with np.errstate(all="ignore"):
        try:
            array = np.array(values).astype(dtype)
        except (OverflowError, ValueError):
            array = np.array(values, dtype=object) if dtype == "O" else np.array(values).astype("i8")
    shape = draw(st.sampled_from(["flat", "2d", "strided", "reversed", "0d"]))
    if shape == "2d" and array.size % 2 == 0:
        array = array.reshape(2, -1)
    elif shape == "strided":
        array = np.repeat(array, 2)[::2]
    elif shape == "reversed":
        array = array[::-1]
    elif shape == "0d" and array.size:
        array = array[:1].reshape(())
    return array


def weight_arrays(size):
    return st.one_of(
        st.lists(st.integers(0, 2**64 - 1), min_size=size, max_size=size).map(lambda w: np.array(w, dtype=np.uint64)),
        st.lists(st.integers(0, 2**64 - 1), min_size=0, max_size=size + 2).map(lambda w: np.array(w, dtype=np.uint64)),
        st.lists(st.integers(0, 9), min_size=size, max_size=size).map(lambda w: np.array(w, dtype=np.uint64)),
        st.lists(st.floats(-1e20, 1e20, allow_nan=False), min_size=size, max_size=size).map(np.array),
        st.lists(st.integers(-5, 5), min_size=size, max_size=size).map(np.array),
    )


def built_index(labels, num_classes):
    try:
        return _core.ClassIndex(labels, num_classes)
    except BAD_INPUT:
        return None


@given(labels=label_arrays(), num_classes=SIZES)
@counted
def test_class_index_refuses_or_indexes_exactly(labels, num_classes):
    index = built_index(labels, num_classes)
    if index is None:
        return
    values = np.asarray(labels).astype(np.int64).ravel()
    assert labels.ndim == 1 and labels.dtype.kind in "iu" and labels.dtype.isnative
    assert np.all(values >= 0) and np.all(values < num_classes)
    present, counts = np.unique(values, return_counts=True)
    assert index.classes.tolist() == present.tolist()
    assert index.counts.tolist() == counts.tolist()
    assert index.num_samples == values.size and index.num_ids == num_classes
    assert index.labels().tolist() == values.tolist()
    # Equal label sequences hash equally whatever their dtype and layout.
    assert index.label_hash == _core.ClassIndex(np.ascontiguousarray(values, dtype=np.int32), num_classes).label_hash


@st.composite
def core_samplers(draw):
    counts = draw(st.lists(st.integers(1, 30), min_size=1, max_size=8))
    ids = draw(st.lists(st.integers(0, 3000), min_size=len(counts), max_size=len(counts), unique=True))
    labels = np.repeat(np.array(ids, dtype=np.int64), counts)
    np.random.default_rng(draw(st.integers(0, 99))).shuffle(labels)
    index = _core.ClassIndex(labels, max(ids) + 1 + draw(st.integers(0, 10)))
    weights = draw(weight_arrays(len(counts)))
    batch_size = draw(st.one_of(st.integers(-2, 12), EDGES))
    num_shards = draw(st.one_of(st.integers(-1, 5), EDGES))
    shard_index = draw(st.one_of(st.integers(-1, 5), EDGES))
    unit = max(batch_size, 1) * max(num_shards, 1)
    samples = draw(st.one_of(SIZES, st.integers(1, 40).map(lambda k: k * unit),
                             st.integers(1, 2**20).map(lambda k: k * unit)))
    seed = draw(st.one_of(st.integers(0, 2**64 - 1), st.integers(-3, -1), st.just(2**64)))
    replacement = draw(st.booleans())
    return labels, index, (weights, seed, samples, batch_size, replacement, num_shards, shard_index)


def build_sampler(index, arguments):
    try:
        return _core.Sampler(index, *arguments)
    except BAD_INPUT:
        return None


@given(case=core_samplers(), epoch=st.one_of(st.integers(-2, 50), EDGES, INT64, st.just(2**64)),
       window=st.tuples(SIZES, SIZES), near_end=st.booleans())
@counted
def test_fill_refuses_or_keeps_the_contract(case, epoch, window, near_end):
    labels, index, arguments = case
    sampler = build_sampler(index, arguments)
    if sampler is None:
        return
    shard_size = sampler.shard_size
    batch_size = arguments[3]
    assert np.sum(sampler.quotas) == arguments[2]
    start, stop = window
    if near_end and shard_size < 2**62:
        start, stop = shard_size - abs(start) % 64, shard_size
    # A batched slice replays the schedule from the epoch's first batch: keep those short.
    if batch_size > 0 and start > 2**24:
        start, stop = start % 2**24, stop % 2**24
    try:
        indices, out_labels, repeats = sampler.fill(epoch, start, stop)
    except BAD_INPUT:
        return
    except MemoryError:
        assert too_big(stop - start), (start, stop)
        return
    assert epoch >= 0 and 0 <= start <= stop <= shard_size
    assert indices.size == out_labels.size == repeats.size == stop - start
    assert np.array_equal(labels[indices], out_labels)
    assert np.all(repeats >= 0)


@st.composite
def output_arrays(draw, size):
    """Three output arrays for fill_into: mostly right, often wrong (dtype, size, layout, aliasing)."""
    kind = draw(st.sampled_from(["exact", "longer", "shorter", "dtype", "strided", "readonly", "aliased", "2d",
                                 "list"]))
    extra = draw(st.integers(1, 5))
    if kind == "aliased":
        buffer = np.zeros(16 * size + 64, dtype=np.uint8)
        offsets = [draw(st.integers(0, 12 * size + 32)) for _ in range(3)]
        views = []
        for offset, dtype in zip(offsets, ("<i8", "<i4", "<i4")):
            item = np.dtype(dtype).itemsize
            offset -= offset % item
            views.append(buffer[offset : offset + item * size].view(dtype))
        return views
    n = {"longer": size + extra, "shorter": max(size - extra, 0)}.get(kind, size)
    arrays = [np.full(n, -7, dtype=np.int64), np.full(n, -7, dtype=np.int32), np.full(n, -7, dtype=np.int32)]
    which = draw(st.integers(0, 2))
    if kind == "dtype":
        arrays[which] = arrays[which].astype(draw(st.sampled_from(["i2", "u4", "i8", "f8", ">i4", ">i8"])))
    elif kind == "strided":
        arrays[which] = np.repeat(arrays[which], 2)[::2]
    elif kind == "readonly":
        arrays[which].setflags(write=False)
    elif kind == "2d" and n % 2 == 0:
        arrays[which] = arrays[which].reshape(2, -1)
    elif kind == "list":
        arrays[which] = arrays[which].tolist()
    return arrays


@given(case=core_samplers(), epoch=st.integers(0, 40), data=st.data())
@counted
def test_fill_into_writes_exactly_its_slice_or_refuses(case, epoch, data):
    _, index, arguments = case
    sampler = build_sampler(index, arguments)
    if sampler is None:
        return
    shard_size = sampler.shard_size
    assume(shard_size <= 4096 or arguments[3] <= 0)
    start = data.draw(st.integers(0, min(shard_size, 2**40)))
    stop = data.draw(st.integers(start, min(shard_size, start + 300)))
    arrays = data.draw(output_arrays(stop - start))
    before = [np.array(a, copy=True) for a in arrays]
    try:
        sampler.fill_into(epoch, start, stop, *arrays)
    except BAD_INPUT:
        for a, b in zip(arrays, before):  # a refused call writes nothing
            assert np.array_equal(np.asarray(a), b)
        return
    n = stop - start
    expected = sampler.fill(epoch, start, stop)
    for array, want, old in zip(arrays, expected, before):
        flat = np.asarray(array).reshape(-1)
        assert np.array_equal(flat[:n], want)
        assert np.array_equal(flat[n:], old.reshape(-1)[n:])  # nothing past the slice is touched


@given(sizes=st.lists(st.one_of(st.integers(-2, 5000), st.integers(-2, 5000), EDGES, st.integers(0, 2**64)),
                      min_size=1, max_size=12),
       keep=st.lists(st.booleans(), min_size=12, max_size=12))
@counted
def test_output_pool_hands_out_separate_memory(sizes, keep):
    pool = _core.OutputPool()
    held = []
    for k, size in enumerate(sizes):
        try:
            arrays = pool.take(size)
        except BAD_INPUT:
            assert size < 0 or size >= 2**59, size  # 16 bytes per sample overflow 64 bits from 2^60
            continue
        except MemoryError:
            assert too_big(size), size
            continue
        assert [a.size for a in arrays] == [size] * 3
        assert [a.dtype for a in arrays] == [np.int64, np.int32, np.int32]
        if size > 1 << 16:  # large requests: their size is what is checked, not their pages
            continue
        for a in arrays:
            a[:] = k
        if keep[k]:
            held.append((k, arrays))
    for k, arrays in held:  # no later take() reused memory that is still referenced
        assert all(np.all(a == k) for a in arrays)


@given(total=st.one_of(SIZES, st.integers(0, 2**63 - 1)),
       weights=st.one_of(st.lists(st.integers(0, 2**64 - 1), max_size=40), st.lists(st.integers(0, 5), max_size=40)))
@counted
def test_apportion_is_the_exact_largest_remainder_split(total, weights):
    try:
        quotas = _core.apportion(total, np.array(weights, dtype=np.uint64))
    except BAD_INPUT:
        assert total < 0 or sum(weights) == 0 or total >= 2**63 or total < -(2**63)
        return
    assert quotas.tolist() == reference.apportion(total, weights)


@given(labels=st.one_of(st.lists(st.integers(-3, 5), max_size=20), st.none(), st.text(max_size=5), st.integers(),
                        st.lists(st.one_of(st.none(), st.floats(), st.text(max_size=2)), max_size=5)),
       num_classes=SIZES)
@counted
def test_class_index_refuses_what_is_not_an_array(labels, num_classes):
    # pybind11 converts array-likes; anything else must be a TypeError, never a crash.
    try:
        index = _core.ClassIndex(labels, num_classes)
    except BAD_INPUT:
        return
    assert index.labels().tolist() == list(labels)


@given(index=st.one_of(st.none(), st.integers(), st.just(_core.OutputPool())),
       arguments=st.tuples(st.integers(0, 2**64 - 1), SIZES, SIZES, st.booleans(), SIZES, SIZES))
@counted
def test_sampler_refuses_what_is_not_a_class_index(index, arguments):
    seed, samples, batch, replacement, shards, shard = arguments
    try:
        _core.Sampler(index, np.ones(1, np.uint64), seed, samples, batch, replacement, shards, shard)
    except BAD_INPUT:
        return
    raise AssertionError("built a sampler without a class index")


# Payloads the binding refuses (only bytes are records) mixed with records.
PAYLOADS = st.one_of(st.binary(max_size=6), st.binary(max_size=6), st.binary(max_size=6), st.text(max_size=2),
                     st.none(), st.integers(), st.builds(bytearray, st.binary(max_size=3)))
STREAM_LABELS = st.one_of(st.integers(-2, 9), st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, -(2**63)]))


@st.composite
def pushes(draw, num_classes=8):
    """One push: payloads, labels (array-like, often of another length or dtype) and final; half
    of them valid."""
    if draw(st.booleans()):
        labels = draw(st.lists(st.integers(0, num_classes - 1), max_size=40))
        payloads = [draw(st.binary(max_size=6)) for _ in labels]
        return payloads, np.array(labels, dtype=np.int64), draw(st.booleans()) and draw(st.booleans())
    payloads = draw(st.lists(PAYLOADS, max_size=40))
    kind = draw(st.sampled_from(["int64", "int64", "int64", "int8", "uint64", "float", "2d", "longer", "list", "text"]))
    if kind == "text":
        labels = draw(st.lists(st.text(max_size=2), min_size=len(payloads), max_size=len(payloads)))
    else:
        values = draw(st.lists(STREAM_LABELS, min_size=len(payloads), max_size=len(payloads)))
        if kind == "longer":
            values.append(0)
        labels = np.array(values, dtype=object)
        with np.errstate(all="ignore"):
            if kind in ("int64", "longer"):
                labels = np.array([min(max(v, -(2**63)), 2**63 - 1) for v in values], dtype=np.int64)
            elif kind == "int8":
                labels = np.array(values, dtype=np.int64).astype(np.int8)
            elif kind == "uint64":
                labels = np.array([v % 2**64 for v in values], dtype=np.uint64)
            elif kind == "float":
                labels = np.array(values, dtype=np.float64) + 0.25
            elif kind == "2d" and len(values) % 2 == 0:
                labels = np.array(values, dtype=np.int64).reshape(2, -1)
            elif kind == "list":
                labels = values
    return payloads, labels, draw(st.booleans())


@st.composite
def rebalancer_weights(draw):
    """Weights for the raw core: valid with a bounded ratio between classes, large but bounded, or
    refused (empty, all zero, summing past 2^64, negative through a cast)."""
    n = draw(st.integers(1, 8))
    kind = draw(st.sampled_from(["small", "small", "small", "small", "scaled", "empty", "zero", "negative"]))
    if kind == "empty":
        return np.zeros(0, np.uint64)
    if kind == "zero":
        return np.zeros(n, np.uint64)
    small = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    if kind == "negative":
        return np.array([-w for w in small], dtype=np.int64)
    if kind == "scaled":  # a ratio of at most 6 between positive weights, near the 64-bit limit
        shift = draw(st.integers(40, 61))
        return np.array([w << shift for w in small], dtype=np.uint64)
    return np.array(small, dtype=np.uint64)


def as_int64(labels):
    """The labels as the binding casts them (forcecast to int64)."""
    with np.errstate(all="ignore"):
        return np.asarray(labels).astype(np.int64)


@st.composite
def rebalancer_options(draw):
    """(weights, capacity_per_class, seed): three times in four all valid, else anything."""
    if draw(st.integers(0, 3)):
        n = draw(st.integers(1, 8))
        small = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n).filter(any))
        shift = draw(st.sampled_from([0, 0, 0, 40, 61]))
        capacity = draw(st.one_of(st.integers(1, 12), st.sampled_from([2**31, 2**62, 2**63 - 1])))
        return np.array([w << shift for w in small], dtype=np.uint64), capacity, draw(st.integers(0, 2**64 - 1))
    capacity = draw(st.one_of(st.integers(-2, 12), EDGES, st.integers(-(2**64), 2**64)))
    seed = draw(st.one_of(st.integers(0, 2**64 - 1), st.integers(-3, -1), st.just(2**64)))
    return draw(rebalancer_weights()), capacity, seed


@given(options=rebalancer_options(), calls=st.lists(pushes(), min_size=1, max_size=6))
@counted
def test_rebalancer_refuses_or_follows_the_model(options, calls):
    # Straight into the core: every call is refused with a bad-input error or emits exactly what
    # the documented rule (stream_reference.StreamModel) emits for the pushes accepted so far.
    weights, capacity, seed = options
    try:
        stream = _core.Rebalancer(weights, capacity, seed)
    except BAD_INPUT:
        return
    with np.errstate(all="ignore"):
        cast = weights.astype(np.uint64).tolist()  # as the binding casts them (negative ones wrap)
    assert 0 < sum(cast) < 2**64 and 1 <= capacity < 2**63 and 0 <= seed < 2**64
    model = StreamModel(cast, capacity, seed)
    for payloads, labels, final in calls:
        finished = stream.finished
        try:
            got = stream.push(payloads, labels, final)
        except BAD_INPUT:
            continue
        except RuntimeError as error:
            assert finished and "already ended" in str(error)
            continue
        assert not finished
        event("rebalancer: push accepted")
        assert all(isinstance(p, bytes) for p in payloads) and np.ndim(labels) == 1 and len(labels) == len(payloads)
        want = model.push(payloads, as_int64(labels).tolist(), final)
        assert list(zip(got[0], got[1].tolist(), got[2].tolist())) == want
        assert stream.finished == model.finished
    stats = stream.stats
    assert stats["emitted"] == stats["fresh"] + stats["replays"] and stats["held_bytes"] >= 0
    assert {key: stats[key] for key in model.stats} == model.stats
