"""A slow, obviously-correct pure-Python model of sample weights, for exact comparison with the core.

It follows docs/determinism.md ("Sample weights") step by step with Python integers: the weights
as integers, a weighted class's line and its counts per epoch (systematic rounding), the spread of
an epoch's copies, and draws with replacement from an alias table.
"""

from __future__ import annotations

import math
from collections import defaultdict

import reference
from reference import MASK, Stream, mix64, stream_key, stream_value

WEIGHTED_LINE, WEIGHTED_OFFSET, COPY_SPREAD, WEIGHTED_DRAW = 7, 8, 9, 10
WEIGHT_BITS = 31  # a class's largest weight becomes f * 2^31, f in [0.5, 1)
SPREAD_BUCKET = 1 << 15  # draws per bucket of a class's spread
MAX_QUOTIENT = 4  # of a stride's continued fraction
GOLDEN = reference.GOLDEN


def integer_weights(values: list[float]) -> list[int]:
    """One class's weights as the core uses them: multiplied by the power of two that brings the
    largest into [2^30, 2^31) and rounded down, a positive weight staying at least 1."""
    largest = max(values)
    if largest == 0:
        return [0] * len(values)
    exponent = math.frexp(largest)[1]
    return [max(1, math.floor(math.ldexp(v, WEIGHT_BITS - exponent))) if v > 0 else 0 for v in values]


def class_integer_weights(labels: list[int], values: list[float]) -> list[int]:
    """Every sample's integer weight, scaled within its class."""
    out = [0] * len(labels)
    for c in set(labels):
        members = [i for i, label in enumerate(labels) if label == c]
        for i, w in zip(members, integer_weights([values[i] for i in members])):
            out[i] = w
    return out


def line_order(members: list[int], seed: int, class_id: int) -> list[int]:
    """A weighted class's members in the fixed order of its line: inside-out Fisher-Yates over the
    members in ascending order, as a pool pass, with stream key(seed, 7, class, 0)."""
    order = [members[0]] + [0] * (len(members) - 1)
    stream = Stream(stream_key(seed, WEIGHTED_LINE, class_id, 0))
    for i, member in enumerate(members[1:], start=1):
        j = stream.below_u32(i + 1)
        order[i] = order[j]
        order[j] = member
    return order


def epoch_offset(seed: int, class_id: int, epoch: int, total: int) -> int:
    """Where an epoch's first point lies on the line: in [0, W), W the class's total weight."""
    start = stream_value(stream_key(seed, WEIGHTED_OFFSET, class_id, 0), 0)
    rotation = (start + epoch * GOLDEN) & MASK
    return (rotation * total) >> 64


def epoch_counts(weights: list[int], quota: int, offset: int) -> list[int]:
    """Copies of each member (in line order) in an epoch: member t spans [quota * S_t, quota * S_t+1)
    of the line, S_t the weights before it; the epoch's points are offset + k * W, k < quota."""
    total = sum(weights)
    counts = []
    edge = 0
    point = offset
    for w in weights:
        edge += quota * w
        count = 0
        while point < edge:
            point += total
            count += 1
        counts.append(count)
    return counts


