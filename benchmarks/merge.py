"""The seed's "Parallel merge sort in Erlang" experiment, re-run in Python on this machine.

Same data shape as the post: 1,000,000 random ints between 1 and 1,000,000 (fixed seed),
cut into 50,000 lists of 20, each list sorted. Three workloads, each timed as the best of
``--repeat`` runs with ``time.perf_counter`` (a ``gc.collect()`` before every run), and
every result checked against ``sorted()``:

1. ``sort``: sort all the ints with ``sorted()`` (the post's ``lists:sort``, for reference).
2. ``full_merge``: merge the 50,000 ascending lists into one: ``heapq.merge`` (the k-way merge),
   the post's pairwise ``merge_all`` done serially, Timsort over the concatenation, and a
   bucket sort on the int keys. Target: <= 0.65 s.
3. ``newest``: only the newest 20 of the 50,000 lists, now sorted newest first (what a
   timeline page needs): the project's ``merge_newest`` against ``heapq.merge(...,
   reverse=True)`` + ``islice`` and ``heapq.nlargest``. Target: <= 10 ms.

The seed's Erlang figures are the ones re-run on this machine in BENCHMARKS.md.

    uv run python benchmarks/merge.py --json benchmarks/results/merge.json
    uv run python benchmarks/merge.py --quick        # small sizes, seconds not comparable
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import os
import platform
import random
import sys
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from itertools import chain, islice
from operator import le
from pathlib import Path

from twoorl.timelines.merge import merge_newest

SEED = 2008
MAX_VALUE = 1_000_000
DEFAULT_LISTS = 50_000
QUICK_LISTS = 500
DEFAULT_PER_LIST = 20
DEFAULT_PAGE = 20

FULL_MERGE_TARGET = 0.65
NEWEST_TARGET = 0.010
# BENCHMARKS.md, "The seed's own experiment": the post's Erlang code on this machine.
ERLANG_SORT_1M = 0.46
ERLANG_MERGE_ALL = 2.26


@dataclass
class Result:
    """One row of the table."""

    workload: str
    method: str
    seconds: float
    runs: list[float]
    cpu_seconds: float
    target_seconds: float | None
    met: bool | None
    erlang_seconds: float | None
    correct: bool


def make_data(lists: int, per_list: int, seed: int) -> list[int]:
    """``lists * per_list`` random ints in 1..MAX_VALUE, as the post's ``random:uniform``."""
    rng = random.Random(seed)
    return [rng.randint(1, MAX_VALUE) for _ in range(lists * per_list)]


def split_sorted(data: Sequence[int], per_list: int, descending: bool) -> list[list[int]]:
    """Cut ``data`` into lists of ``per_list``, each sorted."""
    return [
        sorted(data[i : i + per_list], reverse=descending) for i in range(0, len(data), per_list)
    ]


def is_sorted(items: Sequence[int]) -> bool:
    return all(map(le, items, islice(items, 1, None)))


# Full merge of ascending lists -------------------------------------------------------------


def merge_heapq(lists: Sequence[list[int]]) -> list[int]:
    """The k-way merge: a heap of the 50,000 list heads, one item out at a time."""
    return list(heapq.merge(*lists))


def merge_pairwise(lists: Sequence[list[int]]) -> list[int]:
    """The post's ``merge_all``, serially: merge neighbours in pairs, round after round.
    Each two-list merge is Timsort on the two concatenated runs (linear, in C)."""
    rounds = list(lists)
    while len(rounds) > 1:
        merged = [sorted(rounds[i] + rounds[i + 1]) for i in range(0, len(rounds) - 1, 2)]
        if len(rounds) % 2:
            merged.append(rounds[-1])
        rounds = merged
    return list(rounds[0]) if rounds else []


def merge_sorted_chain(lists: Sequence[list[int]]) -> list[int]:
    """Timsort over the concatenation; it sees the sorted runs of 20."""
    return sorted(chain(*lists))


