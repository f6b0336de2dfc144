"""A progress bar on stderr (rich), or nothing: loaders only ever call ``step`` and
``advance``, so benchmarks can run them silently."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Tracker:
    """Reports phases ("planning", "writing rows") and rows written; silent by default."""

    def step(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, count: int) -> None:
        pass


class _RichTracker(Tracker):
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def step(self, description: str, total: int | None = None) -> None:
        if self._task is not None:
            # Close the previous phase as done, so its line reads complete.
            task = self._progress.tasks[self._task]
            self._progress.update(
                self._task, total=task.completed or 1, completed=task.completed or 1
            )
        self._task = self._progress.add_task(description, total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)


@contextmanager
def tracker(enabled: bool) -> Iterator[Tracker]:
    if not enabled:
        yield Tracker()
        return
    # stderr: the summary on stdout stays clean for scripts.
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as progress:
        yield _RichTracker(progress)
