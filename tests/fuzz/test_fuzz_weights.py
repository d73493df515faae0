"""(w) Per-sample weights, label sets and repeat factors, target schedules: the documented contract
on valid input, and a clear error naming the argument on invalid input.

The integer weights the core draws by, the apportionment of an epoch, the repeat factors and the
epoch length of repeat factor sampling are derived here from the documented rules
(docs/determinism.md "Sample weights", docs/guide/weights.md, docs/guide/multi-label.md,
docs/guide/schedules.md and the docstrings), not with the package's own helpers.
"""

from __future__ import annotations

import math
import pickle
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import scipy.sparse
from fuzz_support import counted, examples
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from weighted_reference import with_repeats

import fast_balance
from fast_balance import BalancedIndexSampler, WeightedIndexSampler
from fast_balance.schedules import Blend, PowerSchedule, ProgressivelyBalanced, TwoStage

ERRORS = (ValueError, TypeError)


# -- the documented rules ------------------------------------------------------------------------

def core_integers(weights: list[float]) -> list[int]:
    """The weights times the power of two that brings the largest into [2^30, 2^31), rounded down,
    a positive weight that rounds to 0 kept at 1 (docs/determinism.md, Integer weights)."""
    _, exponent = math.frexp(max(weights))  # largest = f * 2^exponent, f in [0.5, 1)
    scaled = [math.floor(math.ldexp(w, 31 - exponent)) for w in weights]
    return [max(s, 1) if w > 0 else 0 for s, w in zip(scaled, weights)]


