"""Snowflake-style ids: time-ordered 63-bit integers that name their owner's logical shard.

Layout, most significant first: 41 bits of milliseconds since ``EPOCH_MS`` (good until 2094),
10 bits of logical shard, 12 bits of sequence. ``ORDER BY id DESC`` is newest first, and a
post id alone locates the post. Generation needs no coordinator: the sequence starts at a
random point every millisecond, so two processes rarely collide, and inserts retry on the
primary key if they ever do.
"""

from __future__ import annotations

import secrets
import threading
import time

EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
TIME_BITS = 41
SHARD_BITS = 10
SEQUENCE_BITS = 12
LOGICAL_SHARDS = 1 << SHARD_BITS
MAX_ID = (1 << (TIME_BITS + SHARD_BITS + SEQUENCE_BITS)) - 1
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
_SHARD_MASK = LOGICAL_SHARDS - 1


def compose(timestamp_ms: int, logical_shard: int, sequence: int) -> int:
    if not 0 <= logical_shard < LOGICAL_SHARDS:
        raise ValueError(f"logical shard {logical_shard} out of range")
    millis = timestamp_ms - EPOCH_MS
    if not 0 <= millis < (1 << TIME_BITS):
        raise ValueError("timestamp outside the id epoch")
    return (
        (millis << (SHARD_BITS + SEQUENCE_BITS))
        | (logical_shard << SEQUENCE_BITS)
        | (sequence & _SEQUENCE_MASK)
    )


def logical_shard_of(snowflake: int) -> int:
    return (snowflake >> SEQUENCE_BITS) & _SHARD_MASK


def timestamp_ms_of(snowflake: int) -> int:
    return (snowflake >> (SHARD_BITS + SEQUENCE_BITS)) + EPOCH_MS


def lowest_id_at(timestamp_ms: int) -> int:
    """The smallest id that can be minted at ``timestamp_ms``: a cursor for "older than"."""
    return max(0, timestamp_ms - EPOCH_MS) << (SHARD_BITS + SEQUENCE_BITS)


def is_valid(value: int) -> bool:
    return 0 < value <= MAX_ID


def parse_id(text: str) -> int | None:
    """An id from a URL or form field: ASCII digits only (``str.isdigit`` accepts '²')."""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if is_valid(value) else None


class IdGenerator:
    """Mints ids in this process; thread-safe and strictly increasing per logical shard."""

    def __init__(self, clock_ms=lambda: time.time_ns() // 1_000_000) -> None:
        self._clock_ms = clock_ms
        self._lock = threading.Lock()
        self._last: dict[int, tuple[int, int]] = {}

    def next_id(self, logical_shard: int) -> int:
        with self._lock:
            now = self._clock_ms()
            last_ms, last_seq = self._last.get(logical_shard, (0, 0))
            if now < last_ms:
                now = last_ms  # the clock stepped back: keep ids increasing
            if now == last_ms:
                sequence = last_seq + 1
                if sequence > _SEQUENCE_MASK:
                    now, sequence = last_ms + 1, self._fresh_sequence()
            else:
                sequence = self._fresh_sequence()
            self._last[logical_shard] = (now, sequence)
            return compose(now, logical_shard, sequence)

    def random_logical_shard(self) -> int:
        return secrets.randbelow(LOGICAL_SHARDS)

    @staticmethod
    def _fresh_sequence() -> int:
        # Start low in the sequence space so a busy millisecond still has room to count up.
        return secrets.randbelow(1 << (SEQUENCE_BITS - 1))


_default_generator = IdGenerator()


def new_id(logical_shard: int) -> int:
    """Mint an id with this process's generator."""
    return _default_generator.next_id(logical_shard)


def new_owner_id() -> int:
    """An id for a new owner (an account), placed on a random logical shard."""
    return _default_generator.next_id(_default_generator.random_logical_shard())


def new_directory_id() -> int:
    """An id for a row kept only in the directory (audit log, reports), never routed by its
    logical shard: always shard 0, so the rows one process writes keep their order even
    within one millisecond (random shards would sort them at random)."""
    return _default_generator.next_id(0)
