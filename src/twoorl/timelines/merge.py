"""The k-way merge of newest-first lists that stops at the page — the seed's ``merge_all``,
answered: a page needs only the newest ``limit`` items, so only the lists whose heads are
among the ``limit`` largest can contribute, and the merge stops after ``limit`` items.

Cost: O(k) to pick the heads plus O(limit · log limit) to merge, instead of O(total items).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def merge_newest(
    lists: Iterable[Sequence[T]], limit: int, key: Callable[[T], int] | None = None
) -> list[T]:
    """The ``limit`` largest items (by ``key``, default the items themselves) of lists that
    are each sorted descending, largest first. Items with equal keys are all kept."""
    if limit <= 0:
        return []
    candidates = [seq for seq in lists if seq]
    if len(candidates) > limit:
        # A list whose head is below the limit-th largest head cannot reach the page.
        if key is None:
            # Lists compare by their heads first: no Python call per list.
            candidates = heapq.nlargest(limit, candidates)
        else:
            candidates = heapq.nlargest(limit, candidates, key=lambda seq: key(seq[0]))
    return list(islice(heapq.merge(*candidates, key=key, reverse=True), limit))
