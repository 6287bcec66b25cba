"""The Ray executor (optional ``ray`` extra): each work unit is one Ray task on a cluster.

A task runs the very ``fn`` the process pool runs (``process_unit`` bound to the settings), on
whichever node has a free CPU; the driver gets the :class:`~retrouve.domain.UnitResult` back
and the runner writes it, so the store is only ever written by the driver, exactly as with the
process pool. Nodes never need the database: they need the footage at the same path and the
same Python environment (``docs/cluster.md``).

Failures: a task whose worker process or node dies is retried by Ray (``max_retries``) on any
node, which is safe because a unit is a pure function of its inputs. A unit still lost after
its retries does not stop the others: they are yielded, and :class:`~retrouve.errors.
AnalysisError` is raised at the end naming the lost ones; they stay pending in the store and
the next ``analyse`` resumes them (the runner's resume).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from retrouve.errors import AnalysisError, ConfigError, MissingExtraError

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

#: How many times Ray reruns a task whose worker process or node died.
DEFAULT_RETRIES = 3


def import_ray(what: str = "executor = 'ray'") -> Any:
    """The ``ray`` module, or :class:`MissingExtraError` naming the ``ray`` extra."""
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError("ray", what) from exc
    return ray


def _probe(address: str, timeout_s: float = 5.0) -> None:
    """ConfigError at once when ``HOST:PORT`` takes no TCP connection: ``ray.init`` itself
    retries for minutes. ``auto`` (and Ray's ``ray://`` client URLs) are left to Ray."""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"ray_address {address!r}: no Ray head node answers there ({exc}); "
                          "start one with `ray start --head`, or set ray_address = "
                          "'auto' on a node that joined the cluster") from exc


@dataclass(frozen=True)
class Placement(Generic[T]):
    """Where one item ran: the Ray node id (hex) of the worker that returned its result."""

    item: T
    node_id: str


def _run_on_node(fn: Callable[[T], R], item: T) -> tuple[str, R]:
    """The Ray task body: ``fn(item)`` on one core, with the id of the node it ran on."""
    import cv2
    import ray

    # Same as the process pool's initializer: one core per task, no OpenCV thread pool.
    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return ray.get_runtime_context().get_node_id(), fn(item)


class RayExecutor:
    """Runs items as Ray tasks of one CPU each, yielding results as they complete.

    ``address``: ``None`` starts a private Ray on this machine with ``workers`` CPUs (stopped
    by :meth:`shutdown`); ``"auto"`` joins the cluster this machine was added to with
    ``ray start``; ``"HOST:PORT"`` joins that head node. At most twice the cluster's CPUs are
    in flight, so an interrupt loses little work and the driver's memory stays bounded.
    """

    def __init__(self, address: str | None, workers: int,
                 max_retries: int = DEFAULT_RETRIES) -> None:
        self._ray = import_ray()
        ray = self._ray
        self._owns = not ray.is_initialized()
        if self._owns:
            if address:
                _probe(address)
                try:
                    ray.init(address=address, log_to_driver=False, configure_logging=False)
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    raise ConfigError(f"ray_address {address!r}: cannot join the Ray cluster "
                                      f"there ({exc}); is `ray start` running?") from exc
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._task = ray.remote(num_cpus=1, max_retries=max_retries,
                                retry_exceptions=False)(_run_on_node)
        self._pending: dict[Any, Any] = {}
        #: Where each finished item ran, in completion order (tests, logs).
        self.placements: list[Placement[Any]] = []

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T],
                      lost: Callable[[T, str], R] | None = None,
                      time_limit: Callable[[T], float] | None = None) -> Iterator[R]:
        # ``lost`` is not used: Ray reruns a task whose worker died by itself
        # (``max_retries``), and a unit still lost then stays pending for the next run.
        # ``time_limit`` is not enforced on Ray (a hung task keeps its CPU).
        ray = self._ray
        fn_ref = ray.put(fn)  # shipped once to the object store, not once per task
        pending: dict[Any, T] = {}
        self._pending = pending
        gone: list[tuple[T, str]] = []
        it = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * self.cpus:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending[self._task.remote(fn_ref, item)] = item
            if not pending:
                break
            [ref], _ = ray.wait(list(pending), num_returns=1)
            item = pending.pop(ref)
            try:
                node_id, result = ray.get(ref)
            except ray.exceptions.RayError as exc:
                # Retries spent (or the task was cancelled): the others go on.
                log.error("Ray task lost after retries: %s", type(exc).__name__)
                gone.append((item, f"{type(exc).__name__}: {exc}"))
                continue
            self.placements.append(Placement(item, node_id))
            yield result
        if gone:
            names = ", ".join(str(getattr(i, "id", i)) for i, _ in gone[:5])
            raise AnalysisError(
                f"{len(gone)} work unit(s) lost on the Ray cluster after retries ({names}); "
                f"they stay pending: run analyse again to resume them. First error: "
                f"{gone[0][1][:500]}")

    def shutdown(self) -> None:
        ray = self._ray
        for ref in list(self._pending):
            # Already finished or its node gone: nothing to cancel.
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        self._pending = {}
        if self._owns and ray.is_initialized():
            ray.shutdown()
