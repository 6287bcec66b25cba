"""Evidence bundles built from the web: one background thread per export request, and the
state the case page shows while it runs (the page refreshes itself, as the footage page does
for the analysis).

The build is :meth:`retrouve.services.Services.export_build`, the call the CLI's ``export
create --request`` makes: the rules (approved, works in the case, footage unchanged) and the
``export-produce`` journal entry are its. It writes into a staging folder and renames the zip
at the end, so a server stopped mid-build leaves no partial bundle and the request stays
``approved``: building it again starts over. The thread is a daemon for that reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from retrouve.errors import InputError
from retrouve.export.bundle import BundleResult
from retrouve.legal.cases import Actor
from retrouve.store.exports import ExportRecord

log = logging.getLogger(__name__)

#: ``Services.export_build``'s signature: (actor, export id, output folder).
Build = Callable[[Actor, int, Path], tuple[ExportRecord, BundleResult]]


@dataclass(frozen=True)
class BuildState:
    """One web-started build. Times aware UTC (the services' clock); ``seconds``: the
    builder's own wall time; ``error``: why it failed (an ``InputError``'s message as is)."""

    export_id: int
    started_by: str
    started_at: datetime
    running: bool = True
    finished_at: datetime | None = None
    seconds: float | None = None
    error: str | None = None


class ExportBuilds:
    """Starts builds in threads, refusing a second start of a request while one runs."""

    def __init__(self, build: Build, clock: Callable[[], datetime]) -> None:
        self.build, self.clock = build, clock
        self._lock = threading.Lock()
        self._states: dict[int, BuildState] = {}
        self._threads: dict[int, threading.Thread] = {}

    def state(self, export_id: int) -> BuildState | None:
        with self._lock:
            return self._states.get(export_id)

    def start(self, actor: Actor, export_id: int, out: Path) -> bool:
        """Build ``export_id`` into ``out`` as ``actor``. False if it is being built."""
        with self._lock:
            current = self._states.get(export_id)
            if current is not None and current.running:
                return False
            self._states[export_id] = BuildState(export_id, actor.name, self.clock())
            thread = threading.Thread(target=self._run, args=(actor, export_id, out),
                                      name=f"retrouve-web-export-{export_id}", daemon=True)
            self._threads[export_id] = thread
            thread.start()
        return True

    def join(self, export_id: int, timeout: float | None = None) -> None:
        """Wait for a build (tests, orderly shutdown)."""
        thread = self._threads.get(export_id)
        if thread is not None:
            thread.join(timeout)

    def _run(self, actor: Actor, export_id: int, out: Path) -> None:
        error: str | None = None
        seconds: float | None = None
        try:
            _rec, result = self.build(actor, export_id, out)
            seconds = result.seconds
        except InputError as exc:  # a refusal (footage changed, scope…): shown as written
            error = str(exc)
        except Exception as exc:  # the thread must record any failure, not die silently
            log.exception("web-started export %s failed", export_id)
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._states[export_id] = replace(self._states[export_id], running=False,
                                              finished_at=self.clock(), seconds=seconds,
                                              error=error)


__all__ = ["BuildState", "ExportBuilds"]
