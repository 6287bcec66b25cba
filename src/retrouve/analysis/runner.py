"""Run the analysis of pending recordings: plan units, execute, store, resume.

Resuming is by construction: units have deterministic ids and a unit's tracks are written in
the same transaction that marks it done. After Ctrl-C or a crash, the next run skips done
units and redoes the others, replacing any half-written tracks, so nothing is duplicated or
lost. Every run records the model names/versions and the analysis settings.

Several runs (drivers, on one machine or several sharing the database) cooperate through
claims on the units (``store/claims.py``): a run claims each unit as its executor asks for
the next one, renews its claims on a heartbeat, stores a result only while it holds the
unit's claim, and waits for the units other live runs hold before linking and settling its
recordings. The executors only compute: claims and writes stay in this driver.
"""

from __future__ import annotations

import errno
import functools
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from retrouve import __version__
from retrouve.analysis.executor import MIN_TIME_LIMIT_S, Executor
from retrouve.analysis.objects import link_recordings
from retrouve.analysis.pipeline import process_unit
from retrouve.analysis.planning import plan_scoped_units, plan_units
from retrouve.catalogue.integrity import check_footage
from retrouve.config import Settings
from retrouve.domain import (
    Recording,
    RecordingStatus,
    RunStatus,
    ScopeWindow,
    StageStats,
    UnitResult,
    UnitStatus,
    WorkUnit,
)
from retrouve.errors import ClaimLost, DiskFull, FootageChanged, RetrouveError
from retrouve.store.claims import LiveRun
from retrouve.store.db import Store
from retrouve.store.records import UnitRow
from retrouve.vision.models import DetectorFactory, PlateReaderFactory

log = logging.getLogger(__name__)

#: Called after each unit with (units done, units total, result).
Progress = Callable[[int, int, UnitResult], None]

#: Seconds between two looks at the units other drivers hold, while this one has nothing left
#: to claim but waits for them: to take over those of a driver that dies, and to link and
#: settle its recordings once every unit is stored.
WAIT_POLL_S = 1.0


class _Heartbeat:
    """A daemon thread renewing the claims of run ``run_id`` every ``every_s`` seconds, each
    time to ``lease_s`` seconds past the clock (``store/claims.py``), **while the driver shows
    life**: the driver calls :meth:`tick` as it claims, stores and waits; when no tick came
    for ``stall_s`` seconds (``monotonic`` time), the beat stops renewing, so the lease lapses
    and other drivers take the units over. Without that, a driver hung in its own code (a
    deadlock, a stuck call) would keep its units forever behind a live heartbeat. ``stall_s``
    must exceed the longest silence a healthy driver has: one unit's time limit (an inline
    executor runs the unit in the driver's thread; a pool's watchdog fails a unit past it)."""

    def __init__(self, store: Store, run_id: int, clock: Callable[[], datetime],
                 every_s: float, lease_s: float, stall_s: float = math.inf,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="analysis-heartbeat",
                                        daemon=True)
        self.store, self.run_id, self.clock = store, run_id, clock
        self.every_s, self.lease = every_s, timedelta(seconds=lease_s)
        self.stall_s, self._monotonic = stall_s, monotonic
        self._last_tick = monotonic()
        self._stalled = False

    def start(self) -> None:
        self._thread.start()

    def tick(self) -> None:
        """The driver is alive (called from its thread; a float store is atomic)."""
        self._last_tick = self._monotonic()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def beat(self) -> bool:
        """One renewal, unless the driver has stalled; True when the claims were renewed."""
        silent = self._monotonic() - self._last_tick
        if silent > self.stall_s:
            if not self._stalled:
                log.error("analysis run %s shows no progress for %.0f s (more than %.0f s): "
                          "its claims are no longer renewed, other drivers may take its "
                          "units over", self.run_id, silent, self.stall_s)
            self._stalled = True
            return False
        if self._stalled:
            log.warning("analysis run %s is making progress again", self.run_id)
            self._stalled = False
        try:
            now = self.clock()
            self.store.renew_claims(self.run_id, now, now + self.lease)
        except RetrouveError as exc:  # keep beating: a busy database passes
            log.warning("cannot renew the claims of analysis run %s: %s", self.run_id, exc)
            return False
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.beat()


