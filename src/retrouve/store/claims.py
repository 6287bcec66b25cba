"""Work-unit claims with leases: several analysis drivers share one store.

A *driver* is one ``retrouve analyse`` (its analysis run: ``analysis_runs`` row with the
driver's host and pid). It claims each unit just before analysing it, with one conditional
UPDATE: ``claimed_by`` = its run id and ``lease_until`` = now + lease, only if the unit is not
done and unclaimed, or already its own, or its claim's lease has lapsed. Of two drivers racing
for a unit the database lets exactly one in (SQLite: one writer at a time; PostgreSQL, read
committed: the second UPDATE waits on the row lock and re-checks its WHERE on the committed
row), so each unit is analysed by one driver at a time.

A heartbeat (:meth:`ClaimsPart.renew_claims`) pushes back the lease of the run and of every
unit it holds. A driver that stops beating (killed, its machine lost or cut off) loses its
units when their leases lapse: another driver takes them over. Saving a result is refused
(:class:`~retrouve.errors.ClaimLost`) unless the saving run still holds the unit (see
:func:`gate_save`), checked in the transaction that writes the tracks, so a slow driver whose
lease lapsed and whose unit was taken over cannot store it a second time.

Recovery is per driver: runs whose lease lapsed (or, on this host, whose pid is gone: a
kill -9 is seen at once) are marked interrupted and their claims released; a run whose lease
is current is left alone, wherever it runs. A recording is ``analysing`` while some unit of
it is claimed under a live lease (:meth:`ClaimsPart.settle_recording`).

Times are aware UTC from the caller's clock: drivers on several machines compare leases
written by each other, so their clocks must agree to well within a lease (NTP).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, exists, or_, select, update

from retrouve.domain import RecordingStatus, RunStatus, UnitStatus
from retrouve.errors import ClaimLost
from retrouve.store import schema as s
from retrouve.store.base import StorePart
from retrouve.store.records import UnitRow

log = logging.getLogger(__name__)

#: A recording's status from its units (``analysis/runner.settle_status``): (status, error,
#: analysed_until_s). The store applies it under the recording's row lock.
Decide = Callable[[list[UnitRow]], tuple[RecordingStatus, str | None, float | None]]


@dataclass(frozen=True)
class LiveRun:
    """Another driver's run holding units under a live lease (messages, waiting)."""

    run_id: int
    host: str | None
    pid: int | None
    started_at: datetime
    lease_until: datetime | None
    #: Units (among those asked about) it holds.
    units: int

    def describe(self) -> str:
        """``run 7 (pid 4242 on node-b, 3 units)``: for messages."""
        who = f"pid {self.pid} on {self.host}" if self.host else "an unknown driver"
        return f"run {self.run_id} ({who}, {self.units} unit{'s' if self.units != 1 else ''})"


