"""Analysis started from the web: one background thread at a time, inside one case.

No case, no processing: a start names the case it runs in (the active case, checked by
``case_scope.in_case``) and the thread runs :meth:`retrouve.services.Services.analyse_case`,
exactly as ``retrouve analyse --case REF``: work units cut at the case's scope boundaries, no
footage outside the scope decoded, ``analysis-start`` / ``analysis-finish`` journalled with
the case and the user who started it.

The analysis is resumable (units written atomically), so a server stopped mid-run loses
nothing: the next start resumes. The thread is a daemon for the same reason: it must not keep
a stopping server alive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from retrouve.analysis.planning import plan_scoped_units
from retrouve.domain import ScopeWindow, UnitResult, UnitStatus
from retrouve.legal.cases import Actor
from retrouve.services import Services
from retrouve.store.cases import CaseRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobState:
    """A snapshot of the web-started analysis (``running`` False before the first start).
    ``case``: the reference of the case it runs (or ran) in."""

    running: bool = False
    case: str | None = None
    started_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    units_done: int = 0
    units_total: int = 0
    units_failed: int = 0
    tracks: int | None = None
    error: str | None = None

    def seen_from(self, case_ref: str | None) -> JobState:
        """What a user working in ``case_ref`` may see: everything about a run of their case;
        of another case's run only that one is running (its case, user and counts are that
        case's business)."""
        if self.case is None or self.case == case_ref:
            return self
        return JobState(running=self.running)

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running, "case": self.case, "started_by": self.started_by,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "units_done": self.units_done, "units_total": self.units_total,
            "units_failed": self.units_failed, "tracks": self.tracks, "error": self.error,
        }


def to_analyse(services: Services, scope: Sequence[ScopeWindow],
               recording_ids: Sequence[str] | None = None) -> list[str]:
    """Ids of the recordings with footage inside ``scope`` still to analyse (a unit the
    case's planning would run that is not done), optionally among ``recording_ids`` only.
    Plans without writing anything: the same units ``Analyser.analyse(scope=…)`` would."""
    slice_s = services.settings.analysis.slice_seconds
    wanted = set(recording_ids) if recording_ids else None
    out = []
    for rec in services.analyser.in_scope(scope):
        if wanted is not None and rec.id not in wanted:
            continue
        units = plan_scoped_units(rec, slice_s, scope, services.store.done_spans(rec.id))
        status = services.store.unit_status([rec.id])
        if any(status.get(u.id) is not UnitStatus.DONE for u in units):
            out.append(rec.id)
    return out


class AnalysisJob:
    """Runs ``services.analyse_case`` in a thread, refusing a second start while one runs
    (whatever its case: the workers are the installation's)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.clock = services.clock
        self._lock = threading.Lock()
        self._state = JobState()
        self._thread: threading.Thread | None = None

    def state(self) -> JobState:
        with self._lock:
            return self._state

    def pending_count(self, scope: Sequence[ScopeWindow]) -> int:
        """Recordings with footage still to analyse inside ``scope``."""
        return len(to_analyse(self.services, scope))

    def start(self, actor: Actor, case: CaseRecord,
              recording_ids: Sequence[str] | None = None) -> bool:
        """Start analysing the footage of ``case``'s scope (of the given recordings only,
        when given) as ``actor``, who must be allowed to work in it (the caller checked it;
        ``analyse_case`` journals it). False if an analysis is already running."""
        with self._lock:
            if self._state.running:
                return False
            self._state = JobState(running=True, case=case.ref, started_by=actor.name,
                                   started_at=self.clock())
            self._thread = threading.Thread(
                target=self._run, args=(actor, case, tuple(recording_ids or ())),
                name="retrouve-web-analysis", daemon=True,
            )
            self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running analysis (tests, orderly shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _started(self, units: int) -> None:
        with self._lock:
            self._state = replace(self._state, units_total=units)

    def _progress(self, done: int, total: int, result: UnitResult) -> None:
        with self._lock:
            self._state = replace(
                self._state, units_done=done, units_total=total,
                units_failed=self._state.units_failed + (1 if result.error else 0),
            )

    def _run(self, actor: Actor, case: CaseRecord, recording_ids: tuple[str, ...]) -> None:
        error: str | None = None
        tracks: int | None = None
        try:
            report = self.services.analyse_case(actor, case, progress=self._progress,
                                                recording_ids=recording_ids,
                                                started=self._started)
            tracks = report.tracks
        except Exception as exc:  # the thread must record any failure, not die silently
            log.exception("web-started analysis in case %s failed", case.ref)
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._state = replace(self._state, running=False, finished_at=self.clock(),
                                  tracks=tracks, error=error)
