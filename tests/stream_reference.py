"""A slow, obviously-correct pure-Python model of the streaming rebalancer, for exact comparison.

It follows the rule as the header comment of csrc/rebalance.hpp states it, with Python integers
and a scan over all classes per turn where the core keeps heaps.
"""

from __future__ import annotations

from collections import deque

from reference import Stream, stream_key

RESERVOIR = 6  # StreamDomain::kReservoir
INT32_MAX = 2**31 - 1


class StreamModel:
    """``push(payloads, labels, final) -> [(payload, label, repeats), ...]``, as the core emits them."""

    def __init__(self, weights, capacity: int, seed: int) -> None:
        self.weights = [int(w) for w in weights]
        self.total = sum(self.weights)
        self.capacity = capacity
        self.seed = seed
        count = len(self.weights)
        self.state = ["new"] * count  # "new": no record and never skipped; "skipped"; "member"
        self.start = [0] * count
        self.turns = [0] * count
        self.fresh = [deque() for _ in range(count)]
        self.reservoir: list[list] = [[] for _ in range(count)]  # [payload, times emitted]
        self.offered = [0] * count  # fresh emissions, Algorithm R's count
        self.choices: dict[int, Stream] = {}
        self.now = 0
        self.skipped: set[int] = set()  # classes ever skipped
        self.finished = False
        self.stats = dict(read=0, emitted=0, fresh=0, replays=0, replaced=0, unweighted=0)

    def release(self, c: int) -> int:
        return self.start[c] + self.turns[c] * self.total // self.weights[c]

    def deadline(self, c: int) -> int:
        return self.start[c] - (-(self.turns[c] + 1) * self.total // self.weights[c])

    def next_class(self) -> int | None:
        while True:
            candidates = [c for c, w in enumerate(self.weights) if w > 0 and (
                self.state[c] == "new" or (self.state[c] == "member" and self.release(c) <= self.now))]
            if candidates:
                return min(candidates, key=lambda c: (self.deadline(c), c))
            members = [c for c, s in enumerate(self.state) if s == "member"]
            if not members:
                return None
            self.now = min(self.release(c) for c in members)

    def push(self, payloads, labels, final: bool) -> list[tuple]:
        labels = [int(label) for label in labels]
        for i, label in enumerate(labels):
            if not 0 <= label < len(self.weights):
                position = self.stats["read"] + self.stats["unweighted"] + i
                raise ValueError(f"label {label} of the record at stream position {position} is outside")
        out: list[tuple] = []
        taken = 0
        while True:
            c = self.next_class()
            if c is not None and self.fresh[c]:
                self.emit_fresh(c, out)
                continue
            if all(len(f) < self.capacity for f in self.fresh):
                if taken < len(payloads):
                    self.take(payloads[taken], labels[taken])
                    taken += 1
                    continue
                if not final:
                    return out
            if final and taken == len(payloads) and not any(self.fresh):
                self.finished = True
                return out
            if c is None:
                return out
            if self.state[c] == "member":
                self.replay(c, out)
            else:
                self.state[c] = "skipped"
                self.skipped.add(c)

    def take(self, payload, c: int) -> None:
        if self.weights[c] == 0:
            self.stats["unweighted"] += 1
            return
        if self.state[c] != "member":
            if self.state[c] == "skipped":
                self.start[c] = self.now
            self.state[c] = "member"
            self.choices[c] = Stream(stream_key(self.seed, RESERVOIR, c, 0))
        self.fresh[c].append(payload)
        self.stats["read"] += 1

    def emit_fresh(self, c: int, out: list) -> None:
        payload = self.fresh[c].popleft()
        self.offered[c] += 1
        reservoir = self.reservoir[c]
        if len(reservoir) < self.capacity:
            reservoir.append([payload, 1])
        else:
            i = self.choices[c].below(self.offered[c])
            if i < self.capacity:
                reservoir[i] = [payload, 1]
                self.stats["replaced"] += 1
        out.append((payload, c, 0))
        self.stats["fresh"] += 1
        self.take_turn(c)

    def replay(self, c: int, out: list) -> None:
        kept = self.reservoir[c][self.choices[c].below(len(self.reservoir[c]))]
        out.append((kept[0], c, kept[1]))
        kept[1] = min(kept[1] + 1, INT32_MAX)
        self.stats["replays"] += 1
        self.take_turn(c)

    def take_turn(self, c: int) -> None:
        self.turns[c] += 1
        self.now += 1
        self.stats["emitted"] += 1