def merge_flat_sort(lists: Sequence[list[int]]) -> list[int]:
    """Flatten into one list in C, then sort it in place."""
    flat = list(chain.from_iterable(lists))
    flat.sort()
    return flat


def merge_buckets(lists: Sequence[list[int]], per_bucket: int = 256) -> list[int]:
    """Bucket sort on int keys: spread the items over ~n/per_bucket buckets by their high
    bits (from the actual min and max, so any ints work), sort each small bucket, concatenate.
    Small buckets sort in cache; skewed keys degrade to one Timsort, never to a wrong answer."""
    flat = list(chain.from_iterable(lists))
    if len(flat) < 2:
        return flat
    low = min(flat)
    span = max(flat) - low
    bucket_bits = max(1, (len(flat) // per_bucket).bit_length())
    shift = max(0, span.bit_length() - bucket_bits)
    buckets: list[list[int]] = [[] for _ in range((span >> shift) + 1)]
    for item in flat:
        buckets[(item - low) >> shift].append(item)
    out: list[int] = []
    for bucket in buckets:
        bucket.sort()
        out += bucket
    return out


# Newest page of descending lists -----------------------------------------------------------


def newest_heapq(lists: Sequence[list[int]], limit: int) -> list[int]:
    """The naive page: a k-way merge of everything, stopped after ``limit`` items."""
    return list(islice(heapq.merge(*lists, reverse=True), limit))


def newest_nlargest(lists: Sequence[list[int]], limit: int) -> list[int]:
    """A full scan of every item, keeping the ``limit`` largest."""
    return heapq.nlargest(limit, chain.from_iterable(lists))


def newest_with_heads(lists: Sequence[list[int]], heads: Sequence[int], limit: int) -> list[int]:
    """Twoorl's ``author_heads`` plan in memory: each list's newest item is kept beside it
    (written when the list grows, so it costs the read nothing), the limit-th largest head
    bounds the page, and only lists with a head at or above it are merged. Reading the
    compact heads instead of the head of every list is what saves the time."""
    bound = heapq.nlargest(limit, heads)[-1]
    chosen = [lists[i] for i, head in enumerate(heads) if head >= bound]
    return merge_newest(chosen, limit)


# Timing --------------------------------------------------------------------------------------


def best_of(
    repeat: int, run: Callable[[], list[int]]
) -> tuple[list[float], list[float], list[int]]:
    """Wall seconds and CPU seconds of each of ``repeat`` runs, and the last run's result.
    The CPU seconds (this process only) show how much of the wall time other load took."""
    runs: list[float] = []
    cpu_runs: list[float] = []
    result: list[int] = []
    for _ in range(repeat):
        result = []  # drop the previous result before timing the next run
        gc.collect()
        cpu_start = time.process_time()
        start = time.perf_counter()
        result = run()
        runs.append(time.perf_counter() - start)
        cpu_runs.append(time.process_time() - cpu_start)
    return runs, cpu_runs, result


def run_benchmark(lists: int, per_list: int, page: int, repeat: int, seed: int) -> list[Result]:
    full_size = lists == DEFAULT_LISTS and per_list == DEFAULT_PER_LIST and page == DEFAULT_PAGE
    data = make_data(lists, per_list, seed)
    ascending = split_sorted(data, per_list, descending=False)
    descending = split_sorted(data, per_list, descending=True)
    expected = sorted(data)
    expected_page = expected[::-1][:page]
    results: list[Result] = []

    def measure(
        workload: str,
        method: str,
        run: Callable[[], list[int]],
        check: Callable[[list[int]], bool],
        target: float | None,
        erlang: float | None,
    ) -> None:
        print(f"  {workload}: {method} ...", file=sys.stderr, flush=True)
        runs, cpu_runs, result = best_of(repeat, run)
        best = min(runs)
        results.append(
            Result(
                workload=workload,
                method=method,
                seconds=best,
                runs=runs,
                cpu_seconds=min(cpu_runs),
                target_seconds=target if full_size else None,
                met=(best <= target) if full_size and target is not None else None,
                erlang_seconds=erlang if full_size else None,
                correct=check(result),
            )
        )

    counts = Counter(data)
    measure(
        "sort",
        "sorted()",
        lambda: sorted(data),
        lambda r: is_sorted(r) and Counter(r) == counts,
        None,
        ERLANG_SORT_1M,
    )
    full_methods: list[tuple[str, Callable[[Sequence[list[int]]], list[int]]]] = [
        ("heapq.merge (k-way)", merge_heapq),
        ("pairwise merge_all (serial)", merge_pairwise),
        ("sorted(chain(*lists))", merge_sorted_chain),
        ("list(chain) + list.sort()", merge_flat_sort),
        ("bucket sort (int keys)", merge_buckets),
    ]
    for name, merge in full_methods:
        measure(
            "full_merge",
            name,
            lambda merge=merge: merge(ascending),
            lambda r: r == expected,
            FULL_MERGE_TARGET,
            ERLANG_MERGE_ALL,
        )
    heads = array("q", (items[0] for items in descending))
    newest_methods: list[tuple[str, Callable[[Sequence[list[int]], int], list[int]]]] = [
        ("twoorl merge_newest", merge_newest),
        (
            "merge_newest, heads kept beside the lists",
            lambda lists, limit: newest_with_heads(lists, heads, limit),
        ),
        ("heapq.merge + islice", newest_heapq),
        ("heapq.nlargest (full scan)", newest_nlargest),
    ]
    for name, newest in newest_methods:
        measure(
            "newest",
            name,
            lambda newest=newest: newest(descending, page),
            lambda r: r == expected_page,
            NEWEST_TARGET,
            None,
        )
    return results


def seconds_text(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value >= 0.1 else f"{value:.4f}"


def table(results: Sequence[Result]) -> str:
    """The results as a Markdown table."""
    header = [
        "workload",
        "method",
        "seconds (best)",
        "CPU s",
        "target",
        "met",
        "seed's Erlang",
        "correct",
    ]
    rows = [header, ["---"] * len(header)]
    for r in results:
        rows.append(
            [
                r.workload,
                r.method,
                seconds_text(r.seconds),
                seconds_text(r.cpu_seconds),
                "—" if r.target_seconds is None else f"<= {seconds_text(r.target_seconds)}",
                "—" if r.met is None else ("yes" if r.met else "no"),
                seconds_text(r.erlang_seconds),
                "yes" if r.correct else "NO",
            ]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per method (best is kept)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--lists", type=int, help=f"number of lists (default {DEFAULT_LISTS})")
    parser.add_argument(
        "--per-list", type=int, default=DEFAULT_PER_LIST, help="ints per list (default 20)"
    )
    parser.add_argument("--page", type=int, default=DEFAULT_PAGE, help="newest items wanted")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_LISTS} lists unless --lists; for tests"
    )
    args = parser.parse_args(argv)
    if args.lists is None:
        args.lists = QUICK_LISTS if args.quick else DEFAULT_LISTS
    for name in ("repeat", "lists", "per_list", "page"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    results = run_benchmark(args.lists, args.per_list, args.page, args.repeat, args.seed)
    load_after = os.getloadavg()
    print(
        f"{args.lists:,} lists x {args.per_list} ints, page {args.page}, "
        f"best of {args.repeat}, seed {args.seed}; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load {load_before[0]:.2f} -> {load_after[0]:.2f}"
    )
    print(table(results))
    if args.json:
        report = {
            "benchmark": "merge",
            "argv": sys.argv,
            "lists": args.lists,
            "per_list": args.per_list,
            "items": args.lists * args.per_list,
            "page": args.page,
            "repeat": args.repeat,
            "seed": args.seed,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "results": [asdict(r) for r in results],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r.correct for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
