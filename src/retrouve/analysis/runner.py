"""Run the analysis of pending recordings: plan units, execute, store, resume.

Resuming is by construction: units have deterministic ids and a unit's tracks are written in
the same transaction that marks it done. After Ctrl-C or a crash, the next run skips done
units and redoes the others, replacing any half-written tracks, so nothing is duplicated or
lost. Every run records the model names/versions and the analysis settings.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from retrouve import __version__
from retrouve.analysis.executor import Executor
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
from retrouve.errors import DiskFull, FootageChanged, RetrouveError
from retrouve.store.db import Store
from retrouve.store.records import UnitRow
from retrouve.vision.models import DetectorFactory, PlateReaderFactory

log = logging.getLogger(__name__)

#: Called after each unit with (units done, units total, result).
Progress = Callable[[int, int, UnitResult], None]

#: Seconds between two heartbeats of the running analysis on the store's lock, and the age
#: after which a heartbeat means its run is gone (a run on another host, or a hung one; a
#: dead pid on this host is stale at once).
HEARTBEAT_S = 10.0
STALE_AFTER_S = 120.0


class _Heartbeat:
    """A daemon thread refreshing the analysis lock every :data:`HEARTBEAT_S` seconds."""

    def __init__(self, store: Store, host: str, pid: int,
                 clock: Callable[[], datetime]) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="analysis-heartbeat",
                                        daemon=True)
        self.store, self.host, self.pid, self.clock = store, host, pid, clock

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                if not self.store.beat_analysis_lock(self.host, self.pid, self.clock()):
                    log.error("the analysis lock was taken over by another run")
            except RetrouveError as exc:  # keep beating: a busy database passes
                log.warning("cannot refresh the analysis lock: %s", exc)


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
        ``started(units)`` is called once the units to run are known, before the first one
        runs (a progress bar's total); ``progress(done, total, result)`` after each unit.

        One run at a time per store: the run takes the store's analysis lock first
        (:class:`~retrouve.errors.AnalysisBusy` while another live run holds it), clears a
        stale one left by a killed run and recovers what that run left (runs ``running`` →
        interrupted, recordings ``analysing`` → pending), beats the lock's heartbeat while
        it works and releases it at the end, whatever happens.
        """
        host, pid = socket.gethostname(), os.getpid()
        stale = self.store.acquire_analysis_lock(host, pid, self.clock(), STALE_AFTER_S)
        beat = _Heartbeat(self.store, host, pid, self.clock)
        try:
            if stale is not None:
                log.warning("cleared the analysis lock of a dead run (pid %s on %s, last "
                            "heartbeat %s)", stale.pid, stale.host, stale.heartbeat_at)
            left = self.store.recover_interrupted(self.clock())
            if left.runs or left.recordings:
                log.warning("recovered an interrupted analysis: %s run(s) marked interrupted,"
                            " %s recording(s) back to pending", left.runs, left.recordings)
            beat.start()
            return self._analyse(recording_ids, progress, scope, started)
        finally:
            beat.stop()
            try:
                self.store.release_analysis_lock(host, pid)
            except RetrouveError as exc:  # a full disk: the next run finds it stale
                log.error("cannot release the analysis lock: %s", exc)

    def _analyse(
        self, recording_ids: Sequence[str] | None, progress: Progress | None,
        scope: Sequence[ScopeWindow] | None, started: Callable[[int], None] | None,
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
        status = self.store.unit_status([r.id for r in recs])
        todo = [u for u in units if status.get(u.id) != UnitStatus.DONE]
        report.units_total = len(units)
        report.units_skipped = len(units) - len(todo)
        if not todo:
            # Nothing to analyse, but an interrupted run may have stored units unlinked.
            report.objects_relinked = link_recordings(self.store, recs)
            self._settle(recs, report)
            return report
        run_id = self.store.start_run(
            self.clock(), self.settings.analysis.model_dump(), self.models, __version__
        )
        report.run_id = run_id
        if started:
            started(len(todo))
        executor = self.executor_factory()
        fn = functools.partial(
            process_unit, settings=self.settings, detector_factory=self.detector_factory,
            plate_reader_factory=self.plate_reader_factory,
        )
        durations = {r.id: r.duration_s for r in recs}
        by_id = {u.id: u for u in todo}
        done_units: list[str] = []
        try:
            for rec in recs:
                self.store.set_recording_status(rec.id, RecordingStatus.ANALYSING, None)
            for result in executor.map_unordered(fn, todo):
                self._record(run_id, result, report)
                if result.error is None:
                    done_units.append(result.unit_id)
                unit = by_id[result.unit_id]
                if result.error is None:
                    end = min(unit.t1, durations.get(unit.recording_id, unit.t1))
                    report.footage_seconds += max(0.0, end - unit.t0)
                if progress:
                    progress(report.units_done + report.units_failed, len(todo), result)
        except BaseException as exc:
            # Ctrl-C, a full disk, a database failure: finished units are kept (each was
            # committed with its tracks); the run is interrupted, its recordings pending.
            report.interrupted = True
            executor.shutdown()
            self._abandon(run_id, recs)
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                raise DiskFull(f"no space left on the disk while analysing (data folder "
                               f"{self.settings.data_dir}): {exc}; the run is interrupted, "
                               "free some space and run again to resume") from exc
            log.warning("analysis interrupted: finished units are kept, run again to resume")
            raise
        executor.shutdown()
        # Link the fragments of every recording that got units (slices analysed in any
        # order, or a later run completing the missing ones): one object, one result.
        stored = {by_id[u].recording_id for u in done_units}
        report.objects_relinked = link_recordings(
            self.store, [r for r in recs if r.id in stored])
        self.store.finish_run(run_id, self.clock(), RunStatus.DONE if not report.units_failed
                              else RunStatus.DONE_WITH_ERRORS)
        self._settle(recs, report)
        return report

    def _abandon(self, run_id: int, recs: Sequence[Recording]) -> None:
        """Leave consistent statuses after a run stopped mid-way: the run interrupted, its
        recordings pending. Best effort (the disk may be full): the next run's recovery
        (``recover_interrupted``) does the same."""
        try:
            self.store.finish_run(run_id, self.clock(), RunStatus.INTERRUPTED)
            for rec in recs:
                self.store.set_recording_status(rec.id, RecordingStatus.PENDING, None)
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

    def _record(self, run_id: int, result: UnitResult, report: AnalysisReport) -> None:
        if result.error is not None:
            self.store.mark_unit_failed(result.unit_id, run_id, result.error, self.clock())
            report.units_failed += 1
            report.failures.append((result.unit_id, result.error))
            return
        report.tracks += self.store.save_unit_result(run_id, result, self.clock())
        report.units_done += 1
        report.stats.append(result.stats)

    def _settle(self, recs: Sequence[Recording], report: AnalysisReport) -> None:
        """Set each recording's status from its units (:func:`settle_status`); the partial
        ones go to ``report.partial`` with their note."""
        for rec in recs:
            units = self.store.units_of([rec.id])
            if not units:
                continue
            status, note, until = settle_status(rec, units)
            error = self._errors(rec.id) if status in (RecordingStatus.FAILED,
                                                       RecordingStatus.PARTIAL) else None
            if note:
                report.partial.append((rec.id, note))
                error = f"{note}; {error}" if error else note
            self.store.set_recording_status(rec.id, status, error, until)

    def _errors(self, recording_id: str) -> str:
        """The errors of a recording's failed units, joined and capped for its status."""
        return "; ".join(f.error for f in self.store.unit_errors(recording_id))[:2000]


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
    saying what is missing: a decodable end before the announced one (a truncated file,
    ``analysed_until_s`` set), or footage never planned (outside the case scopes analysed).
    A recording with pending units only stays ``pending``. Pure: no store, no clock.
    """
    done = [u for u in units if u.status == UnitStatus.DONE]
    failed = [u for u in units if u.status == UnitStatus.FAILED]
    if not done:
        return ((RecordingStatus.FAILED, None, None) if failed
                else (RecordingStatus.PENDING, None, None))
    if rec.is_image or rec.duration_s <= 0:
        return (RecordingStatus.PARTIAL if failed else RecordingStatus.DONE), None, None
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