def partial_quotients(t: int, size: int) -> list[int]:
    """The partial quotients of t / size (continued fraction [0; a1, a2, ...])."""
    quotients, a, b = [], size, t
    while b:
        quotients.append(a // b)
        a, b = b, a % b
    return quotients


def spread_stride(size: int) -> int:
    """The stride of a bucket of `size` draws: the first t of t0, t0 + 1, t0 - 1, t0 + 2, ... (t0 =
    floor(size * (2 - golden ratio))) in [1, size), coprime to size, whose partial quotients are at
    most 4 and whose inverse u modulo size has min(u, size - u) >= size / 3; without one, the first
    with that min alone; without one either, the first with the largest such min."""
    if size <= 2:
        return 1
    t0 = (size * ((1 << 64) - GOLDEN)) >> 64
    best, best_gap, apart = 0, -1, 0
    for delta in range(size + 1):
        for t in (t0 + delta, t0 - delta) if delta else (t0,):
            if 1 <= t < size and math.gcd(t, size) == 1:
                inverse = pow(t, -1, size)
                gap = min(inverse, size - inverse)
                if 3 * gap >= size and max(partial_quotients(t, size)) <= MAX_QUOTIENT:
                    return t
                if 3 * gap >= size and not apart:
                    apart = t
                if gap > best_gap:
                    best, best_gap = t, gap
    return apart or best


def spread_buckets(quota: int) -> int:
    return -(-quota // SPREAD_BUCKET)


def spread_epoch(samples: list[int], counts: list[int], seed: int, class_id: int, epoch: int) -> list[int]:
    """The class's draws of an epoch in order, from its members (line order) and their counts."""
    quota = sum(counts)
    buckets = spread_buckets(quota)
    key = stream_key(seed, COPY_SPREAD, class_id, epoch)
    contents: list[list[list[int]]] = [[] for _ in range(buckets)]  # per bucket: groups of one sample
    for t, (sample, count) in enumerate(zip(samples, counts)):
        if count == 0:
            continue
        phase = (stream_value(key, t) * buckets) >> 64 if buckets > 1 else 0
        for j in range(count):
            b = (j * buckets + phase) // count
            group = contents[b]
            if group and group[-1][0] == sample:
                group[-1].append(sample)
            else:
                group.append([sample])
    out: list[int] = []
    for b, groups in enumerate(contents):
        stream = Stream(mix64(key ^ mix64(b + 1)))
        stream.shuffle(groups)
        listed = [sample for group in groups for sample in group]
        size = len(listed)
        if size == 0:
            continue
        stride = spread_stride(size)
        inverse = pow(stride, -1, size) if size > 1 else 0
        rotation = stream.below(size)
        if out:  # the bucket must not start with the sample that ended the one before
            for delta in range(size):
                first = listed[(-(rotation + delta) * inverse) % size]
                if first != out[-1]:
                    rotation = (rotation + delta) % size
                    break
        placed = [0] * size
        for k, sample in enumerate(listed):
            placed[(k * stride + rotation) % size] = sample
        out.extend(placed)
    return out


def weighted_class_epoch(members: list[int], weights: list[int], quota: int, seed: int, class_id: int,
                         epoch: int) -> list[int]:
    """Draws of a weighted class (members ascending, their integer weights) in one epoch, in order."""
    by_member = dict(zip(members, weights))
    order = line_order(members, seed, class_id)
    line_weights = [by_member[m] for m in order]
    offset = epoch_offset(seed, class_id, epoch, sum(weights))
    counts = epoch_counts(line_weights, quota, offset)
    return spread_epoch(order, counts, seed, class_id, epoch)


def alias_table(weights: list[int]) -> list[tuple[int, int]]:
    """(threshold, alias) per member: Vose's method in integers, column capacity W = sum of weights,
    member i's mass n * w_i; small and large members on stacks in ascending order, the top taken."""
    n, total = len(weights), sum(weights)
    mass = [n * w for w in weights]
    threshold = [total] * n
    alias = list(range(n))
    small = [i for i in range(n) if mass[i] < total]
    large = [i for i in range(n) if mass[i] >= total]
    while small and large:
        s, g = small.pop(), large.pop()
        threshold[s], alias[s] = mass[s], g
        mass[g] -= total - mass[s]
        (small if mass[g] < total else large).append(g)
    return list(zip(threshold, alias))


def weighted_draw(table: list[tuple[int, int]], total: int, key: int, draw: int) -> int:
    """Member of draw G with replacement: column from value 2G, kept if value 2G + 1 scaled to
    [0, W) is below its threshold, else its alias."""
    column = (stream_value(key, 2 * draw) * len(table)) >> 64
    threshold, alias = table[column]
    return column if (stream_value(key, 2 * draw + 1) * total) >> 64 < threshold else alias


class WeightedClasses:
    """Per class of a labelled set: its draws in an epoch, by sample weight where they differ."""

    def __init__(self, labels, num_classes, quotas, values, seed, replacement):
        self.labels, self.quotas, self.seed, self.replacement = labels, quotas, seed, replacement
        self.members = reference.class_members(labels, num_classes)
        self.weights = class_integer_weights(labels, values)

    def uniform(self, c: int) -> bool:
        return len({self.weights[i] for i in self.members[c]}) == 1

    def draws(self, c: int, epoch: int) -> list[int]:
        """Class c's draws of the epoch in order."""
        members, quota = self.members[c], self.quotas[c]
        weights = [self.weights[i] for i in members]
        if self.uniform(c):
            if self.replacement:
                key = stream_key(self.seed, reference.REPLACEMENT_DRAW, c, 0)
                return [members[(stream_value(key, epoch * quota + k) * len(members)) >> 64] for k in range(quota)]
            n = len(members)
            return [reference.pool_pass(members, self.seed, c, g // n)[g % n]
                    for g in range(epoch * quota, (epoch + 1) * quota)]
        if self.replacement:
            table, key = alias_table(weights), stream_key(self.seed, WEIGHTED_DRAW, c, 0)
            return [members[weighted_draw(table, sum(weights), key, epoch * quota + k)] for k in range(quota)]
        return weighted_class_epoch(members, weights, quota, self.seed, c, epoch)


def with_repeats(indices: list[int]) -> list[int]:
    seen: dict[int, int] = defaultdict(int)
    repeats = []
    for index in indices:
        repeats.append(seen[index])
        seen[index] += 1
    return repeats


def unbatched_epoch(labels, num_classes, weights, samples_per_epoch, epoch, seed, replacement, sample_weights):
    """(indices, labels, repeats) of a whole unbatched, unsharded epoch with sample weights."""
    quotas = reference.apportion(samples_per_epoch, weights)
    slots = reference.arrange_slots(quotas, stream_key(seed, reference.EPOCH_ORDER, epoch, 0))
    return draws_for_slots(labels, num_classes, quotas, slots, epoch, seed, replacement, sample_weights), slots


def draws_for_slots(labels, num_classes, quotas, slots, epoch, seed, replacement, sample_weights):
    """(indices, repeats) of an epoch whose class at each position is `slots`."""
    classes = WeightedClasses(labels, num_classes, quotas, sample_weights, seed, replacement)
    draws = {c: iter(classes.draws(c, epoch)) for c in set(slots)}
    indices = [next(draws[c]) for c in slots]
    return indices, with_repeats(indices)


def weighted_sampler_epoch(values, samples_per_epoch, epoch, seed, replacement):
    """(indices, repeats) of a whole epoch of WeightedIndexSampler: one class, id 0, of every sample."""
    members = list(range(len(values)))
    weights = integer_weights(values)
    if replacement:
        table, key = alias_table(weights), stream_key(seed, WEIGHTED_DRAW, 0, 0)
        indices = [weighted_draw(table, sum(weights), key, epoch * samples_per_epoch + k)
                   for k in range(samples_per_epoch)]
    else:
        indices = weighted_class_epoch(members, weights, samples_per_epoch, seed, 0, epoch)
    return indices, with_repeats(indices)