@dataclass
class AnalysisReport:
    """What one ``analyse`` call did."""

    run_id: int | None = None
    units_total: int = 0
    units_done: int = 0
    units_failed: int = 0
    units_skipped: int = 0
    tracks: int = 0
    footage_seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    stats: list[StageStats] = field(default_factory=list)
    interrupted: bool = False
    #: Tracks whose object changed when this run linked fragments (``analysis/objects.py``).
    objects_relinked: int = 0
    #: Recordings not analysed because their file changed since ingest: (id, message).
    changed: list[tuple[str, str]] = field(default_factory=list)
    #: Recordings left partial after the run, with what is missing: (id, note); e.g. a
    #: truncated file, or a case scope covering part of it (units outside it not planned).
    partial: list[tuple[str, str]] = field(default_factory=list)
    #: Units of this call's footage stored by other analysis runs while it ran (another
    #: driver on the same store: ``store/claims.py``).
    units_elsewhere: int = 0
    #: Results dropped because another run had taken the unit over (this run's claim had
    #: lapsed) and stored it, or holds it.
    units_taken_over: int = 0
    #: When nothing was left to claim at the start: the other runs holding the units.
    held_by: list[LiveRun] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "units_total": self.units_total,
            "units_done": self.units_done, "units_failed": self.units_failed,
            "units_skipped": self.units_skipped, "tracks": self.tracks,
            "footage_seconds": round(self.footage_seconds, 1),
            "failures": [{"unit": u, "error": e} for u, e in self.failures],
            "interrupted": self.interrupted, "objects_relinked": self.objects_relinked,
            "changed": [{"recording": r, "error": e} for r, e in self.changed],
            "partial": [{"recording": r, "note": n} for r, n in self.partial],
            "units_elsewhere": self.units_elsewhere,
            "units_taken_over": self.units_taken_over,
            "held_by": [{"run_id": h.run_id, "host": h.host, "pid": h.pid, "units": h.units,
                         "lease_until": h.lease_until.isoformat() if h.lease_until else None}
                        for h in self.held_by],
        }


