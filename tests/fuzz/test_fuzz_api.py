"""(b) The public API against the pure-Python reference models on valid input, and a clear error
naming the argument on invalid input.

The weights a target gives, the size of an epoch and the turn of a stream are derived here from
the documented rules (docstrings and docs/determinism.md), not with the package's own helpers, so
that a wrong rule in the package shows as a difference.
"""

from __future__ import annotations

import math
import pickle
from fractions import Fraction

import numpy as np
import pytest
import reference
from fuzz_support import counted, examples
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.utils.class_weight import compute_class_weight
from stream_reference import StreamModel

import fast_balance
from fast_balance import BalancedIndexSampler, StreamRebalancer

FLOAT_WEIGHT_SCALE = 2**40  # the largest float weight becomes 2^40 (docs/determinism.md, Quotas)
ERRORS = (ValueError, TypeError)


# -- the documented rules ------------------------------------------------------------------------

def dense_target(target, counts: list[int]) -> list[float] | None:
    """Per-class float weights of ``target`` over classes with ``counts`` (0: absent), or None when
    the target asks for an absent class (which the sampler refuses)."""
    if isinstance(target, str):
        weights = [1.0] * len(counts) if target == "balanced" else [float(n) for n in counts]
    elif isinstance(target, float):
        if target <= 0 and 0 in counts:
            return None
        weights = [float(n) ** target if n else 0.0 for n in counts]
    elif isinstance(target, dict):
        weights = [float(target.get(c, 0)) for c in range(len(counts))]
    else:
        weights = [float(w) for w in target]
    weights = [w if n else (None if w > 0 else 0.0) for w, n in zip(weights, counts)]
    return None if None in weights else weights


def integer_weights(weights: list[float]) -> list[int]:
    """Integral weights up to 2^53 as they are; others scaled so the largest is 2^40 and rounded,
    tiny positive weights kept at 1."""
    if all(w == int(w) for w in weights) and max(weights) <= 2.0**53:
        return [int(w) for w in weights]
    top = max(weights)
    scaled = [round(w / top * FLOAT_WEIGHT_SCALE) for w in weights]
    return [max(s, 1) if w > 0 else 0 for s, w in zip(scaled, weights)]