@dataclass(frozen=True)
class Recovered:
    """What dead drivers left and a new driver put back: runs marked interrupted, unit
    claims released, recordings left ``analysing`` with no live claim put back to pending."""

    runs: int
    units: int
    recordings: int


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (signal 0 sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _claimable(run_id: int, now: datetime) -> ColumnElement[bool]:
    """SQL condition: a unit ``run_id`` may claim at ``now``."""
    w = s.work_units
    return and_(
        w.c.status != UnitStatus.DONE,
        or_(
            w.c.claimed_by.is_(None),
            w.c.claimed_by == run_id,
            w.c.lease_until.is_(None),
            w.c.lease_until < now,
        ),
    )


def _live_claim(now: datetime) -> ColumnElement[bool]:
    """SQL condition: a unit claimed under a lease still current at ``now``."""
    w = s.work_units
    return and_(w.c.status != UnitStatus.DONE, w.c.claimed_by.is_not(None), w.c.lease_until >= now)


def _savable(run_id: int) -> ColumnElement[bool]:
    """SQL condition: a unit whose result run ``run_id`` may store (:func:`gate_save`)."""
    w = s.work_units
    return or_(
        and_(
            w.c.status != UnitStatus.DONE, or_(w.c.claimed_by.is_(None), w.c.claimed_by == run_id)
        ),
        and_(w.c.status == UnitStatus.DONE, w.c.run_id == run_id),
    )


def claim_refusal(conn: Connection, unit_id: str, run_id: int) -> ClaimLost | None:
    """Why run ``run_id`` may not store unit ``unit_id``'s result now (:func:`gate_save`'s
    rule, read without writing), or None when it may. Read before writing a result's
    thumbnails too, so a refused late result does not overwrite the files of the run that
    stored the unit."""
    w = s.work_units
    row = conn.execute(
        select(w.c.status, w.c.claimed_by, w.c.run_id, _savable(run_id).label("ok")).where(
            w.c.id == unit_id
        )
    ).first()
    if row is None or row.ok:
        return None  # free, ours, or not a planned unit (nothing to hold)
    if row.status == UnitStatus.DONE:
        return ClaimLost(
            f"unit {unit_id}: result of run {run_id} refused, the unit was "
            f"stored by run {row.run_id} (its claim had lapsed and was taken "
            "over)"
        )
    return ClaimLost(
        f"unit {unit_id}: result of run {run_id} refused, the unit is held by "
        f"run {row.claimed_by} (its claim had lapsed and was taken over)"
    )


def gate_save(conn: Connection, unit_id: str, run_id: int, values: dict[str, object]) -> None:
    """Write ``values`` (the done or failed mark) to unit ``unit_id`` on ``conn`` if run
    ``run_id`` may store its result, else raise :class:`ClaimLost` (the caller's transaction
    rolls back: nothing of the result is written).

    Accepted when the unit is not done and claimed by ``run_id`` or by no one (its claim
    released: no other driver holds it), or done by ``run_id`` itself (a rewrite by the same
    run), or not planned at all (a store filled without the runner). The mark clears the
    claim. One conditional UPDATE: the row lock it takes orders it against a concurrent claim.
    """
    w = s.work_units
    n = conn.execute(
        update(w)
        .where(w.c.id == unit_id, _savable(run_id))
        .values(claimed_by=None, lease_until=None, **values)
    ).rowcount
    if n == 1:
        return
    refused = claim_refusal(conn, unit_id, run_id)
    if refused is not None:
        raise refused


class ClaimsPart(StorePart):
    """Claims on work units, their leases, and per-driver recovery."""

    def claim_unit(
        self, run_id: int, unit_id: str, recording_id: str, now: datetime, lease_until: datetime
    ) -> bool:
        """Claim unit ``unit_id`` (of ``recording_id``) for run ``run_id`` until
        ``lease_until``; True when taken (free, lapsed, or already ours), False when done or
        held under a live lease by another run. Taking it marks the recording
        ``analysing``."""
        w = s.work_units
        with self._begin(f"claim unit {unit_id}") as conn:
            n = conn.execute(
                update(w)
                .where(w.c.id == unit_id, _claimable(run_id, now))
                .values(claimed_by=run_id, lease_until=lease_until)
            ).rowcount
            if n != 1:
                return False
            conn.execute(
                update(s.recordings)
                .where(s.recordings.c.id == recording_id)
                .values(status=RecordingStatus.ANALYSING, error=None, analysed_until_s=None)
            )
        return True

    def renew_claims(self, run_id: int, now: datetime, lease_until: datetime) -> int:
        """The heartbeat: push the lease of run ``run_id`` and of the units it holds to
        ``lease_until``. Returns how many units it holds.

        A run another driver declared dead (its lease had lapsed: a stalled machine, a
        network cut) is alive after all: it is put back to ``running``, with a warning; the
        units taken from it meanwhile are no longer its own (their saves are refused)."""
        r, w = s.analysis_runs, s.work_units
        with self._begin(f"renew the claims of analysis run {run_id}") as conn:
            n = conn.execute(
                update(r)
                .where(r.c.id == run_id, r.c.status == RunStatus.RUNNING)
                .values(lease_until=lease_until)
            ).rowcount
            if n == 0:
                revived = conn.execute(
                    update(r)
                    .where(r.c.id == run_id, r.c.status == RunStatus.INTERRUPTED)
                    .values(lease_until=lease_until, status=RunStatus.RUNNING, finished_at=None)
                ).rowcount
                if revived:
                    log.warning(
                        "analysis run %s was declared dead by another driver (its "
                        "lease had lapsed): running again; units taken over "
                        "meanwhile are not saved by it",
                        run_id,
                    )
            held = conn.execute(
                update(w)
                .where(w.c.claimed_by == run_id, w.c.status != UnitStatus.DONE)
                .values(lease_until=lease_until)
            ).rowcount
        return int(held)

    def release_claims(self, run_id: int) -> int:
        """Give back every unit run ``run_id`` still holds (the end of a run, an interrupt):
        another driver may take them at once. Returns how many."""
        w = s.work_units
        with self._begin(f"release the claims of analysis run {run_id}") as conn:
            n = conn.execute(
                update(w)
                .where(w.c.claimed_by == run_id, w.c.status != UnitStatus.DONE)
                .values(claimed_by=None, lease_until=None)
            ).rowcount
        return int(n)

    def live_claims(self, unit_ids: Sequence[str], now: datetime) -> dict[str, int]:
        """Unit id → the run holding it under a lease still current at ``now``, for those of
        ``unit_ids`` that are claimed so (the others are done, free or lapsed)."""
        w = s.work_units
        ids = list(unit_ids)
        held: dict[str, int] = {}
        with self._read("read the claims on work units") as conn:
            for i in range(0, len(ids), 500):  # bounded IN lists
                q = select(w.c.id, w.c.claimed_by).where(
                    w.c.id.in_(ids[i : i + 500]), _live_claim(now)
                )
                held.update({r.id: int(r.claimed_by) for r in conn.execute(q)})
        return held

    def runs_holding(self, claims: dict[str, int]) -> list[LiveRun]:
        """The runs of ``claims`` (:meth:`live_claims`), with how many units each holds."""
        r = s.analysis_runs
        counts: dict[int, int] = {}
        for run in claims.values():
            counts[run] = counts.get(run, 0) + 1
        if not counts:
            return []
        with self._read("read analysis runs") as conn:
            rows = conn.execute(
                select(r.c.id, r.c.host, r.c.pid, r.c.started_at, r.c.lease_until)
                .where(r.c.id.in_(list(counts)))
                .order_by(r.c.id)
            ).all()
        return [
            LiveRun(int(x.id), x.host, x.pid, x.started_at, x.lease_until, counts[int(x.id)])
            for x in rows
        ]

    def recover_interrupted(
        self, now: datetime, host: str, alive: Callable[[int], bool] = pid_alive
    ) -> Recovered:
        """Put back what dead drivers left, leaving live ones alone.

        A ``running`` run is dead when its lease lapsed before ``now`` (or it has none: it
        was stored before leases), or when it ran on ``host`` (this machine) and its pid is
        gone (``alive``), whatever its lease says. Dead runs are marked interrupted; their
        claims, and every lapsed claim, released; recordings left ``analysing`` with no unit
        claimed under a live lease go back to pending."""
        r, w, rec = s.analysis_runs, s.work_units, s.recordings
        with self._begin("recover interrupted analysis runs") as conn:
            here = conn.execute(
                select(r.c.id, r.c.pid).where(
                    r.c.status == RunStatus.RUNNING, r.c.host == host, r.c.pid.is_not(None)
                )
            ).all()
            gone = [int(x.id) for x in here if not alive(int(x.pid))]
            dead = or_(r.c.lease_until.is_(None), r.c.lease_until < now, r.c.id.in_(gone))
            runs = conn.execute(
                update(r)
                .where(r.c.status == RunStatus.RUNNING, dead)
                .values(status=RunStatus.INTERRUPTED, finished_at=now)
            ).rowcount
            units = conn.execute(
                update(w)
                .where(
                    w.c.status != UnitStatus.DONE,
                    w.c.claimed_by.is_not(None),
                    or_(w.c.lease_until.is_(None), w.c.lease_until < now, w.c.claimed_by.in_(gone)),
                )
                .values(claimed_by=None, lease_until=None)
            ).rowcount
            live = exists().where(w.c.recording_id == rec.c.id, _live_claim(now))
            recs = conn.execute(
                update(rec)
                .where(rec.c.status == RecordingStatus.ANALYSING, ~live)
                .values(status=RecordingStatus.PENDING)
            ).rowcount
        return Recovered(int(runs), int(units), int(recs))

    def settle_recording(self, recording_id: str, now: datetime, decide: Decide) -> RecordingStatus:
        """Set recording ``recording_id``'s status from its units, under its row lock:
        ``analysing`` while some unit of it is claimed under a live lease at ``now`` (another
        driver is on it), else ``decide(units)``. Returns the status set.

        The lock (a first UPDATE of the row) orders the drivers settling one recording: the
        last to settle reads every unit the others committed, so a recording never stays
        ``analysing`` after its last unit, nor ``done`` while one is being analysed."""
        rec, w = s.recordings, s.work_units
        with self._begin(f"settle the status of recording {recording_id}") as conn:
            current = conn.execute(
                update(rec)
                .where(rec.c.id == recording_id)
                .values(status=rec.c.status)
                .returning(rec.c.status)
            ).scalar_one_or_none()
            if current is None:
                return RecordingStatus.PENDING  # gone (purged meanwhile)
            busy = conn.execute(
                select(w.c.id).where(w.c.recording_id == recording_id, _live_claim(now)).limit(1)
            ).first()
            if busy is not None:
                conn.execute(
                    update(rec)
                    .where(rec.c.id == recording_id)
                    .values(status=RecordingStatus.ANALYSING)
                )
                return RecordingStatus.ANALYSING
            units = [
                UnitRow(
                    x.id,
                    x.recording_id,
                    float(x.t0),
                    float(x.t1),
                    x.status,
                    x.error,
                    x.run_id,
                    x.decoded_until_s,
                )
                for x in conn.execute(
                    select(
                        w.c.id,
                        w.c.recording_id,
                        w.c.t0,
                        w.c.t1,
                        w.c.status,
                        w.c.error,
                        w.c.run_id,
                        w.c.decoded_until_s,
                    )
                    .where(w.c.recording_id == recording_id)
                    .order_by(w.c.t0)
                )
            ]
            if not units:
                return RecordingStatus(current)  # never planned: left as it is
            status, error, until = decide(units)
            conn.execute(
                update(rec)
                .where(rec.c.id == recording_id)
                .values(status=status, error=error, analysed_until_s=until)
            )
        return status