class Analyser:
    """Analyses recordings into tracks in the store."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        executor_factory: Callable[[], Executor],
        clock: Callable[[], datetime],
        models: dict[str, str],
        detector_factory: DetectorFactory | None = None,
        plate_reader_factory: PlateReaderFactory | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.executor_factory = executor_factory
        self.clock = clock
        self.models = models
        self.detector_factory = detector_factory
        self.plate_reader_factory = plate_reader_factory

    def pending(self, recording_ids: Sequence[str] | None = None,
                retry_failed: bool = True) -> list[Recording]:
        # A "changed" recording is checked again: a restored original is analysed.
        statuses = [RecordingStatus.PENDING, RecordingStatus.ANALYSING, RecordingStatus.PARTIAL,
                    RecordingStatus.CHANGED]
        if retry_failed:
            statuses.append(RecordingStatus.FAILED)
        recs = [e.recording for e in self.store.list_recordings(status=statuses)]
        if recording_ids:
            wanted = set(recording_ids)
            recs = [r for r in recs if r.id in wanted]
        return recs

    def in_scope(self, scope: Sequence[ScopeWindow]) -> list[Recording]:
        """Every recording (any status) overlapping one of ``scope``'s windows."""
        recs = []
        for cam in sorted({w.camera for w in scope}):
            for e in self.store.list_recordings(camera_id=cam):
                r = e.recording
                end = r.start + timedelta(seconds=max(r.duration_s, 0.0))
                if any(w.camera == cam and w.start <= end and r.start <= w.end for w in scope):
                    recs.append(r)
        return recs

    def analyse(
        self, recording_ids: Sequence[str] | None = None, progress: Progress | None = None,
        scope: Sequence[ScopeWindow] | None = None,
        started: Callable[[int], None] | None = None,
    ) -> AnalysisReport:
        """Analyse every pending (or interrupted, or failed) recording, or the given ones.

        ``scope`` (a case's windows): only the footage inside them, whatever the recordings'
        status, in units cut at the windows' boundaries (footage already analysed left out).
        ``started(units)`` is called once the units this run may analyse are known, before
        the first one runs (a progress bar's total); ``progress(done, total, result)`` after
        each unit it analysed.

        Several runs share a store (``store/claims.py``): this one first recovers what dead
        drivers left (their runs interrupted, their claims released), then claims each unit
        just before analysing it, renews its claims on a heartbeat, and, when nothing is left
        to claim, waits for the units other live runs hold (taking over those whose lease
        lapses) so that its recordings are linked and settled once all are stored. A unit is
        analysed by one run at a time and stored once. When every unit left is held by other
        live runs from the start, no run is started: ``held_by`` names them.
        """
        host, pid = socket.gethostname(), os.getpid()
        left = self.store.recover_interrupted(self.clock(), host)
        if left.runs or left.units or left.recordings:
            log.warning("recovered what dead analysis runs left: %s run(s) marked "
                        "interrupted, %s unit claim(s) released, %s recording(s) back to "
                        "pending", left.runs, left.units, left.recordings)
        return self._analyse(recording_ids, progress, scope, started, host, pid)

    def _analyse(
        self, recording_ids: Sequence[str] | None, progress: Progress | None,
        scope: Sequence[ScopeWindow] | None, started: Callable[[int], None] | None,
        host: str, pid: int,
    ) -> AnalysisReport:
        recs = self.pending(recording_ids) if scope is None else [
            r for r in self.in_scope(scope) if not recording_ids or r.id in recording_ids]
        report = AnalysisReport()
        recs = self._verified(recs, report)
        units: list[WorkUnit] = []
        for rec in recs:
            planned = (plan_units(rec, self.settings.analysis.slice_seconds) if scope is None
                       else plan_scoped_units(rec, self.settings.analysis.slice_seconds,
                                              scope, self.store.done_spans(rec.id)))
            self.store.ensure_units(planned)
            units.extend(planned)
        rows = {u.id: u for u in self.store.units_of([r.id for r in recs])}
        todo = [u for u in units if u.id not in rows or rows[u.id].status != UnitStatus.DONE]
        report.units_total = len(units)
        report.units_skipped = len(units) - len(todo)
        if not todo:
            # Nothing to analyse, but an interrupted run may have stored units unlinked.
            report.objects_relinked = link_recordings(self.store, recs)
            self._settle(recs, report)
            return report
        now = self.clock()
        held = self.store.live_claims([u.id for u in todo], now)
        if len(held) == len(todo):
            # Every unit left is being analysed by other live runs: nothing to do here.
            report.held_by = self.store.runs_holding(held)
            return report
        lease_s = self.settings.claims.lease_seconds
        run_id = self.store.start_run(
            now, self.settings.analysis.model_dump(), self.models, __version__,
            host=host, pid=pid, lease_until=now + timedelta(seconds=lease_s))
        report.run_id = run_id
        total = len(todo) - len(held)
        if started:
            started(total)
        executor = self.executor_factory()
        fn = functools.partial(
            process_unit, settings=self.settings, detector_factory=self.detector_factory,
            plate_reader_factory=self.plate_reader_factory,
        )
        durations = {r.id: r.duration_s for r in recs}

        def allowed(unit: WorkUnit) -> float:
            # A hung unit's limit: generous, so only a real hang reaches it.
            end = min(unit.t1, durations.get(unit.recording_id, unit.t1))
            footage = end - unit.t0 if math.isfinite(end) else self.settings.analysis.slice_seconds
            return max(MIN_TIME_LIMIT_S, self.settings.unit_time_limit * footage)

        # Silent longer than the longest unit may take, plus a lease: the driver is hung.
        beat = _Heartbeat(self.store, run_id, self.clock,
                          self.settings.claims.heartbeat_seconds, lease_s,
                          stall_s=max(allowed(u) for u in todo) + lease_s)
        beat.start()

        by_id = {u.id: u for u in todo}
        attempted: set[str] = set()
        try:
            candidates = [u for u in todo if u.id not in held]
            while candidates:
                before = len(attempted)
                claimed = self._claimed(run_id, candidates, lease_s, beat.tick)
                for result in executor.map_unordered(fn, claimed, lost=_crashed,
                                                     time_limit=allowed):
                    beat.tick()
                    attempted.add(result.unit_id)
                    if self._record(run_id, result, report):
                        unit = by_id[result.unit_id]
                        end = min(unit.t1, durations.get(unit.recording_id, unit.t1))
                        report.footage_seconds += max(0.0, end - unit.t0)
                    if progress:
                        progress(report.units_done + report.units_failed, total, result)
                if len(attempted) == before:
                    time.sleep(WAIT_POLL_S)  # lost every race this round: no busy loop
                candidates = self._wait_for_others(todo, rows, attempted, host, beat.tick)
        except BaseException as exc:
            # Ctrl-C, a full disk, a database failure: finished units are kept (each was
            # committed with its tracks); the run is interrupted, its claims given back, its
            # recordings pending (unless another live run is on them).
            report.interrupted = True
            executor.shutdown()
            beat.stop()
            self._abandon(run_id, recs)
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                raise DiskFull(f"no space left on the disk while analysing (data folder "
                               f"{self.settings.data_dir}): {exc}; the run is interrupted, "
                               "free some space and run again to resume") from exc
            log.warning("analysis interrupted: finished units are kept, run again to resume")
            raise
        executor.shutdown()
        beat.stop()
        self.store.release_claims(run_id)
        final = {u.id: u for u in self.store.units_of([r.id for r in recs])}
        report.units_elsewhere = sum(
            1 for u in todo if u.id not in attempted and u.id in final
            and final[u.id].status == UnitStatus.DONE and final[u.id].run_id != run_id)
        # Link the fragments of every recording that got units during this run, here or
        # on another driver (slices analysed in any order, or a later run completing the
        # missing ones): one object, one result. Every unit is stored by now, so drivers
        # linking the same recording store the same objects.
        stored = {by_id[u].recording_id for u in by_id if u in final
                  and final[u].status == UnitStatus.DONE}
        report.objects_relinked = link_recordings(
            self.store, [r for r in recs if r.id in stored])
        self.store.finish_run(run_id, self.clock(), RunStatus.DONE if not report.units_failed
                              else RunStatus.DONE_WITH_ERRORS)
        self._settle(recs, report)
        return report

    def _claimed(self, run_id: int, units: Sequence[WorkUnit], lease_s: float,
                 tick: Callable[[], None]) -> Iterator[WorkUnit]:
        """``units`` that run ``run_id`` claims, one claim as the executor asks for the next
        unit (so a run holds only the units in flight: the others stay free for other
        drivers); those done or held by another live run meanwhile are skipped."""
        for unit in units:
            tick()
            now = self.clock()
            if self.store.claim_unit(run_id, unit.id, unit.recording_id, now,
                                     now + timedelta(seconds=lease_s)):
                yield unit

    def _wait_for_others(self, todo: Sequence[WorkUnit], start: dict[str, UnitRow],
                         attempted: set[str], host: str,
                         tick: Callable[[], None]) -> list[WorkUnit]:
        """The units of ``todo`` still to claim: not attempted by this run, not stored, and
        not failed by another run since the start (``start``: the rows then). While other
        live runs hold all of them, wait (a driver that dies is recovered meanwhile, its
        units freed); [] when none is left."""
        while True:
            tick()
            ids = [u.id for u in todo if u.id not in attempted]
            rows = {u.id: u for u in self.store.units_of(
                sorted({u.recording_id for u in todo if u.id not in attempted}))}

            wanted = set(ids)
            candidates = [u for u in todo
                          if u.id in wanted and _to_claim(rows.get(u.id), start.get(u.id))]
            if not candidates:
                return []
            now = self.clock()
            held = self.store.live_claims([u.id for u in candidates], now)
            free = [u for u in candidates if u.id not in held]
            if free:
                return free
            log.info("waiting for %s unit(s) held by %s", len(held), ", ".join(
                r.describe() for r in self.store.runs_holding(held)))
            time.sleep(WAIT_POLL_S)
            # A holder that died (its pid gone here, or its lease lapsed) gives its units
            # back; the next look claims them. Best effort: a busy database (or another
            # driver's recovery racing this one) is tried again at the next look.
            try:
                self.store.recover_interrupted(self.clock(), host)
            except RetrouveError as exc:
                log.warning("cannot recover dead analysis runs now: %s", exc)

    def _abandon(self, run_id: int, recs: Sequence[Recording]) -> None:
        """Leave consistent statuses after a run stopped mid-way: the run interrupted, its
        claims released, its recordings pending unless another live run is on them. Best
        effort (the disk may be full): the next run's recovery (``recover_interrupted``)
        does the same."""
        try:
            self.store.release_claims(run_id)
            self.store.finish_run(run_id, self.clock(), RunStatus.INTERRUPTED)
            for rec in recs:
                self.store.settle_recording(rec.id, self.clock(), _pending)
        except RetrouveError as exc:
            log.error("cannot record the interruption of run %s: %s", run_id, exc)

    def _verified(self, recs: Sequence[Recording], report: AnalysisReport) -> list[Recording]:
        """``recs`` whose file still matches its ingest stamp (``catalogue/integrity.py``).
        A changed one is flagged "changed" with the message, reported, and left out; the
        others go on."""
        ok = []
        for rec in recs:
            try:
                stamp = check_footage(rec)
            except FootageChanged as exc:
                log.warning("%s", exc)
                self.store.set_recording_status(rec.id, RecordingStatus.CHANGED, str(exc))
                report.changed.append((rec.id, str(exc)))
                continue
            if stamp is not None:
                self.store.set_recording_stamp(rec.id, stamp.mtime_ns, stamp.sample_sha256)
            ok.append(rec)
        return ok

    def _record(self, run_id: int, result: UnitResult, report: AnalysisReport) -> bool:
        """Store one result (its tracks, or its failure); True when its tracks were stored.
        A result refused because another run took the unit over is counted and dropped."""
        try:
            if result.error is not None:
                self.store.mark_unit_failed(result.unit_id, run_id, result.error, self.clock())
                report.units_failed += 1
                report.failures.append((result.unit_id, result.error))
                return False
            report.tracks += self.store.save_unit_result(run_id, result, self.clock())
        except ClaimLost as exc:
            log.warning("%s: this run's result is dropped", exc)
            report.units_taken_over += 1
            return False
        report.units_done += 1
        report.stats.append(result.stats)
        return True

    def _settle(self, recs: Sequence[Recording], report: AnalysisReport) -> None:
        """Set each recording's status from its units (:func:`settle_status`; ``analysing``
        while another live run is on it); the partial ones go to ``report.partial`` with
        their note."""
        for rec in recs:
            notes: list[str] = []

            def decide(units: list[UnitRow], rec: Recording = rec, notes: list[str] = notes
                       ) -> tuple[RecordingStatus, str | None, float | None]:
                status, note, until = settle_status(rec, units)
                error = self._errors(rec.id) if status in (RecordingStatus.FAILED,
                                                           RecordingStatus.PARTIAL) else None
                if note:
                    notes.append(note)
                    error = f"{note}; {error}" if error else note
                return status, error, until

            self.store.settle_recording(rec.id, self.clock(), decide)
            report.partial.extend((rec.id, n) for n in notes)

    def _errors(self, recording_id: str) -> str:
        """The errors of a recording's failed units, joined and capped for its status."""
        return "; ".join(f.error for f in self.store.unit_errors(recording_id))[:2000]


