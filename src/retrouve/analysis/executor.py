"""Executors: run ``fn(unit)`` over work units and yield results as they complete.

``ProcessExecutor`` (default) uses a process pool, one process per core: detection is
CPU-bound and the GIL would serialise threads. ``InlineExecutor`` runs in the calling process
(one worker, tests, debugging).

A worker process that dies mid-unit (a native crash in a decoder or a model on a damaged
file, the kernel's out-of-memory killer) breaks the whole pool: every unit then in flight
fails with it, and which one killed it is unknown. ``ProcessExecutor`` restarts the pool and
reruns those units **one at a time**: a unit that kills its worker while alone is the cause;
after :data:`CRASH_ATTEMPTS` such deaths it is handed to the caller's ``lost`` callback (the
runner records it as a failed unit, which the next run retries) and the batch goes on.

A unit that *hangs* (an unreadable network share, a decoder loop) is handled the same way when
the caller gives a ``time_limit``: a unit running longer than its limit has the pool's
processes killed, and is then treated as a death (rerun alone; given up when it overruns
alone again). "Running" starts when the pool hands the unit to its call queue, which holds
at most one unit more than there are workers: the limit must be generous (the runner's is
``unit_time_limit`` × the unit's footage, at least :data:`MIN_TIME_LIMIT_S`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol, TypeVar

from retrouve.errors import AnalysisError, ConfigError

T = TypeVar("T")
R = TypeVar("R")


#: Deaths of its worker process, while it ran alone, after which a unit is given up.
CRASH_ATTEMPTS = 2
#: Seconds to wait for the other futures of a pool that broke to be marked failed.
BROKEN_WAIT_S = 10.0
#: Seconds between two looks at the running units' times, when they have a limit.
WATCH_POLL_S = 1.0
#: The least time limit the runner gives a unit (seconds): start-up and model loading.
MIN_TIME_LIMIT_S = 600.0


class Executor(Protocol):
    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T],
                      lost: Callable[[T, str], R] | None = None,
                      time_limit: Callable[[T], float] | None = None) -> Iterator[R]:
        """``fn(item)`` for every item, as they complete. ``lost(item, why)`` stands in for
        the result of an item the executor had to give up (its process kept dying, or it
        kept overrunning ``time_limit(item)`` seconds); without it such items raise
        :class:`~retrouve.errors.AnalysisError` once the others are yielded. Executors that
        cannot stop a running item ignore ``time_limit``."""
        ...

    def shutdown(self) -> None: ...


class InlineExecutor:
    """Runs each item in the calling process, in order (a crash ends the process: ``lost``
    is never called)."""

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T],
                      lost: Callable[[T, str], R] | None = None,
                      time_limit: Callable[[T], float] | None = None) -> Iterator[R]:
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
    stays bounded on long case lists. A dead worker is survived (module docstring).
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        #: Pools started after a worker died (for the record and the tests).
        self.restarts = 0
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(os.getpid(),),
        )

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T],
                      lost: Callable[[T, str], R] | None = None,
                      time_limit: Callable[[T], float] | None = None) -> Iterator[R]:
        it = enumerate(items)
        pending: dict[Future[R], tuple[int, T]] = {}
        #: When each pending future was first seen running (monotonic seconds).
        since: dict[Future[R], float] = {}
        #: Items in flight when a worker died: rerun one at a time, before any new item.
        suspects: list[tuple[int, T]] = []
        #: Items a dead pool refused before they ran: innocent, next in line.
        refused: list[tuple[int, T]] = []
        deaths: dict[int, int] = {}
        #: Items whose time limit ran out (seconds allowed), for the message.
        overran: dict[int, float] = {}
        #: Items that overran in the pool now running: the cause of its coming break.
        late: set[int] = set()
        given_up: list[tuple[T, str]] = []
        while True:
            limit = 1 if suspects else 2 * self.workers
            refused_now = False
            while len(pending) < limit:
                queue = suspects or refused
                entry = queue.pop(0) if queue else next(it, None)
                if entry is None:
                    break
                try:
                    pending[self._pool.submit(fn, entry[1])] = entry
                except BrokenProcessPool:
                    # A worker died since the last look: the pool refuses new calls.
                    refused.insert(0, entry)
                    refused_now = True
                    break
            if not pending and not refused_now:
                break
            broken: list[tuple[int, T]] = []
            if pending:
                done, _ = wait(pending, timeout=WATCH_POLL_S if time_limit else None,
                               return_when=FIRST_COMPLETED)
                for fut in done:
                    since.pop(fut, None)
                if time_limit is not None:
                    late |= self._watch(pending, since, time_limit, overran)
                broken = [pending.pop(f) for f in done if _died(f)]
                for fut in done:
                    if fut in pending:
                        del pending[fut]
                        yield fut.result()
            if not broken and not refused_now:
                continue
            # The pool is dead: its other futures fail too (or finished just before).
            rest, _ = wait(pending, timeout=BROKEN_WAIT_S)
            for fut in rest:
                if not _died(fut):
                    del pending[fut]
                    yield fut.result()
            in_flight = broken + list(pending.values())
            pending.clear()
            since.clear()
            self._restart()
            culprits, late = late, set()
            alone = len(in_flight) == 1
            for key, item in in_flight:
                # A death alone names its cause; so does an overrun (the killed others
                # are only rerun).
                if alone or key in culprits:
                    deaths[key] = deaths.get(key, 0) + 1
                    if deaths[key] >= CRASH_ATTEMPTS:
                        why = _why(deaths[key], overran.get(key))
                        if lost is None:
                            given_up.append((item, why))
                        else:
                            yield lost(item, why)
                        continue
                suspects.append((key, item))
        if given_up:
            names = ", ".join(str(getattr(i, "id", i)) for i, _ in given_up[:5])
            raise AnalysisError(f"{len(given_up)} work unit(s) given up ({names}): "
                                f"{given_up[0][1]}")

    def _watch(self, pending: dict[Future[R], tuple[int, T]], since: dict[Future[R], float],
               time_limit: Callable[[T], float], overran: dict[int, float]) -> set[int]:
        """Note when futures start running; kill the pool's processes when one has run past
        its limit (the break that follows reruns it alone, see the module docstring). The
        keys of the items that overran."""
        now = time.monotonic()
        late_keys: set[int] = set()
        for fut, (key, item) in pending.items():
            if fut.running():
                start = since.setdefault(fut, now)
                allowed = time_limit(item)
                if now - start > allowed:
                    overran[key] = allowed
                    late_keys.add(key)
        if late_keys:
            # ProcessPoolExecutor cannot stop one call: its processes are killed (Python
            # 3.14's kill_workers() does the same), which breaks the pool.
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.kill()
        return late_keys

    def _restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        self.restarts += 1

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _why(deaths: int, allowed_s: float | None) -> str:
    if allowed_s is not None:
        return (f"this unit was stopped {deaths} times after running longer than its limit "
                f"of {allowed_s:.0f} s (a hang: unreadable footage, a stuck decoder?); the "
                "other units went on")
    return (f"the analysis process died {deaths} times while analysing this unit alone (a "
            "crash in a decoder or a model on this footage, or out of memory); the other "
            "units went on")


def _died(fut: Future[R]) -> bool:
    """True when ``fut`` failed because its pool lost a worker process."""
    return fut.done() and not fut.cancelled() and isinstance(fut.exception(),
                                                              BrokenProcessPool)


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
