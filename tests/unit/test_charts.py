"""Bar-chart geometry for /stats: ticks, scales and bar positions."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twoorl.stats.charts import bar_geometry, label_every, nice_ticks


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 5, 10]),
        (37, [0, 10, 20, 30, 40]),
        (101, [0, 50, 100, 150]),
        (12_345, [0, 5000, 10_000, 15_000]),
    ],
)
def test_nice_ticks(maximum: int, ticks: list[int]) -> None:
    assert nice_ticks(maximum) == ticks


@given(st.integers(min_value=0, max_value=10**9))
def test_ticks_cover_the_maximum_in_round_whole_steps(maximum: int) -> None:
    ticks = nice_ticks(maximum)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and ticks[-1] >= maximum and ticks[-1] - step < max(maximum, 1)
    assert all(b - a == step for a, b in itertools.pairwise(ticks))
    assert str(step).rstrip("0") in {"1", "2", "5"}
    assert 2 <= len(ticks) <= 6


def test_label_every() -> None:
    assert label_every(7) == 1
    assert label_every(30) == 5
    assert label_every(0) == 1


def test_bars_share_the_plot_and_scale_to_the_top_tick() -> None:
    geometry = bar_geometry([0, 5, 10, 2], width=440, height=120, margin_left=40,
                            margin_right=0, margin_top=20, margin_bottom=0, gap=0.5)  # fmt: skip
    slot = (440 - 40) / 4
    assert [b.x for b in geometry.bars] == [40 + slot * i + slot / 4 for i in range(4)]
    assert all(b.width == slot / 2 for b in geometry.bars)
    assert [t.value for t in geometry.ticks] == [0, 5, 10]
    # 100 units of height for 10: the value-10 bar fills it, the empty one is flat on the base.
    assert [b.height for b in geometry.bars] == [0, 50, 100, 20]
    assert all(b.y + b.height == geometry.bottom == 120 for b in geometry.bars)
    assert [t.y for t in geometry.ticks] == [120, 70, 20]


def test_today_is_always_labelled_and_labels_are_few() -> None:
    bars = bar_geometry(list(range(30))).bars
    labelled = [b.index for b in bars if b.labelled]
    assert labelled[-1] == 29 and len(labelled) <= 7
    assert {b - a for a, b in itertools.pairwise(labelled)} == {5}
    assert all(b.labelled for b in bar_geometry([1] * 7).bars)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60))
def test_bars_stay_inside_the_plot(values: list[int]) -> None:
    g = bar_geometry(values)
    for before, bar in zip([None, *g.bars], g.bars, strict=False):
        assert g.left <= bar.x and bar.x + bar.width <= g.right + 0.01
        assert g.top - 0.01 <= bar.y <= g.bottom and bar.height >= 0
        if before is not None:
            assert before.x + before.width < bar.x
    tallest = max(g.bars, key=lambda b: b.value)
    assert tallest.height <= g.bottom - g.top