def _crashed(unit: WorkUnit, why: str) -> UnitResult:
    """The failed result of a unit whose analysis process kept dying (the executor gave it
    up): recorded like any failed unit, so the next run retries it."""
    return UnitResult(unit.id, (), StageStats(), error=why)


def _to_claim(row: UnitRow | None, was: UnitRow | None) -> bool:
    """Whether a unit whose stored row is ``row`` now (None: unknown) and was ``was`` when
    the run started is still to claim: not done, and not failed by another run since."""
    if row is None:
        return False  # its recording was purged meanwhile: nothing to analyse
    if row.status == UnitStatus.DONE:
        return False
    # Failed by another run since the start: that run tried it, this one does not retry it.
    return not (row.status == UnitStatus.FAILED and (was is None or was.run_id != row.run_id))


def _pending(units: list[UnitRow]) -> tuple[RecordingStatus, str | None, float | None]:
    """An interrupted run's recording: back to pending (the next run resumes it)."""
    return RecordingStatus.PENDING, None, None


def _covered(spans: Sequence[tuple[float, float]]) -> float:
    """Seconds covered by the union of ``spans``."""
    covered, reach = 0.0, 0.0
    for a, b in sorted(spans):
        if b <= reach:
            continue
        covered += b - max(a, reach)
        reach = b
    return covered


