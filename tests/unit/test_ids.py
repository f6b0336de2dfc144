"""Snowflake ids: layout, decoding, validity and the per-process generator."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twoorl import ids
from twoorl.ids import (
    EPOCH_MS,
    LOGICAL_SHARDS,
    MAX_ID,
    SEQUENCE_BITS,
    SHARD_BITS,
    TIME_BITS,
    IdGenerator,
    compose,
    is_valid,
    logical_shard_of,
    lowest_id_at,
    new_id,
    new_owner_id,
    timestamp_ms_of,
)

SEQUENCE_MAX = (1 << SEQUENCE_BITS) - 1
LAST_MS = EPOCH_MS + (1 << TIME_BITS) - 1

timestamps = st.integers(min_value=EPOCH_MS, max_value=LAST_MS)
logical_shards = st.integers(min_value=0, max_value=LOGICAL_SHARDS - 1)
sequences = st.integers(min_value=0, max_value=SEQUENCE_MAX)


class FakeClock:
    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


def _sequence_of(snowflake: int) -> int:
    return snowflake & SEQUENCE_MAX


# --- layout -----------------------------------------------------------------------------------


def test_layout_constants() -> None:
    assert TIME_BITS + SHARD_BITS + SEQUENCE_BITS == 63
    assert LOGICAL_SHARDS == 1024
    assert MAX_ID == 2**63 - 1


def test_compose_puts_fields_in_their_bits() -> None:
    snowflake = compose(EPOCH_MS + 5, 3, 7)
    assert snowflake == (5 << 22) | (3 << 12) | 7


def test_compose_at_epoch_with_zero_fields_is_zero() -> None:
    assert compose(EPOCH_MS, 0, 0) == 0


def test_compose_largest_values_give_max_id() -> None:
    assert compose(LAST_MS, LOGICAL_SHARDS - 1, SEQUENCE_MAX) == MAX_ID


@given(timestamps, logical_shards, sequences)
def test_compose_roundtrips(timestamp_ms: int, shard: int, sequence: int) -> None:
    snowflake = compose(timestamp_ms, shard, sequence)
    assert 0 <= snowflake <= MAX_ID
    assert timestamp_ms_of(snowflake) == timestamp_ms
    assert logical_shard_of(snowflake) == shard
    assert _sequence_of(snowflake) == sequence


def test_compose_wraps_sequence_into_its_bits() -> None:
    # Sequences are masked, never allowed to spill into the shard bits.
    snowflake = compose(EPOCH_MS + 1, 9, SEQUENCE_MAX + 1)
    assert logical_shard_of(snowflake) == 9
    assert _sequence_of(snowflake) == 0


@pytest.mark.parametrize("shard", [-1, LOGICAL_SHARDS, LOGICAL_SHARDS + 5])
def test_compose_rejects_out_of_range_shard(shard: int) -> None:
    with pytest.raises(ValueError, match="logical shard"):
        compose(EPOCH_MS + 1, shard, 0)


@pytest.mark.parametrize("timestamp_ms", [EPOCH_MS - 1, 0, LAST_MS + 1])
def test_compose_rejects_timestamp_outside_epoch(timestamp_ms: int) -> None:
    with pytest.raises(ValueError, match="epoch"):
        compose(timestamp_ms, 0, 0)


@given(
    st.tuples(timestamps, logical_shards, sequences),
    st.tuples(timestamps, logical_shards, sequences),
)
def test_later_timestamp_means_larger_id(a: tuple, b: tuple) -> None:
    if a[0] < b[0]:
        assert compose(*a) < compose(*b)
    elif a[0] > b[0]:
        assert compose(*a) > compose(*b)


# --- lowest_id_at -----------------------------------------------------------------------------


@given(timestamps, logical_shards, sequences)
def test_lowest_id_at_bounds_every_id_of_that_millisecond(
    timestamp_ms: int, shard: int, sequence: int
) -> None:
    floor = lowest_id_at(timestamp_ms)
    assert floor <= compose(timestamp_ms, shard, sequence)
    assert timestamp_ms_of(floor) == timestamp_ms
    if timestamp_ms > EPOCH_MS:
        # Every id from the millisecond before is older than the cursor.
        assert compose(timestamp_ms - 1, shard, sequence) < floor


def test_lowest_id_at_is_an_id_with_zero_shard_and_sequence() -> None:
    assert lowest_id_at(EPOCH_MS + 1234) == compose(EPOCH_MS + 1234, 0, 0)


@pytest.mark.parametrize("timestamp_ms", [EPOCH_MS, EPOCH_MS - 1, 0])
def test_lowest_id_at_clamps_before_epoch_to_zero(timestamp_ms: int) -> None:
    assert lowest_id_at(timestamp_ms) == 0


# --- is_valid ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, False), (-1, False), (1, True), (MAX_ID, True), (MAX_ID + 1, False), (2**64, False)],
)
def test_is_valid(value: int, expected: bool) -> None:
    assert is_valid(value) is expected


def test_generated_ids_are_valid() -> None:
    generator = IdGenerator()
    assert all(is_valid(generator.next_id(s)) for s in (0, 1, LOGICAL_SHARDS - 1))


# --- IdGenerator ------------------------------------------------------------------------------


def test_generator_uses_the_injected_clock() -> None:
    clock = FakeClock(EPOCH_MS + 1_000_000)
    generator = IdGenerator(clock_ms=clock)
    snowflake = generator.next_id(42)
    assert timestamp_ms_of(snowflake) == clock.now_ms
    assert logical_shard_of(snowflake) == 42


def test_generator_counts_up_within_one_millisecond() -> None:
    clock = FakeClock(EPOCH_MS + 10)
    generator = IdGenerator(clock_ms=clock)
    first = generator.next_id(1)
    second = generator.next_id(1)
    third = generator.next_id(1)
    assert timestamp_ms_of(first) == timestamp_ms_of(third) == clock.now_ms
    assert _sequence_of(second) == _sequence_of(first) + 1
    assert _sequence_of(third) == _sequence_of(first) + 2


def test_fresh_sequence_starts_in_the_lower_half() -> None:
    values = {IdGenerator._fresh_sequence() for _ in range(500)}
    assert all(0 <= v < 1 << (SEQUENCE_BITS - 1) for v in values)
    assert len(values) > 1  # random, not a constant


def test_generator_starts_a_fresh_sequence_each_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fresh = iter([100, 7])
    monkeypatch.setattr(IdGenerator, "_fresh_sequence", staticmethod(lambda: next(fresh)))
    clock = FakeClock(EPOCH_MS + 10)
    generator = IdGenerator(clock_ms=clock)
    a = generator.next_id(0)
    b = generator.next_id(0)
    clock.now_ms += 1
    c = generator.next_id(0)
    assert [_sequence_of(x) for x in (a, b, c)] == [100, 101, 7]
    assert a < b < c


def test_generator_survives_clock_stepping_back() -> None:
    clock = FakeClock(EPOCH_MS + 50_000)
    generator = IdGenerator(clock_ms=clock)
    before = generator.next_id(5)
    clock.now_ms -= 10_000  # e.g. an NTP correction
    after = [generator.next_id(5) for _ in range(5)]
    assert [before, *after] == sorted({before, *after})
    # It keeps the last millisecond it used rather than the stepped-back clock.
    assert all(timestamp_ms_of(x) == EPOCH_MS + 50_000 for x in after)


def test_generator_resumes_the_clock_after_it_catches_up() -> None:
    clock = FakeClock(EPOCH_MS + 500)
    generator = IdGenerator(clock_ms=clock)
    first = generator.next_id(0)
    clock.now_ms = EPOCH_MS + 100
    stepped = generator.next_id(0)
    clock.now_ms = EPOCH_MS + 900
    later = generator.next_id(0)
    assert first < stepped < later
    assert timestamp_ms_of(later) == EPOCH_MS + 900


def test_sequence_overflow_borrows_the_next_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(IdGenerator, "_fresh_sequence", staticmethod(lambda: SEQUENCE_MAX - 2))
    clock = FakeClock(EPOCH_MS + 1_000)
    generator = IdGenerator(clock_ms=clock)
    minted = [generator.next_id(3) for _ in range(5)]
    assert minted == sorted(set(minted))
    assert [_sequence_of(x) for x in minted] == [
        SEQUENCE_MAX - 2,
        SEQUENCE_MAX - 1,
        SEQUENCE_MAX,
        SEQUENCE_MAX - 2,  # fresh sequence in the borrowed millisecond
        SEQUENCE_MAX - 1,
    ]
    assert [timestamp_ms_of(x) - clock.now_ms for x in minted] == [0, 0, 0, 1, 1]
    assert all(logical_shard_of(x) == 3 for x in minted)


def test_many_ids_in_one_millisecond_stay_unique_and_increasing() -> None:
    clock = FakeClock(EPOCH_MS + 77)
    generator = IdGenerator(clock_ms=clock)
    minted = [generator.next_id(8) for _ in range(3 * (1 << SEQUENCE_BITS))]
    assert all(a < b for a, b in pairwise(minted))
    assert len(set(minted)) == len(minted)
    assert timestamp_ms_of(minted[-1]) > clock.now_ms  # it had to borrow milliseconds
    assert all(logical_shard_of(x) == 8 for x in minted)


def test_shards_keep_independent_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(IdGenerator, "_fresh_sequence", staticmethod(lambda: 10))
    clock = FakeClock(EPOCH_MS + 1)
    generator = IdGenerator(clock_ms=clock)
    a1 = generator.next_id(1)
    a2 = generator.next_id(1)
    b1 = generator.next_id(2)
    assert _sequence_of(a1) == 10
    assert _sequence_of(a2) == 11
    assert _sequence_of(b1) == 10  # shard 2 did not see shard 1's counter
    assert logical_shard_of(b1) == 2


@given(
    st.lists(
        st.tuples(logical_shards.filter(lambda s: s < 4), st.integers(-3, 3)),
        min_size=1,
        max_size=300,
    )
)
def test_ids_strictly_increase_per_shard_whatever_the_clock_does(
    steps: list[tuple[int, int]],
) -> None:
    clock = FakeClock(EPOCH_MS + 1_000)
    generator = IdGenerator(clock_ms=clock)
    last: dict[int, int] = {}
    for shard, clock_step in steps:
        clock.now_ms += clock_step
        snowflake = generator.next_id(shard)
        assert logical_shard_of(snowflake) == shard
        if shard in last:
            assert snowflake > last[shard]
        last[shard] = snowflake


def test_default_clock_is_wall_time() -> None:
    before = time.time_ns() // 1_000_000
    snowflake = IdGenerator().next_id(0)
    after = time.time_ns() // 1_000_000
    assert before <= timestamp_ms_of(snowflake) <= after


def test_random_logical_shard_is_in_range() -> None:
    generator = IdGenerator()
    seen = {generator.random_logical_shard() for _ in range(200)}
    assert all(0 <= s < LOGICAL_SHARDS for s in seen)
    assert len(seen) > 1


# --- module-level helpers ---------------------------------------------------------------------


def test_new_id_is_on_the_requested_shard_and_increasing() -> None:
    before = time.time_ns() // 1_000_000
    minted = [new_id(17) for _ in range(50)]
    assert all(logical_shard_of(x) == 17 for x in minted)
    assert all(a < b for a, b in pairwise(minted))
    assert all(is_valid(x) for x in minted)
    assert timestamp_ms_of(minted[0]) >= before


def test_new_id_uses_the_default_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(EPOCH_MS + 123_456)
    monkeypatch.setattr(ids, "_default_generator", IdGenerator(clock_ms=clock))
    assert timestamp_ms_of(new_id(4)) == EPOCH_MS + 123_456


def test_new_owner_id_lands_on_random_shards() -> None:
    minted = [new_owner_id() for _ in range(64)]
    assert all(is_valid(x) for x in minted)
    assert len(set(minted)) == len(minted)
    assert len({logical_shard_of(x) for x in minted}) > 1


def test_new_owner_id_uses_the_generators_random_shard(monkeypatch: pytest.MonkeyPatch) -> None:
    generator = IdGenerator(clock_ms=FakeClock(EPOCH_MS + 9))
    monkeypatch.setattr(generator, "random_logical_shard", lambda: 611)
    monkeypatch.setattr(ids, "_default_generator", generator)
    owner = new_owner_id()
    assert logical_shard_of(owner) == 611
    assert timestamp_ms_of(owner) == EPOCH_MS + 9
