"""Back-dated snowflake ids: many ids at chosen past milliseconds, unique per logical shard.

``IdGenerator`` only mints ids for *now*; demo posts need ids whose time part says when they
were "written". Each id takes a random 12-bit sequence within its (millisecond, logical
shard), so a second demo load (or real traffic) at the same millisecond almost never lands on
the same id; ids already handed out in this call are skipped, and when a millisecond is all
but full the id moves one millisecond *earlier*, so an id is never in the future.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from twoorl.ids import EPOCH_MS, LOGICAL_SHARDS, SEQUENCE_BITS, SHARD_BITS, TIME_BITS

_TIME_SHIFT = SHARD_BITS + SEQUENCE_BITS
_ONE_MS = 1 << _TIME_SHIFT
_LATEST = (1 << TIME_BITS) - 1
_TRIES_PER_MS = 64  # random draws before a crowded millisecond is given up on


def allocate(
    timestamps_ms: Sequence[int], logical_shards: Sequence[int], rng: random.Random
) -> list[int]:
    """Ids for items ``i`` at ``timestamps_ms[i]`` on ``logical_shards[i]``; every id is unique
    and no later than its timestamp."""
    if not timestamps_ms:
        return []
    if min(timestamps_ms) <= EPOCH_MS or max(timestamps_ms) - EPOCH_MS > _LATEST:
        raise ValueError("timestamp outside the id epoch")
    if min(logical_shards) < 0 or max(logical_shards) >= LOGICAL_SHARDS:
        raise ValueError("logical shard out of range")
    # A set of ids taken beats sorting by (shard, time) and counting: this runs per follow.
    taken: set[int] = set()
    draw = rng.getrandbits
    ids: list[int] = []
    for millis, shard in zip(timestamps_ms, logical_shards, strict=True):
        # ids.compose, inlined (the ranges were checked above).
        base = ((millis - EPOCH_MS) << _TIME_SHIFT) | (shard << SEQUENCE_BITS)
        candidate = base | draw(SEQUENCE_BITS)
        tries = 0
        while candidate in taken:
            tries += 1
            if tries % _TRIES_PER_MS == 0:
                base -= _ONE_MS
            candidate = base | draw(SEQUENCE_BITS)
        taken.add(candidate)
        ids.append(candidate)
    return ids