def _tolerance(rec: Recording) -> float:
    """Seconds by which analysed footage may fall short of ``duration_s`` and still count as
    whole: container durations are estimates (a second, plus two frames)."""
    return 1.0 + 2.0 / max(rec.fps, 1.0)


def settle_status(rec: Recording, units: Sequence[UnitRow]
                  ) -> tuple[RecordingStatus, str | None, float | None]:
    """A recording's status from its stored units: (status, note, analysed_until_s).

    ``done`` only when the done units' decoded spans cover ``[0, duration_s]`` (within
    :func:`_tolerance`); ``failed`` when every unit failed; otherwise ``partial`` with a note
    saying what is missing: corrupt data the decoder reported inside a done unit (stored as
    its error: damaged packets skipped, the rest analysed), a decodable end before the
    announced one (a truncated file, ``analysed_until_s`` set), or footage never planned
    (outside the case scopes analysed).
    A recording with pending units only stays ``pending``. Pure: no store, no clock.
    """
    done = [u for u in units if u.status == UnitStatus.DONE]
    failed = [u for u in units if u.status == UnitStatus.FAILED]
    if not done:
        return ((RecordingStatus.FAILED, None, None) if failed
                else (RecordingStatus.PENDING, None, None))
    if rec.is_image or rec.duration_s <= 0:
        return (RecordingStatus.PARTIAL if failed else RecordingStatus.DONE), None, None
    damage = _damage_note(done)
    status, note, until = _coverage(rec, done, failed)
    if damage is None:
        return status, note, until
    # Analysed through, but not as healthy: never "done" with corrupt data inside.
    return RecordingStatus.PARTIAL, f"{damage}; {note}" if note else damage, until