def epoch_size(samples_per_epoch, counts: list[int], weights: list[int], unit: int) -> int:
    """Samples of an epoch: "max" (or None) the smallest in which every class's exact share reaches its
    count, "min" the largest in which none exceeds it, "n" the dataset; rounded to ``unit``."""
    total = sum(weights)
    shares = [Fraction(n * total, w) for n, w in zip(counts, weights) if w]
    if samples_per_epoch == "min":
        return max(unit, math.floor(min(shares)) // unit * unit)
    size = {"max": math.ceil(max(shares)) if shares else 0, "n": sum(counts)}.get(samples_per_epoch or "max",
                                                                                 samples_per_epoch)
    return -(-size // unit) * unit


# -- the sampler ---------------------------------------------------------------------------------

LABEL_FORMS = ["list", "tuple", "int64", "int32", "uint8", "uint64", ">i4", ">i8", "strided"]


def label_form(labels: list[int], form: str):
    if form == "list":
        return list(labels)
    if form == "tuple":
        return tuple(labels)
    if form == "strided":
        return np.repeat(np.array(labels, dtype=np.int16), 3)[::3]
    return np.array(labels, dtype=form)


@st.composite
def sampler_cases(draw, max_samples=1200):
    counts = draw(st.lists(st.integers(0, 30), min_size=1, max_size=8).filter(any))
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(draw(st.integers(0, 2**32))).shuffle(labels)
    if draw(st.booleans()):  # num_classes past the largest label
        counts += [0] * draw(st.integers(1, 4))
    present = [n > 0 for n in counts]
    target = draw(st.one_of(
        st.sampled_from(["balanced", "instance"]),
        st.floats(-1.5, 2.5, allow_nan=False),
        st.lists(st.integers(0, 9), min_size=len(counts), max_size=len(counts)),
        st.lists(st.floats(0, 1e6), min_size=len(counts), max_size=len(counts)),
        st.dictionaries(st.integers(0, len(counts) - 1), st.one_of(st.integers(0, 2**60), st.floats(0, 1e12)),
                        max_size=len(counts)),
    ))
    if isinstance(target, list) and draw(st.booleans()):
        target = np.array(target)
    if isinstance(target, float) and draw(st.booleans()):
        target = np.float64(target)
    dense = dense_target(target if not isinstance(target, (np.ndarray, np.floating)) else
                         (float(target) if np.ndim(target) == 0 else target.tolist()), counts)
    assume(dense is not None and any(w > 0 and p for w, p in zip(dense, present)))
    weights = integer_weights(dense)
    batch_size = draw(st.one_of(st.none(), st.integers(1, 24)))
    num_shards = draw(st.sampled_from([1, 1, 1, 2, 3]))
    unit = (batch_size or 1) * num_shards
    samples_per_epoch = draw(st.one_of(st.sampled_from([None, "max", "min", "n"]), st.integers(1, 600)))
    size = epoch_size(samples_per_epoch, counts, weights, unit)
    assume(size <= max_samples)
    options = dict(num_classes=len(counts), target=target, samples_per_epoch=samples_per_epoch,
                   batch_size=batch_size, replacement=draw(st.booleans()), seed=draw(st.integers(0, 2**64 - 1)),
                   num_shards=num_shards, shard_index=draw(st.integers(0, num_shards - 1)))
    form = draw(st.sampled_from(LABEL_FORMS))
    return labels, label_form(labels.tolist(), form), options, weights, size


def global_epoch(labels, options, weights, size, epoch):
    """(indices, labels, repeats) of the whole unsharded epoch by the reference model; batched
    epochs take the classes of their slots from the sampler (the reference leaves the batch
    schedule's tie-breaking out) and are checked for stratification."""
    num_classes, seed, replacement = options["num_classes"], options["seed"], options["replacement"]
    if options["batch_size"] is None:
        return reference.unbatched_epoch(labels.tolist(), num_classes, weights, size, epoch, seed, replacement)
    whole = BalancedIndexSampler(labels, **{**options, "num_shards": 1, "shard_index": 0, "samples_per_epoch": size})
    whole = whole.epoch(epoch)
    quotas = reference.apportion(size, weights)
    slots = whole.labels.tolist()
    batch = options["batch_size"]
    per_batch = np.stack([np.bincount(row, minlength=num_classes) for row in whole.labels.reshape(-1, batch)])
    num_batches = size // batch
    low = np.array(quotas) // num_batches
    assert np.all((per_batch == low) | (per_batch == low + 1)), "a batch is not stratified"
    assert per_batch.sum(axis=0).tolist() == quotas
    indices, repeats = reference.draws_for_slots(labels.tolist(), num_classes, quotas, slots, epoch, seed, replacement)
    return indices, slots, repeats


def shard_of(values: list, options, size: int) -> list:
    """This shard's part of a global epoch: batches (unbatched: positions) s, s + S, ..."""
    step = options["batch_size"] or 1
    rows = [values[k : k + step] for k in range(0, size, step)]
    return [v for row in rows[options["shard_index"] :: options["num_shards"]] for v in row]


@settings(max_examples=examples(0.5))
@given(case=sampler_cases(), epoch=st.one_of(st.integers(0, 5), st.integers(0, 2**20)), data=st.data())
@counted
def test_epochs_equal_the_reference_model(case, epoch, data):
    labels, given_labels, options, weights, size = case
    sampler = BalancedIndexSampler(given_labels, **options)
    quotas = reference.apportion(size, weights)
    assert sampler.samples_per_epoch == size and sampler.quotas.tolist() == quotas
    assert len(sampler) == size // options["num_shards"]
    want = [shard_of(list(part), options, size) for part in global_epoch(labels, options, weights, size, epoch)]
    got = sampler.epoch(epoch)
    assert [got.indices.tolist(), got.labels.tolist(), got.repeats.tolist()] == [want[0], want[1], want[2]]
    # Any slice, and writing into reused arrays, give the same.
    start = data.draw(st.integers(0, len(sampler)))
    stop = data.draw(st.integers(start, len(sampler)))
    part = sampler.epoch(epoch, start, stop, out=sampler.epoch(epoch + 1) if data.draw(st.booleans()) else None)
    assert [a.tolist() for a in part] == [w[start:stop] for w in want]
    again = pickle.loads(pickle.dumps(sampler))
    assert again.fingerprint == sampler.fingerprint and again.epoch(epoch).indices.tolist() == want[0]


@st.composite
def cursor_walks(draw):
    """Steps of a walk over a sampler's stream: take items, save a state, resume from a state."""
    return draw(st.lists(st.one_of(st.tuples(st.just("next"), st.integers(1, 40)), st.just(("save", 0)),
                                   st.just(("resume", 0))), min_size=1, max_size=12))


@settings(max_examples=examples(0.5))
@given(case=sampler_cases(max_samples=300), walk=cursor_walks(), first=st.integers(0, 3), data=st.data())
@counted
def test_iterators_walk_the_stream_and_resume_from_any_state(case, walk, first, data):
    _, given_labels, options, _, _ = case
    sampler = BalancedIndexSampler(given_labels, **options)
    step = sampler.batch_size or 1
    per_epoch = len(sampler) // step
    start = data.draw(st.integers(0, per_epoch))
    epochs = data.draw(st.one_of(st.none(), st.integers(1, 3)))
    epoch_cache: dict[int, np.ndarray] = {}

    def expected(k: int) -> list[int]:
        """Item ``k`` of the stream from (first, start): one index, or one batch."""
        epoch, position = first + (start + k) // per_epoch, (start + k) % per_epoch * step
        if epoch not in epoch_cache:
            epoch_cache[epoch] = sampler.epoch(epoch).indices
        return epoch_cache[epoch][position : position + step].tolist()

    stream = sampler.iterator(first, start * step, epochs)
    limit = None if epochs is None else epochs * per_epoch - start  # items before StopIteration
    taken, saved = [], None
    for action, count in walk:
        if action == "next":
            for _ in range(count):
                try:
                    item = next(stream)
                except StopIteration:
                    assert limit is not None and len(taken) == limit
                    break
                taken.append([item] if sampler.batch_size is None else item.tolist())
                assert taken[-1] == expected(len(taken) - 1)
        elif action == "save":
            saved = (stream.state_dict(), len(taken))
            assert set(saved[0]) == {"fingerprint", "epoch", "position"}
        elif saved is not None:  # a new process would build the sampler again and load the state
            stream = BalancedIndexSampler(given_labels, **options).iterator()
            stream.load_state_dict(saved[0])
            taken, limit = taken[: saved[1]], None


@given(labels=st.lists(st.integers(0, 12), min_size=1, max_size=200), form=st.sampled_from(LABEL_FORMS),
       beta=st.floats(0, 1, exclude_max=True))
@counted
def test_class_weights_equal_scikit_learn_and_the_effective_number_formula(labels, form, beta):
    given_labels = label_form(labels, form)
    classes, counts = np.unique(labels, return_counts=True)
    balanced = fast_balance.class_weights(given_labels)
    assert list(balanced) == classes.tolist()
    assert np.allclose(list(balanced.values()), compute_class_weight("balanced", classes=classes, y=labels),
                       rtol=1e-12)
    effective = fast_balance.class_weights(given_labels, mode="effective_number", beta=beta)
    raw = [(1 - beta) / (1 - beta**n) if beta else 1.0 for n in counts.tolist()]
    assert np.allclose(list(effective.values()), np.array(raw) / np.mean(raw), rtol=1e-9)


# -- the streaming rebalancer --------------------------------------------------------------------

@st.composite
def stream_cases(draw):
    num_classes = draw(st.integers(1, 8))
    target = draw(st.one_of(
        st.just("balanced"),
        st.lists(st.integers(0, 6), min_size=num_classes, max_size=num_classes).filter(any),
        st.lists(st.floats(0, 100), min_size=num_classes, max_size=num_classes).filter(any),
        st.dictionaries(st.integers(0, num_classes - 1), st.integers(0, 6), min_size=1)
        .filter(lambda d: any(d.values())),
    ))
    if isinstance(target, list) and draw(st.booleans()):
        target = np.array(target)
    dense = [1.0] * num_classes if isinstance(target, str) else dense_target(
        target if not isinstance(target, np.ndarray) else target.tolist(), [1] * num_classes)
    weights = integer_weights(dense)
    # A bounded ratio between the weights: a class of weight 1 among 2^40 would make the others
    # replay 2^40 times per record of it (see the report of the fuzz suite).
    assume(sum(weights) <= 64 * min(w for w in weights if w))
    on_error = draw(st.sampled_from(["raise", "skip"]))
    labels = draw(st.lists(st.integers(-1 if on_error == "skip" else 0, num_classes), max_size=200))
    if on_error == "raise":
        labels = [min(label, num_classes - 1) for label in labels]
    cuts = sorted(draw(st.lists(st.integers(0, len(labels)), max_size=5)))
    return num_classes, target, weights, on_error, labels, cuts


@given(case=stream_cases(), capacity=st.integers(1, 12), seed=st.integers(0, 2**64 - 1),
       form=st.sampled_from(["list", "int64", "int8", "uint16", ">i4"]))
@counted
def test_stream_rebalancer_equals_the_reference_model(case, capacity, seed, form):
    num_classes, target, weights, on_error, labels, cuts = case
    payloads = [f"{c}:{i}".encode() for i, c in enumerate(labels)]
    stream = StreamRebalancer(num_classes, target=target, capacity_per_class=capacity, seed=seed, on_error=on_error)
    got = []
    bounds = [0, *cuts, len(labels)]
    for k, (begin, end) in enumerate(zip(bounds, bounds[1:])):
        part = labels[begin:end]
        if form != "list":
            part = np.array(part, dtype=np.int64 if form == "uint16" and min(part, default=0) < 0 else form)
        out = stream.push(payloads[begin:end], part, final=k == len(bounds) - 2)
        got += list(zip(out[0], out[1].tolist(), out[2].tolist()))
    kept = [(p, c) for p, c in zip(payloads, labels) if 0 <= c < num_classes]
    model = StreamModel(weights, capacity, seed)
    assert got == model.push([p for p, _ in kept], [c for _, c in kept], True)
    assert stream.finished and stream.stats["skipped"] == len(labels) - len(kept)


# -- invalid input: a clear error naming the argument --------------------------------------------

BAD = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.floats(), st.complex_numbers(max_magnitude=10),
    st.integers(-(2**70), -1), st.integers(2**63, 2**70), st.just(2**64), st.just(-(2**63)),
    st.lists(st.integers(-3, 3), max_size=3), st.just(object()), st.just(np.float32(1.5)), st.just(np.int8(-1)),
    st.just(np.array([1, 2])), st.just(np.uint64(2**64 - 1)), st.just(b"\x00"), st.just({1: 2}),
)
INT_RANGES = {  # argument: the range in which an int is accepted by itself
    "num_classes": (3, 2**31 - 1), "batch_size": (1, 2**26), "seed": (0, 2**64 - 1), "num_shards": (1, 2**46),
    "shard_index": (0, 0), "samples_per_epoch": (1, 2**46),
}
LABELS = [0, 1, 1, 2, 2, 2]


def is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def accepted(name: str, value) -> bool:
    """Whether ``value`` of ``name`` is valid by itself (other arguments at their defaults)."""
    if name in INT_RANGES:
        low, high = INT_RANGES[name]
        in_range = is_integer(value) and low <= int(value) <= high
        named = name == "samples_per_epoch" and isinstance(value, str) and value in ("max", "min", "n")
        return in_range or named or (name in ("batch_size", "num_classes", "samples_per_epoch") and value is None)
    if name == "replacement":
        return isinstance(value, (bool, np.bool_))
    return False


def names_it(error: Exception, name: str) -> bool:
    """Whether the message names the argument (a bad label may be named by itself: "label -1 ...")."""
    return name in str(error) or (name == "labels" and "label " in str(error))


@given(name=st.sampled_from([*INT_RANGES, "replacement", "target", "labels"]), value=BAD)
@counted
def test_bad_sampler_arguments_are_named(name, value):
    try:
        if name == "labels":
            BalancedIndexSampler(value)
        else:
            BalancedIndexSampler(LABELS, **{name: value})
    except ERRORS as error:
        # A valid value may still make an epoch too large with the others: then any clear ValueError.
        combination = isinstance(error, ValueError) and (accepted(name, value) or (
            name == "target" and "would repeat a sample" in str(error)))  # e.g. power -19: a tiny weight
        assert names_it(error, name) or combination, (name, value, error)
        return
    assert accepted(name, value) or name in ("target", "labels"), (name, value)


@given(where=st.sampled_from(["epoch", "start", "stop", "out", "iterator.epoch", "iterator.position",
                              "iterator.epochs", "state", "state.epoch", "state.position", "state.fingerprint"]),
       value=BAD, batch_size=st.sampled_from([None, 3]))
@counted
def test_bad_epoch_iterator_and_state_arguments_are_named(where, value, batch_size):
    sampler = BalancedIndexSampler(LABELS, batch_size=batch_size, seed=1)
    state = sampler.iterator().state_dict()
    name = where.split(".")[-1]
    try:
        if where in ("epoch", "start", "stop", "out"):
            sampler.epoch(**{"epoch": 0, where: value})
        elif where.startswith("iterator."):
            sampler.iterator(**{name: value})
        else:
            sampler.iterator().load_state_dict(value if where == "state" else {**state, name: value})
    except (*ERRORS, KeyError) as error:
        assert names_it(error, name) or (name == "stop" and "stop" in str(error)), (where, value, error)
        return
    # Of the values drawn, only the defaults and a number of epochs are valid here.
    assert (value is None and where in ("out", "stop", "iterator.epochs")) or (
        where == "iterator.epochs" and is_integer(value) and int(value) >= 1), (where, value)


@given(name=st.sampled_from(["labels", "mode", "beta", "num_classes"]), value=BAD)
@counted
def test_bad_class_weights_arguments_are_named(name, value):
    arguments = {"labels": LABELS, "mode": "effective_number", name: value}
    try:
        fast_balance.class_weights(**arguments)
    except ERRORS as error:
        assert names_it(error, name), (name, value, error)
        return
    valid_labels = name == "labels" and np.ndim(value) == 1 and len(value) and all(
        is_integer(v) and 0 <= int(v) < 2**31 - 1 for v in value)
    valid_classes = name == "num_classes" and (value is None or (is_integer(value) and int(value) >= 3))
    valid_beta = name == "beta" and not isinstance(value, (bool, np.bool_)) and isinstance(
        value, (float, int, np.floating)) and 0 <= value < 1
    assert valid_labels or valid_classes or valid_beta, (name, value)


@given(name=st.sampled_from(["num_classes", "target", "capacity_per_class", "seed", "on_error", "payloads",
                             "labels", "final"]), value=BAD)
@counted
def test_bad_stream_arguments_are_named(name, value):
    try:
        if name in ("payloads", "labels", "final"):
            push = {"payloads": [b"a", b"b"], "labels": [0, 1], "final": False, name: value}
            StreamRebalancer(3).push(**push)
        else:
            StreamRebalancer(**{"num_classes": 3, name: value})
    except ERRORS as error:
        assert names_it(error, name) or (name == "payloads" and "labels" in str(error)), (name, value, error)
        return
    ok = {
        "num_classes": is_integer(value) and 1 <= int(value) <= 2**27,
        "capacity_per_class": is_integer(value) and 1 <= int(value) < 2**63,
        "seed": is_integer(value) and 0 <= int(value) < 2**64,
        "final": isinstance(value, (bool, np.bool_)),
        "payloads": False, "on_error": False, "target": True,
        "labels": np.ndim(value) == 1 and len(value) == 2 and all(is_integer(v) and 0 <= int(v) < 3 for v in value),
    }
    assert ok[name], (name, value)


@pytest.mark.parametrize("target", [{0: 1, 1: 2}])
def test_rules_here_agree_with_a_known_case(target):
    # The rules above, checked on a case worked out by hand: 2 classes of 3 and 1 samples.
    weights = integer_weights(dense_target(target, [3, 1]))
    assert weights == [1, 2]
    assert epoch_size("max", [3, 1], weights, 1) == 9 and epoch_size("min", [3, 1], weights, 1) == 1
