"""The store's analysis lock: one analysis run at a time per store, a stale lock cleared.

One row (id 1) of ``analysis_lock`` names the holding process (host, pid) and its heartbeat.
Taking it is one INSERT: of two runs starting together, the database lets exactly one in;
the other reads the holder and either takes over a stale lock (its pid gone on this host, or
no heartbeat for ``stale_after_s``), with a conditional DELETE so only one taker wins, or is
refused with :class:`~retrouve.errors.AnalysisBusy` naming the holder. Times are aware UTC.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from retrouve.domain import RecordingStatus, RunStatus
from retrouve.errors import AnalysisBusy
from retrouve.store import schema as s
from retrouve.store.base import StorePart, mapped


@dataclass(frozen=True)
class LockHolder:
    """The process holding (or that held) the analysis lock."""

    host: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime


@dataclass(frozen=True)
class Recovered:
    """What a dead run left and the next one put back: runs marked interrupted, recordings
    put back to pending."""

    runs: int
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


class LockPart(StorePart):
    """The analysis lock and the recovery of what a killed run left."""

    def acquire_analysis_lock(
        self, host: str, pid: int, now: datetime, stale_after_s: float,
        alive: Callable[[int], bool] = pid_alive,
    ) -> LockHolder | None:
        """Take the lock for ``host``/``pid``. Returns the stale holder it cleared (None when
        the lock was free); raises :class:`AnalysisBusy` while a live run holds it."""
        row = {"id": 1, "host": host, "pid": pid, "acquired_at": now, "heartbeat_at": now}
        for _ in range(3):  # free → taken by us; or stale → cleared and taken by us
            with mapped("take the analysis lock"):
                try:
                    with self.engine.begin() as conn:
                        conn.execute(insert(s.analysis_lock).values(**row))
                    return None
                except IntegrityError:
                    pass  # the key is taken: see by whom
            holder = self.analysis_lock_holder()
            if holder is None:
                continue  # released meanwhile: try again
            age = (now - holder.heartbeat_at).total_seconds()
            dead = holder.host == host and not alive(holder.pid)
            if not dead and age <= stale_after_s:
                raise AnalysisBusy(
                    f"another analysis is running on this store (pid {holder.pid} on "
                    f"{holder.host}, started {holder.acquired_at.isoformat()}, last "
                    f"heartbeat {age:.0f} s ago): one analysis at a time; wait for it to "
                    "finish, or stop it (a killed run's lock is cleared automatically)")
            with self._begin("clear a stale analysis lock") as conn:
                gone = conn.execute(delete(s.analysis_lock).where(
                    s.analysis_lock.c.id == 1, s.analysis_lock.c.host == holder.host,
                    s.analysis_lock.c.pid == holder.pid,
                    s.analysis_lock.c.heartbeat_at == holder.heartbeat_at)).rowcount
                if gone == 1:
                    conn.execute(insert(s.analysis_lock).values(**row))
                    return holder
        raise AnalysisBusy("another analysis took the store's lock at the same moment: "
                           "one analysis at a time; try again when it has finished")

    def analysis_lock_holder(self) -> LockHolder | None:
        """Who holds the analysis lock now (None: free)."""
        with self._read("read the analysis lock") as conn:
            r = conn.execute(select(s.analysis_lock)).first()
        return LockHolder(r.host, int(r.pid), r.acquired_at, r.heartbeat_at) if r else None

    def beat_analysis_lock(self, host: str, pid: int, now: datetime) -> bool:
        """Refresh the holder's heartbeat; False when the lock is no longer ours."""
        with self._begin("refresh the analysis lock") as conn:
            n = conn.execute(update(s.analysis_lock).where(
                s.analysis_lock.c.host == host, s.analysis_lock.c.pid == pid)
                .values(heartbeat_at=now)).rowcount
        return bool(n)

    def release_analysis_lock(self, host: str, pid: int) -> None:
        """Give the lock back (only if ours)."""
        with self._begin("release the analysis lock") as conn:
            conn.execute(delete(s.analysis_lock).where(
                s.analysis_lock.c.host == host, s.analysis_lock.c.pid == pid))

    def recover_interrupted(self, now: datetime) -> Recovered:
        """Mark runs left ``running`` interrupted and put recordings left ``analysing`` back
        to pending. Only called by the lock's holder: no other run is alive to own them."""
        with self._begin("recover an interrupted analysis") as conn:
            runs = conn.execute(update(s.analysis_runs)
                                .where(s.analysis_runs.c.status == RunStatus.RUNNING)
                                .values(status=RunStatus.INTERRUPTED, finished_at=now)).rowcount
            recs = conn.execute(update(s.recordings)
                                .where(s.recordings.c.status == RecordingStatus.ANALYSING)
                                .values(status=RecordingStatus.PENDING)).rowcount
        return Recovered(int(runs), int(recs))
