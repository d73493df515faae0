"""A slow, obviously-correct pure-Python model of the sampler's semantics, for exact comparison.

It follows the documented derivation (docs/determinism.md) step by step, with
Python integers instead of the core's tuned loops. The batch schedule's tie-breaking is not
modelled: for batched epochs, `draws_for_slots` checks everything after the choice of classes.
"""

from __future__ import annotations

from collections import defaultdict

MASK = (1 << 64) - 1
PHASE_ORDER_BUCKETS = 1024  # SlotBuckets::kPhaseOrderBuckets
GOLDEN = 0x9E3779B97F4A7C15
POOL_PASS, EPOCH_ORDER, BATCH_ORDER, CLASS_RANK, REPLACEMENT_DRAW = 1, 2, 3, 4, 5


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def stream_key(seed: int, domain: int, a: int, b: int) -> int:
    return mix64(mix64(mix64(mix64(seed) ^ domain) ^ a) ^ b)


def stream_value(key: int, i: int) -> int:
    return mix64((key + (i + 1) * GOLDEN) & MASK)


def lemire(draw, n: int, bits: int) -> int:
    """Uniform on [0, n) by Lemire's exact multiply-and-reject over `bits`-bit values of draw()."""
    mask = (1 << bits) - 1
    product = draw() * n
    low = product & mask
    if low < n:
        threshold = ((1 << bits) - n) % n
        while low < threshold:
            product = draw() * n
            low = product & mask
    return product >> bits


class Stream:
    def __init__(self, key: int) -> None:
        self.state = key
        self.pending: int | None = None  # high half of the last value, not yet used

    def next(self) -> int:
        self.state = (self.state + GOLDEN) & MASK
        return mix64(self.state)

    def below(self, n: int) -> int:
        return lemire(self.next, n, 64)

    def below_u32(self, n: int) -> int:
        """From 32-bit halves of the values, low half first."""
        return lemire(self.next_half, n, 32)

    def next_half(self) -> int:
        if self.pending is not None:
            half, self.pending = self.pending, None
            return half
        value = self.next()
        self.pending = value >> 32
        return value & 0xFFFFFFFF

    def shuffle(self, values: list) -> None:
        below = self.below_u32 if len(values) <= 1 << 32 else self.below
        for i in range(len(values) - 1, 0, -1):
            j = below(i + 1)
            values[i], values[j] = values[j], values[i]


def apportion(total: int, weights: list[int]) -> list[int]:
    weight_sum = sum(weights)
    quotas = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(quotas)
    for c in sorted(range(len(weights)), key=lambda c: (-remainders[c], c))[:leftover]:
        quotas[c] += 1
    return quotas


def bucket_count(quotas: list[int]) -> int:
    return min(max(sum(quotas) >> 14, 1), 1 << 16)


def bucket_phases(quotas: list[int], key: int) -> list[int]:
    """One phase per class with draws, in class order (classes of quota 0 take none)."""
    phases = Stream(mix64(key))
    buckets = bucket_count(quotas)
    return [phases.below(buckets) if q > 0 else 0 for q in quotas]


def class_order(quotas: list[int], phases: list[int]) -> list[int]:
    """The order of the classes inside a bucket before its shuffle."""
    by_phase = bucket_count(quotas) >= PHASE_ORDER_BUCKETS
    return sorted(range(len(quotas)), key=lambda c: (phases[c] if by_phase else 0, c))


def draws_before_bucket(quota: int, phase: int, buckets: int, b: int) -> int:
    """How many of a class's draws go to buckets before b: draw k is in bucket (k * B + phase) // q."""
    return min(quota, max(0, -((phase - b * quota) // buckets)))


def arrange_slots(quotas: list[int], key: int) -> list[int]:
    """Stratified buckets: class c's draw k goes to bucket (k * B + phase_c) // q_c, each bucket shuffled.

    Before its shuffle a bucket holds its slots grouped by class (`class_order`).
    """
    buckets = bucket_count(quotas)
    phases = bucket_phases(quotas, key)
    contents: list[list[int]] = [[] for _ in range(buckets)]
    for c in class_order(quotas, phases):
        for k in range(quotas[c]):
            contents[(k * buckets + phases[c]) // quotas[c]].append(c)
    slots = []
    for b, bucket in enumerate(contents):
        Stream(mix64(key ^ mix64(b + 1))).shuffle(bucket)
        slots.extend(bucket)
    return slots


def bucket_slots(quotas: list[int], key: int, b: int) -> tuple[int, list[int]]:
    """(first slot, classes of its slots) of bucket b alone: `arrange_slots` for epochs too large to model whole."""
    buckets = bucket_count(quotas)
    phases = bucket_phases(quotas, key)
    start = sum(draws_before_bucket(q, p, buckets, b) for q, p in zip(quotas, phases))
    bucket = []
    for c in class_order(quotas, phases):
        if quotas[c] > 0:
            here = draws_before_bucket(quotas[c], phases[c], buckets, b + 1)
            bucket += [c] * (here - draws_before_bucket(quotas[c], phases[c], buckets, b))
    Stream(mix64(key ^ mix64(b + 1))).shuffle(bucket)
    return start, bucket


def pool_pass(members: list[int], seed: int, c: int, p: int) -> list[int]:
    """Pass p of class c's pool: inside-out Fisher-Yates over the members."""
    order = [members[0]] + [0] * (len(members) - 1)
    stream = Stream(stream_key(seed, POOL_PASS, c, p))
    for i, member in enumerate(members[1:], start=1):
        j = stream.below_u32(i + 1)
        order[i] = order[j]
        order[j] = member
    return order


def class_members(labels: list[int], num_classes: int) -> list[list[int]]:
    members: list[list[int]] = [[] for _ in range(num_classes)]
    for i, label in enumerate(labels):
        members[label].append(i)
    return members


def draws_for_slots(labels, num_classes, quotas, slots, epoch, seed, replacement):
    """Indices and repeats of an epoch whose class at each position is `slots`."""
    members = class_members(labels, num_classes)
    passes: dict[tuple[int, int], list[int]] = {}
    taken = [0] * num_classes
    seen: dict[int, int] = defaultdict(int)
    indices, repeats = [], []
    for c in slots:
        count = len(members[c])
        draw = epoch * quotas[c] + taken[c]
        taken[c] += 1
        if replacement:
            key = stream_key(seed, REPLACEMENT_DRAW, c, 0)
            index = members[c][(stream_value(key, draw) * count) >> 64]
        else:
            if (c, draw // count) not in passes:
                passes[c, draw // count] = pool_pass(members[c], seed, c, draw // count)
            index = passes[c, draw // count][draw % count]
        indices.append(index)
        repeats.append(seen[index])
        seen[index] += 1
    return indices, repeats


def unbatched_epoch(labels, num_classes, weights, samples_per_epoch, epoch, seed, replacement):
    """(indices, labels, repeats) of a whole unbatched, unsharded epoch."""
    quotas = apportion(samples_per_epoch, weights)
    slots = arrange_slots(quotas, stream_key(seed, EPOCH_ORDER, epoch, 0))
    indices, repeats = draws_for_slots(labels, num_classes, quotas, slots, epoch, seed, replacement)
    return indices, slots, repeats