def _damage_note(done: Sequence[UnitRow]) -> str | None:
    """The decoder's corrupt-data report of the earliest damaged done unit (a done unit's
    ``error``), with how many others have one; None when none has."""
    damaged = sorted((u for u in done if u.error), key=lambda u: u.t0)
    if not damaged:
        return None
    more = f" (and in {len(damaged) - 1} other unit(s))" if len(damaged) > 1 else ""
    return f"damaged footage: {damaged[0].error}{more}"


def _coverage(rec: Recording, done: Sequence[UnitRow], failed: Sequence[UnitRow]
              ) -> tuple[RecordingStatus, str | None, float | None]:
    """:func:`settle_status` of a video by the spans its units decoded."""
    tol = _tolerance(rec)
    spans, short = [], []
    for u in done:
        end = u.t1 if u.decoded_until is None else min(u.t1, u.decoded_until)
        spans.append((u.t0, min(end, rec.duration_s)))
        if u.decoded_until is not None and u.decoded_until < min(u.t1, rec.duration_s) - tol:
            short.append(u.decoded_until)  # the stream ended inside this unit
    # Failed units count as planned: their footage is reported by their errors.
    covered = _covered(spans + [(u.t0, min(u.t1, rec.duration_s)) for u in failed])
    until = min(short) if short else None
    if until is not None:
        note = (f"partial footage: the decodable content ends at {until:.1f} s of the "
                f"{rec.duration_s:.1f} s announced; {until:.1f}–{rec.duration_s:.1f} s "
                "not analysed (truncated file?)")
        return RecordingStatus.PARTIAL, note, until
    if covered < rec.duration_s - tol:
        note = (f"{covered:.1f} s of {rec.duration_s:.1f} s analysed (the rest is outside "
                "the case scopes analysed so far)")
        return RecordingStatus.PARTIAL, note, None
    return (RecordingStatus.PARTIAL if failed else RecordingStatus.DONE), None, None
