"""Executors: run ``fn(unit)`` over work units and yield results as they complete.

``ProcessExecutor`` (default) uses a process pool, one process per core: detection is
CPU-bound and the GIL would serialise threads. ``InlineExecutor`` runs in the calling process
(one worker, tests, debugging).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol, TypeVar

from retrouve.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...

    def shutdown(self) -> None: ...


class InlineExecutor:
    """Runs each item in the calling process, in order."""

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)

    def shutdown(self) -> None:
        return None


def _init_worker(parent: int) -> None:
    # Each worker owns one core: OpenCV's own thread pool would oversubscribe the machine.
    import signal

    import cv2

    # Ctrl-C is for the parent: it stops handing out units and records the interruption;
    # workers dying mid-unit on SIGINT would only add noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # A worker must not outlive its parent (killed with -9, nothing to shut the pool
    # down): when the parent dies the worker is re-parented, and it exits.
    # ``parent`` comes from the parent itself: a worker orphaned before this line runs
    # sees another ``getppid()`` and exits at the first check.
    threading.Thread(target=_watch_parent, args=(parent,), name="parent-watchdog",
                     daemon=True).start()


#: Seconds between two checks of a worker that its parent is alive.
PARENT_POLL_S = 0.5


def _watch_parent(parent: int) -> None:
    """Exit this worker at once when its parent process ``parent`` is gone."""
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            os._exit(3)


class ProcessExecutor:
    """A pool of ``workers`` processes (spawned: no forked locks from OpenCV or FFmpeg).

    At most ``2 * workers`` units are in flight, so an interrupt loses little work and memory
    stays bounded on long case lists.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(os.getpid(),),
        )

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: set[Future[R]] = set()
        it = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * self.workers:
                try:
                    pending.add(self._pool.submit(fn, next(it)))
                except StopIteration:
                    exhausted = True
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def make_executor(kind: str, workers: int, ray_address: str | None = None) -> Executor:
    """``process`` (default; inline when ``workers == 1``), ``inline``, or ``ray`` (tasks on
    the Ray cluster at ``ray_address``: :mod:`retrouve.analysis.ray_executor`)."""
    if kind == "ray":
        from retrouve.analysis.ray_executor import RayExecutor  # the optional extra

        return RayExecutor(ray_address, workers)
    if kind == "inline" or (kind == "process" and workers <= 1):
        return InlineExecutor()
    if kind == "process":
        return ProcessExecutor(workers)
    raise ConfigError(f"unknown executor {kind!r}: expected 'process', 'inline' or 'ray'")
