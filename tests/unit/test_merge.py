"""merge_newest: the newest ``limit`` items of several newest-first lists."""

from __future__ import annotations

from collections import Counter
from operator import itemgetter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twoorl.timelines.merge import merge_newest

descending_lists = st.lists(
    st.lists(st.integers(-1_000, 1_000)).map(lambda xs: sorted(xs, reverse=True)),
    max_size=12,
)


@given(descending_lists, st.integers(min_value=-3, max_value=60))
def test_merge_is_the_top_of_everything(lists: list[list[int]], limit: int) -> None:
    expected = sorted((x for xs in lists for x in xs), reverse=True)[: max(limit, 0)]
    assert merge_newest(lists, limit) == expected


@given(descending_lists, st.integers(min_value=1, max_value=5))
def test_merge_with_many_lists_and_small_limit(lists: list[list[int]], limit: int) -> None:
    # More lists than the limit exercises the pruning of lists by their heads.
    expected = sorted((x for xs in lists for x in xs), reverse=True)[:limit]
    assert merge_newest(lists, limit) == expected


@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 200), st.text(max_size=3))).map(
            lambda xs: sorted(xs, key=itemgetter(0), reverse=True)
        ),
        max_size=10,
    ),
    st.integers(min_value=0, max_value=40),
)
def test_merge_with_a_key_function(lists: list[list[tuple[int, str]]], limit: int) -> None:
    everything = [x for xs in lists for x in xs]
    result = merge_newest(lists, limit, key=itemgetter(0))
    expected_keys = sorted((k for k, _ in everything), reverse=True)[:limit]
    # Items with equal keys may come in any order, so compare keys, and check that the
    # items themselves are taken from the input without invention or duplication.
    assert [k for k, _ in result] == expected_keys
    assert not Counter(result) - Counter(everything)


@given(st.lists(st.sets(st.integers(0, 10_000)), max_size=10), st.integers(0, 50))
def test_merge_with_a_key_and_unique_keys_is_exact(lists: list[set[int]], limit: int) -> None:
    # Each key unique across all lists, so the expected page is fully determined.
    seen: set[int] = set()
    rows: list[list[tuple[int, str]]] = []
    for keys in lists:
        fresh = sorted(keys - seen, reverse=True)
        seen |= keys
        rows.append([(k, f"post-{k}") for k in fresh])
    everything = [x for xs in rows for x in xs]
    expected = sorted(everything, key=itemgetter(0), reverse=True)[:limit]
    assert merge_newest(rows, limit, key=itemgetter(0)) == expected


def test_key_decides_the_order_not_the_items() -> None:
    a = [(9, "z"), (1, "y")]
    b = [(5, "a")]
    assert merge_newest([a, b], 3, key=itemgetter(0)) == [(9, "z"), (5, "a"), (1, "y")]


@pytest.mark.parametrize("limit", [0, -1])
def test_non_positive_limit_gives_nothing(limit: int) -> None:
    assert merge_newest([[3, 2, 1], [5]], limit) == []


def test_no_lists() -> None:
    assert merge_newest([], 10) == []


def test_only_empty_lists() -> None:
    assert merge_newest([[], [], []], 5) == []


def test_empty_lists_are_skipped_among_full_ones() -> None:
    assert merge_newest([[], [4, 2], [], [3, 1], []], 3) == [4, 3, 2]


def test_limit_larger_than_everything_returns_everything() -> None:
    assert merge_newest([[5, 1], [4, 3, 2]], 100) == [5, 4, 3, 2, 1]


def test_equal_items_are_all_kept() -> None:
    assert merge_newest([[7, 7], [7], [6]], 10) == [7, 7, 7, 6]


def test_pruning_keeps_a_list_with_a_low_head_when_it_still_matters() -> None:
    # Three lists, limit 2: the two highest heads are 10 and 9, and the page is 10, 9.
    assert merge_newest([[10, 1], [9, 8], [2]], 2) == [10, 9]
    # Limit 2, but one list holds both newest items.
    assert merge_newest([[10, 9], [8], [7]], 2) == [10, 9]


def test_accepts_any_iterable_of_sequences() -> None:
    lists = (xs for xs in ([3, 1], (4, 2), range(10, 0, -5)))
    assert merge_newest(lists, 4) == [10, 5, 4, 3]