def apportion(size: int, weights: list[int]) -> list[int]:
    """Largest-remainder split of ``size`` in proportion to ``weights``, ties to the lower id."""
    total = sum(weights)
    quotas = [size * w // total for w in weights]
    order = sorted(range(len(weights)), key=lambda c: (-(size * weights[c] % total), c))
    for c in order[: size - sum(quotas)]:
        quotas[c] += 1
    return quotas


def floor_or_ceil(count: int, expected: Fraction) -> bool:
    return math.floor(expected) <= count <= math.ceil(expected)


def shard_of(values: list, batch_size: int | None, num_shards: int, shard_index: int) -> list:
    """A shard's part of a global epoch: batches (unbatched: positions) s, s + S, ..."""
    step = batch_size or 1
    rows = [values[k : k + step] for k in range(0, len(values), step)]
    return [v for row in rows[shard_index::num_shards] for v in row]


def lvis_factors(rows: list[list[int]], threshold: float) -> list[float]:
    """r(i) = max over the classes c of image i of max(1, sqrt(t / f(c))); 1 for an empty set."""
    counts = Counter(c for row in rows for c in set(row))
    per_class = {c: max(1.0, math.sqrt(threshold / (n / len(rows)))) for c, n in counts.items()}
    return [max((per_class[c] for c in row), default=1.0) for row in rows]


def repeat_epoch_size(factors: list[float], unit: int) -> int:
    """sum floor(r_i) plus the whole part of the fractions' sum, rounded down to a multiple of unit
    where that keeps it at or above sum floor(r_i), then up to a multiple of unit by the sampler."""
    floors = sum(math.floor(r) for r in factors)
    total = floors + math.floor(sum(r - math.floor(r) for r in factors) + 1e-9)
    if total % unit and total - total % unit >= floors:
        total -= total % unit
    return -(-total // unit) * unit


# -- strategies ----------------------------------------------------------------------------------

WEIGHT = st.one_of(
    st.integers(0, 20).map(float), st.sampled_from([0.0, 0.5, 0.25, 0.125, 1.5, 3.75]),
    st.floats(0, 1e6), st.floats(1e-300, 1e-3),
)
WEIGHT_FORMS = ["list", "tuple", "float64", "float32", ">f8", "int64", "uint16", "strided"]


def weight_form(values: list[float], form: str):
    if form in ("int64", "uint16") and not all(v == int(v) and v < 2**16 for v in values):
        form = "float64"
    if form == "list":
        return list(values)
    if form == "tuple":
        return tuple(values)
    if form == "strided":
        return np.repeat(np.array(values), 2)[::2]
    return np.array(values, dtype=form)


@st.composite
def weight_cases(draw, max_size=120):
    values = draw(st.lists(WEIGHT, min_size=1, max_size=max_size))
    given_weights = weight_form(values, draw(st.sampled_from(WEIGHT_FORMS)))
    as_floats = np.asarray(given_weights, dtype=np.float64).tolist()  # what an array_like of float reads as
    assume(any(w > 0 for w in as_floats))
    return given_weights, as_floats


# -- WeightedIndexSampler ------------------------------------------------------------------------

@settings(max_examples=examples(1))
@given(case=weight_cases(), samples_per_epoch=st.one_of(st.just("n"), st.integers(1, 2000)),
       replacement=st.booleans(), batch_size=st.one_of(st.none(), st.integers(1, 16)),
       num_shards=st.sampled_from([1, 1, 2, 3]), seed=st.integers(0, 2**64 - 1),
       epoch=st.one_of(st.integers(0, 5), st.integers(0, 2**30)), data=st.data())
@counted
def test_weighted_epochs_follow_the_contract(case, samples_per_epoch, replacement, batch_size, num_shards, seed,
                                             epoch, data):
    given_weights, floats = case
    unit = (batch_size or 1) * num_shards
    base = len(floats) if samples_per_epoch == "n" else samples_per_epoch
    size = -(-base // unit) * unit
    options = dict(replacement=replacement, batch_size=batch_size, seed=seed)
    whole_sampler = WeightedIndexSampler(given_weights, samples_per_epoch=size, **options)
    assert whole_sampler.samples_per_epoch == size and len(whole_sampler) == size
    integers = core_integers(floats)
    total = sum(integers)
    expected = [Fraction(size * w, total) for w in integers]
    assert np.allclose(whole_sampler.expected_counts, [float(m) for m in expected], rtol=1e-12, atol=0)
    whole = whole_sampler.epoch(epoch)
    indices, repeats = whole.indices.tolist(), whole.repeats.tolist()
    assert len(indices) == size and whole.indices.dtype == np.int64 and whole.repeats.dtype == np.int32
    counts = Counter(indices)
    assert set(counts) <= {i for i, w in enumerate(integers) if w > 0}, "a sample of weight 0 was drawn"
    if not replacement:
        bad = [(i, counts[i], expected[i]) for i in range(len(floats)) if not floor_or_ceil(counts[i], expected[i])]
        assert not bad, f"(sample, count, expected) not floor or ceil: {bad[:5]}"
    assert repeats == with_repeats(indices)
    # The same seed gives the same stream; pickling round-trips it; the iterator walks it.
    again = WeightedIndexSampler(given_weights, samples_per_epoch=size, **options)
    assert again.fingerprint == whole_sampler.fingerprint and again.epoch(epoch).indices.tolist() == indices
    copy = pickle.loads(pickle.dumps(whole_sampler))
    assert copy.fingerprint == whole_sampler.fingerprint
    assert [a.tolist() for a in copy.epoch(epoch)] == [indices, repeats]
    walked = list(whole_sampler.iterator(epoch, 0, epochs=1))
    assert [v for item in walked for v in np.atleast_1d(item).tolist()] == indices
    # Shards (given the unrounded samples_per_epoch: they round it up alike) own batches s, s + S, ...
    given_size = samples_per_epoch if data.draw(st.booleans()) else size
    union: Counter = Counter()
    for shard_index in range(num_shards):
        shard = WeightedIndexSampler(given_weights, samples_per_epoch=given_size, num_shards=num_shards,
                                     shard_index=shard_index, **options)
        assert shard.samples_per_epoch == size and len(shard) == size // num_shards
        got = shard.epoch(epoch)
        want = [shard_of(indices, batch_size, num_shards, shard_index),
                shard_of(repeats, batch_size, num_shards, shard_index)]
        assert [got.indices.tolist(), got.repeats.tolist()] == want
        union.update(want[0])
        # Any slice of the shard, new arrays or written into reused ones.
        start = data.draw(st.integers(0, len(shard)))
        stop = data.draw(st.integers(start, len(shard)))
        out = shard.epoch(epoch + 1) if data.draw(st.booleans()) else None
        part = shard.epoch(epoch, start, stop, out=out)
        assert [part.indices.tolist(), part.repeats.tolist()] == [w[start:stop] for w in want]
    assert union == counts


@settings(max_examples=examples(0.5))
@given(weights=st.lists(WEIGHT, min_size=1, max_size=30).filter(lambda w: any(v > 0 for v in w)),
       samples_per_epoch=st.integers(1, 100), seed=st.integers(0, 2**64 - 1), first=st.integers(0, 2**20))
@counted
def test_weighted_extra_copies_come_back_at_most_three_gaps_apart(weights, samples_per_epoch, seed, first):
    # Without replacement a sample expected m_i times comes floor(m_i) or ceil(m_i) times, the
    # extra copy in epochs at most three different gaps apart (three-distance theorem).
    sampler = WeightedIndexSampler(weights, samples_per_epoch=samples_per_epoch, seed=seed)
    integers = core_integers(weights)
    expected = [Fraction(samples_per_epoch * w, sum(integers)) for w in integers]
    extra: dict[int, list[int]] = {i: [] for i, m in enumerate(expected) if m.denominator != 1}
    for e in range(first, first + 48):
        counts = Counter(sampler.epoch(e).indices.tolist())
        for i, m in enumerate(expected):
            assert floor_or_ceil(counts[i], m), (e, i, counts[i], m)
            if i in extra and counts[i] > math.floor(m):
                extra[i].append(e)
    for i, epochs in extra.items():
        gaps = {b - a for a, b in zip(epochs, epochs[1:])}
        assert len(gaps) <= 3, (i, expected[i], epochs)


# -- BalancedIndexSampler with sample_weights ----------------------------------------------------

@st.composite
def labelled_cases(draw, max_per_class=30):
    # Every class present: "balanced" and powers <= 0 refuse absent classes (tested in test_fuzz_api).
    counts = draw(st.lists(st.integers(1, max_per_class), min_size=1, max_size=6))
    labels = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(draw(st.integers(0, 2**32))).shuffle(labels)
    return labels, counts


@settings(max_examples=examples(1))
@given(case=labelled_cases(), data=st.data(), replacement=st.booleans(),
       batch_size=st.one_of(st.none(), st.integers(1, 12)), seed=st.integers(0, 2**64 - 1),
       epoch=st.one_of(st.integers(0, 5), st.integers(0, 2**20)))
@counted
def test_sample_weights_keep_the_quotas_and_weigh_inside_each_class(case, data, replacement, batch_size, seed, epoch):
    labels, counts = case
    target = data.draw(st.one_of(
        st.sampled_from(["balanced", "instance", 0.5]),
        st.lists(st.integers(0, 9), min_size=len(counts), max_size=len(counts))
        .map(lambda w: [x if n else 0 for x, n in zip(w, counts)]).filter(any),
    ))
    samples_per_epoch = data.draw(st.one_of(st.sampled_from(["max", "min", "n"]), st.integers(1, 800)))
    weights = data.draw(st.lists(WEIGHT, min_size=labels.size, max_size=labels.size))
    given_weights = weight_form(weights, data.draw(st.sampled_from(WEIGHT_FORMS)))
    floats = np.asarray(given_weights, dtype=np.float64).tolist()
    options = dict(target=target, samples_per_epoch=samples_per_epoch, replacement=replacement,
                   batch_size=batch_size, seed=seed)
    plain = BalancedIndexSampler(labels, **options)
    assume(plain.samples_per_epoch <= 3000)
    drawn = [c for c, n in enumerate(counts) if n and (isinstance(target, (str, float)) or target[c] > 0)]
    empty = [c for c in drawn if not any(w > 0 for w, label in zip(floats, labels.tolist()) if label == c)]
    if empty:  # a class the target draws from whose weights are all zero: refused, naming it
        try:
            BalancedIndexSampler(labels, sample_weights=given_weights, **options)
        except ValueError as error:
            assert "sample_weights" in str(error), error
            return
        raise AssertionError(f"classes {empty} have only zero weights but were accepted")
    weighted = BalancedIndexSampler(labels, sample_weights=given_weights, **options)
    quotas = plain.quotas.tolist()
    assert weighted.quotas.tolist() == quotas and weighted.samples_per_epoch == plain.samples_per_epoch
    assert len(weighted) == len(plain)
    # Inside class c, sample i is expected quota_c * w_i / W_c times, from the class's integers.
    expected = [Fraction(0)] * labels.size
    unequal = set()
    for c in range(len(counts)):
        members = np.flatnonzero(labels == c).tolist()
        if not members:
            continue
        integers = core_integers([floats[i] for i in members])
        if len(set(integers)) > 1:
            unequal.add(c)
        for i, w in zip(members, integers):  # a class of weight 0 in the target may weigh 0 throughout
            expected[i] = Fraction(quotas[c] * w, sum(integers)) if quotas[c] else Fraction(0)
    assert np.allclose(weighted.expected_counts, [float(m) for m in expected], rtol=1e-12, atol=0)
    got = weighted.epoch(epoch)
    indices = got.indices.tolist()
    assert got.labels.tolist() == labels[got.indices].tolist()
    assert np.bincount(got.labels, minlength=len(counts)).tolist() == quotas
    assert got.repeats.tolist() == with_repeats(indices)
    drawn_counts = Counter(indices)
    assert all(expected[i] > 0 for i in drawn_counts), "a sample of weight 0 was drawn"
    if not replacement:  # a class of equal weights is a pool: floor or ceil per pass, not per epoch
        bad = [(i, drawn_counts[i], expected[i]) for i in range(labels.size)
               if labels[i] in unequal and not floor_or_ceil(drawn_counts[i], expected[i])]
        assert not bad, f"(sample, count, expected) not floor or ceil: {bad[:5]}"
    again = pickle.loads(pickle.dumps(weighted))
    assert again.fingerprint == weighted.fingerprint and again.epoch(epoch).indices.tolist() == indices


@settings(max_examples=examples(1))
@given(case=labelled_cases(), per_class=st.lists(st.one_of(st.integers(1, 9).map(float), st.floats(1e-6, 1e6)),
                                                  min_size=6, max_size=6),
       replacement=st.booleans(), batch_size=st.one_of(st.none(), st.integers(1, 12)),
       seed=st.integers(0, 2**64 - 1), epoch=st.integers(0, 1000))
@counted
def test_equal_weights_in_each_class_change_no_stream(case, per_class, replacement, batch_size, seed, epoch):
    # "equal weights give the very same stream, byte for byte, and the same fingerprint"
    labels, _ = case
    options = dict(replacement=replacement, batch_size=batch_size, seed=seed)
    plain = BalancedIndexSampler(labels, **options)
    weighted = BalancedIndexSampler(labels, sample_weights=np.array(per_class)[labels], **options)
    assert weighted.fingerprint == plain.fingerprint
    assert [a.tolist() for a in weighted.epoch(epoch)] == [a.tolist() for a in plain.epoch(epoch)]


# -- label sets and repeat factor sampling -------------------------------------------------------

@st.composite
def label_set_cases(draw):
    num_classes = draw(st.integers(1, 8))
    rows = draw(st.lists(st.lists(st.integers(0, num_classes - 1), max_size=4), min_size=1, max_size=150))
    # Rare classes: most images hold one common class.
    if draw(st.booleans()):
        rows = [row or [0] for row in rows] + [[0]] * draw(st.integers(0, 150))
    form = draw(st.sampled_from(["lists", "tuples", "sets", "dense", "bool", "csr_tuple", "sparse", "label_sets"]))
    clean = [sorted(set(row)) for row in rows]
    width = max([c + 1 for row in rows for c in row], default=1)
    if form == "lists":
        given_sets = [list(row) for row in rows]
    elif form == "tuples":
        given_sets = tuple(tuple(row) for row in rows)
    elif form == "sets":
        given_sets = [set(row) for row in rows]
    elif form in ("dense", "bool", "sparse"):
        matrix = np.zeros((len(rows), width), dtype=np.bool_ if form == "bool" else np.float32)
        for i, row in enumerate(clean):
            matrix[i, row] = 1
        given_sets = scipy.sparse.csr_matrix(matrix) if form == "sparse" else matrix
    else:
        indptr = np.cumsum([0] + [len(row) for row in rows])
        indices = np.array([c for row in rows for c in row], dtype=np.int32)
        given_sets = (indptr, indices)
        if form == "label_sets":
            given_sets = fast_balance.as_label_sets(given_sets)
    return given_sets, clean, width


@settings(max_examples=examples(1))
@given(case=label_set_cases(), threshold=st.one_of(st.floats(1e-4, 1), st.sampled_from([1e-3, 0.08, 0.5, 1.0])),
       batch_size=st.one_of(st.none(), st.integers(1, 8)), num_shards=st.sampled_from([1, 1, 2]),
       seed=st.integers(0, 2**64 - 1), epoch=st.one_of(st.integers(0, 5), st.integers(0, 2**20)))
@counted
def test_repeat_factor_sampling_follows_lvis(case, threshold, batch_size, num_shards, seed, epoch):
    given_sets, clean, width = case
    sets = fast_balance.as_label_sets(given_sets)
    assert sets.num_samples == len(clean) and sets.num_classes == width
    assert [sets[i].tolist() for i in range(len(clean))] == clean
    assert sets.indptr.tolist() == np.cumsum([0] + [len(row) for row in clean]).tolist()
    factors = fast_balance.repeat_factors(given_sets, threshold=threshold)
    want = lvis_factors(clean, threshold)
    assert np.allclose(factors, want, rtol=1e-12, atol=0), (factors.tolist(), want)
    unit = (batch_size or 1) * num_shards
    size = repeat_epoch_size(want, unit)
    options = dict(batch_size=batch_size, seed=seed)
    whole = fast_balance.repeat_factor_sampler(given_sets, threshold, **options)
    assert whole.samples_per_epoch == repeat_epoch_size(want, batch_size or 1)
    counts = Counter(whole.epoch(epoch).indices.tolist())
    eps = 1e-9
    # An epoch that cannot be cut to whole batches at or above sum floor(r_i) is rounded up by the
    # sampler, and then images may come more than ceil(r_i) times (see the report of this module):
    # floor or ceil is checked where no rounding up is needed, at least floor(r_i) always.
    def high(samples: int):
        exact = samples == repeat_epoch_size(want, 1)
        return (lambda r: math.ceil(r + eps)) if exact else (lambda r: math.inf)

    top = high(whole.samples_per_epoch)
    bad = [(i, counts[i], r) for i, r in enumerate(want) if not math.floor(r - eps) <= counts[i] <= top(r)]
    assert not bad, f"(image, count, r) not floor or ceil of r: {bad[:5]}"
    union: Counter = Counter()
    for shard_index in range(num_shards):
        shard = fast_balance.repeat_factor_sampler(given_sets, threshold, num_shards=num_shards,
                                                   shard_index=shard_index, **options)
        assert shard.samples_per_epoch == size
        union.update(shard.epoch(epoch).indices.tolist())
    assert sum(union.values()) == size
    top = high(size)
    bad = [(i, union[i], r) for i, r in enumerate(want) if not math.floor(r - eps) <= union[i] <= top(r)]
    assert not bad, f"sharded: (image, count, r) not floor or ceil of r: {bad[:5]}"


# -- target schedules ----------------------------------------------------------------------------

SIMPLE_TARGETS = st.sampled_from(["balanced", "instance", 0.5, 0.0, 1.0, 2.0])


@st.composite
def schedules(draw):
    kind = draw(st.sampled_from(["progressive", "two_stage", "power"]))
    if kind == "progressive":
        return ProgressivelyBalanced(epochs=draw(st.integers(1, 12)), start=draw(SIMPLE_TARGETS),
                                     end=draw(SIMPLE_TARGETS))
    if kind == "two_stage":
        return TwoStage(draw(SIMPLE_TARGETS), draw(SIMPLE_TARGETS), switch=draw(st.integers(0, 12)))
    return PowerSchedule(draw(st.one_of(st.floats(0.01, 1.0), st.sampled_from([0.5, 0.9, 1.0]))))


def integer_target(target, counts: list[int]) -> list[int] | None:
    """Integer weights of a target whose weights are integers by the documented rules, else None."""
    if target == "balanced" or target == 0.0:
        return [1 if n else 0 for n in counts]
    if target == "instance" or target == 1.0:
        return list(counts)
    if target == 2.0:
        return [n * n for n in counts]
    return None


@settings(max_examples=examples(0.5))
@given(case=labelled_cases(), schedule=schedules(), samples_per_epoch=st.one_of(st.just("n"), st.integers(1, 400)),
       replacement=st.booleans(), batch_size=st.one_of(st.none(), st.integers(1, 8)),
       num_shards=st.sampled_from([1, 1, 2]), seed=st.integers(0, 2**64 - 1), last=st.integers(0, 24))
@counted
def test_scheduled_epochs_have_the_quotas_of_their_target(case, schedule, samples_per_epoch, replacement, batch_size,
                                                          num_shards, seed, last):
    labels, counts = case
    options = dict(samples_per_epoch=samples_per_epoch, replacement=replacement, batch_size=batch_size, seed=seed,
                   num_shards=num_shards)
    sampler = BalancedIndexSampler(labels, target=schedule, **options)
    unit = (batch_size or 1) * num_shards
    size = -(-(labels.size if samples_per_epoch == "n" else samples_per_epoch) // unit) * unit
    assert sampler.samples_per_epoch == size and len(sampler) == size // num_shards
    drawn = np.zeros(labels.size, dtype=np.int64)
    origin = [0] * len(counts)
    for e in range(last + 1):
        target = schedule(e)
        if isinstance(schedule, ProgressivelyBalanced):
            assert target == Blend(schedule.start, schedule.end, min(e / schedule.epochs, 1.0))
        elif isinstance(schedule, TwoStage):
            assert target == (schedule.first if e < schedule.switch else schedule.then)
        else:
            assert target == schedule.lam**e
        fixed = BalancedIndexSampler(labels, target=target, **options)
        quotas = sampler.quotas_at(e).tolist()
        assert quotas == fixed.quotas.tolist(), (e, target)
        integers = integer_target(target, counts)
        if integers is not None:
            assert quotas == apportion(size, integers), (e, target)
        whole = [sampler.epoch(e)] if num_shards == 1 else [
            BalancedIndexSampler(labels, target=schedule, **{**options, "shard_index": s}).epoch(e)
            for s in range(num_shards)]
        epoch_labels = np.concatenate([part.labels for part in whole])
        assert np.bincount(epoch_labels, minlength=len(counts)).tolist() == quotas
        np.add.at(drawn, np.concatenate([part.indices for part in whole]), 1)
        origin = [o + q for o, q in zip(origin, quotas)]
        if not replacement:
            # Pools carry: over epochs 0..e every sample of class c comes floor or ceil of O_c / n_c.
            expected = [Fraction(origin[c], counts[c]) for c in labels.tolist()]
            bad = [(i, int(drawn[i]), m) for i, m in enumerate(expected) if not floor_or_ceil(int(drawn[i]), m)]
            assert not bad, f"epoch {e}: (sample, draws so far, expected) {bad[:5]}"
    again = pickle.loads(pickle.dumps(sampler))
    assert again.fingerprint == sampler.fingerprint
    assert again.epoch(last).indices.tolist() == sampler.epoch(last).indices.tolist()


# -- invalid input: a clear error naming the argument --------------------------------------------

BAD = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.floats(), st.complex_numbers(max_magnitude=10),
    st.integers(-(2**70), -1), st.integers(2**63, 2**70), st.just(2**64), st.just(10**400),
    st.lists(st.integers(-3, 3), max_size=3), st.just(object()), st.just(np.float32(1.5)), st.just(np.int8(-1)),
    st.just(np.array([1, 2])), st.just(np.array([])), st.just(np.uint64(2**64 - 1)), st.just(b"\x00"),
    st.just({1: 2}), st.just(iter([1.0, 2.0])), st.just(Fraction(1, 3)),
)
BAD_WEIGHTS = st.one_of(
    BAD,
    st.lists(st.sampled_from([math.nan, math.inf, -math.inf, -1.0, -0.0, 0.0, 1.0, 5e-324, 1e308]), min_size=1,
             max_size=6),
    st.just([]), st.just([[1.0, 2.0]]), st.just(np.zeros((2, 3))), st.just(np.array([True, False])),
    st.just(["1", "2"]), st.just([1, None]), st.just([1, 2**70]), st.just(np.array([1 + 1j])),
    st.just(np.array([1, 2**64 - 1], dtype=np.uint64)), st.just(np.array([0.0, np.nan], dtype=np.float16)),
    st.integers(1, 8).map(lambda n: [1.0] * n),
)
SIZES = st.one_of(BAD, st.integers(1, 2**47), st.sampled_from([2**31 - 1, 2**31, 2**46, 2**46 + 1, "n", "max"]))
LAYOUT_RANGES = {"batch_size": (1, 2**26), "seed": (0, 2**64 - 1), "num_shards": (1, 2**46), "shard_index": (0, 0)}


def is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def real(value) -> float | None:
    """``value`` as a float if it is a real number (not a bool; huge ints as inf), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, Fraction, np.integer, np.floating)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def valid_weights(value, size: int | None) -> bool:
    """Whether ``value`` is one finite, non-negative, not-all-zero number per sample (1-D, numeric)."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray)):
        return False
    if not all(real(v) is not None for v in np.asarray(value, dtype=object).ravel()):
        return False
    array = np.asarray(value)
    if array.dtype.kind not in "iuf" or array.ndim != 1 or array.size == 0 or (size and array.size != size):
        return False
    floats = array.astype(np.float64)
    return bool(np.all(np.isfinite(floats)) and np.all(floats >= 0) and np.any(floats > 0))


def layout_accepted(name: str, value) -> bool:
    if name == "replacement":
        return isinstance(value, (bool, np.bool_))
    low, high = LAYOUT_RANGES[name]
    return (is_integer(value) and low <= int(value) <= high) or (name == "batch_size" and value is None)


@given(name=st.sampled_from(["weights", "samples_per_epoch", "replacement", *LAYOUT_RANGES]), data=st.data())
@counted
def test_bad_weighted_sampler_arguments_are_named(name, data):
    value = data.draw({"weights": BAD_WEIGHTS, "samples_per_epoch": SIZES}.get(name, BAD))
    arguments = {"weights": [1.0, 2.0, 0.5], "samples_per_epoch": 12, name: value}
    try:
        WeightedIndexSampler(arguments.pop("weights"), **arguments)
    except ERRORS as error:
        # A valid value may still make an epoch too large with the others: then any clear ValueError.
        combination = isinstance(error, ValueError) and name in ("samples_per_epoch", "num_shards", "batch_size")
        combination = combination and "would draw a sample 2^31 - 1 or more times" in str(error)
        assert name in str(error) or combination, (name, value, error)
        return
    if name == "weights":
        assert valid_weights(value, None), value
    elif name == "samples_per_epoch":
        assert value == "n" or (is_integer(value) and 1 <= int(value) <= 2**46), value
    else:
        assert layout_accepted(name, value), (name, value)


@given(value=BAD_WEIGHTS, labels=st.sampled_from([[0, 1, 1, 2, 2, 2], [0] * 6, [0, 1]]))
@counted
def test_bad_sample_weights_are_named(value, labels):
    try:
        BalancedIndexSampler(labels, sample_weights=value)
    except ERRORS as error:
        assert "sample_weights" in str(error), (value, error)
        return
    if value is None:  # the default
        return
    assert valid_weights(value, len(labels)), value
    floats = np.asarray(value, dtype=np.float64)
    with np.errstate(over="ignore"):  # 1e308 + 1e308 is inf, still positive
        assert all(floats[np.array(labels) == c].sum() > 0 for c in set(labels)), value  # every class drawn


@given(value=st.one_of(BAD, st.sampled_from([-1.0, math.nan, [1, -1, 1], {0: -1}, "bogus", {7: 1.0}, [1, 2]])),
       switch=st.integers(0, 3), ask=st.integers(0, 5), samples_per_epoch=st.sampled_from(["n", "max", "min", 30]))
@counted
def test_bad_scheduled_targets_fail_naming_the_epoch(value, switch, ask, samples_per_epoch):
    # A schedule returning an invalid target fails when that epoch, or a later one, is asked for.
    labels = [0, 1, 1, 2, 2, 2]
    try:
        sampler = BalancedIndexSampler(labels, target=TwoStage("balanced", value, switch),
                                       samples_per_epoch=samples_per_epoch)
        sampler.quotas_at(ask)
        sampler.epoch(ask)
    except ERRORS as error:
        if samples_per_epoch in ("max", "min"):
            assert isinstance(error, ValueError) and "samples_per_epoch" in str(error), error
        else:
            assert "target" in str(error) and "epoch" in str(error), (value, error)
            assert ask >= switch, "an epoch before the switch failed"
        return
    assert samples_per_epoch not in ("max", "min"), "a schedule accepted samples_per_epoch='max' or 'min'"


BAD_SETS = st.one_of(
    st.tuples(BAD, st.just(False)),
    st.tuples(st.sampled_from([
        [[0, -1]], [[0.5]], [["a"]], [[True]], [[2**70]], [[0], 1], [["0"]], [[None]], [b"\x01"], ["ab"],
        np.zeros((2, 2, 2)), np.array([[0.0, np.nan]]), np.array([["a", "b"]]),
        (np.array([1, 2]), np.array([0, 1])), (np.array([0, 2, 1]), np.array([0])), (np.array([0, 3]), np.array([0])),
        (np.array([0.0, 1.0]), np.array([0])), (np.array([0, 1]), np.array([-1])), (np.array([0, 1]), np.array([0.5])),
        (np.array([0, 1], dtype=np.uint64), np.array([2**63], dtype=np.uint64)),
        scipy.sparse.csr_matrix(np.array([[np.inf, 1.0]])), (np.array([], dtype=np.int64), np.array([0])),
    ]), st.just(False)),
    st.tuples(st.sampled_from([[], [[]], [[0, 0, 3], [2]], np.eye(3), [range(3)], (np.array([0, 1]), np.array([4]))]),
              st.just(True)),
)


@given(case=BAD_SETS, name=st.sampled_from(["label_sets", "num_classes", "threshold", "batch_size", "num_shards",
                                             "seed", "replacement", "shard_index", "samples_per_epoch"]),
       function=st.sampled_from(["as_label_sets", "repeat_factors", "repeat_factor_sampler"]), data=st.data())
@counted
def test_bad_label_set_arguments_are_named(case, name, function, data):
    if (name not in ("label_sets", "num_classes") and function == "as_label_sets") or (
            name not in ("label_sets", "num_classes", "threshold") and function == "repeat_factors"):
        function = "repeat_factor_sampler"
    sets, sets_valid = case if name == "label_sets" else ([[0], [0, 1], [2], []], True)
    value = sets if name == "label_sets" else data.draw(BAD)
    options = {} if name == "label_sets" else {name: value}
    try:
        if function == "as_label_sets":
            result = fast_balance.as_label_sets(sets, **options)
            assert result.indptr[0] == 0 and np.all(np.diff(result.indptr) >= 0)
            assert result.indptr[-1] == result.indices.size
        elif function == "repeat_factors":
            assert np.all(fast_balance.repeat_factors(sets, **options) >= 1)
        else:
            threshold = options.pop("threshold", 0.5)
            fast_balance.repeat_factor_sampler(sets, threshold, **options)
    except ERRORS as error:
        if name == "label_sets" and function != "as_label_sets" and str(error) == "label_sets: no samples":
            return  # [] is a valid set of no samples, and no repeat factors
        assert name in str(error), (function, name, value, error)
        return
    if name == "label_sets":
        empty = isinstance(sets, (list, tuple, np.ndarray)) and len(sets) == 0  # a valid set of no samples
        # An iterator is read as the sets it yields; hypothesis hands the same one, exhausted, again.
        assert sets_valid or empty or isinstance(sets, Iterator), (function, sets)
    elif name == "num_classes":
        assert (value is None or (is_integer(value) and 3 <= int(value) < 2**31)), (function, value)
    elif name == "threshold":
        assert real(value) is not None and 0 < real(value) <= 1, value
    else:
        assert name != "samples_per_epoch" and layout_accepted(name, value), (name, value)


@given(name=st.sampled_from(["epochs", "switch", "lam", "fraction", "epoch"]), value=BAD,
       schedule=st.sampled_from([ProgressivelyBalanced(4), TwoStage("instance", "balanced", 2), PowerSchedule(0.5)]))
@counted
def test_bad_schedule_arguments_are_named(name, value, schedule):
    try:
        if name == "epochs":
            ProgressivelyBalanced(epochs=value)
        elif name == "switch":
            TwoStage("instance", "balanced", switch=value)
        elif name == "lam":
            PowerSchedule(value)
        elif name == "fraction":
            Blend("instance", "balanced", value)
        else:
            schedule(value)
    except ERRORS as error:
        assert name in str(error), (name, value, error)
        return
    ok = {"epochs": is_integer(value) and int(value) >= 1, "switch": is_integer(value) and int(value) >= 0,
          "lam": real(value) is not None and 0 < real(value) <= 1,
          "fraction": real(value) is not None and 0 <= real(value) <= 1,
          "epoch": is_integer(value) and int(value) >= 0}
    assert ok[name], (name, value)
