"""Login attempts in the database: the login limiter's memory, shared by every process.

A row is one attempt charged to one key (``user:<name>``, ``addr:<address>``, or any key a
rule of ``web/auth.py`` names). Times are the web clock's seconds. The limiter's rules live
in ``web/auth.py``; this part answers "is any of these keys at its limit since then?" and
charges keys, atomically across processes:

* PostgreSQL: a transaction-scoped advisory lock serialises chargers;
* SQLite: the transaction starts with a write (pruning old rows), which takes the database's
  write lock, so the check that follows sees every committed attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, text

from retrouve.store import schema as s
from retrouve.store.base import StorePart

#: Advisory lock id of the login limiter on PostgreSQL (any constant unique in the project).
_PG_LOCK = 0x52_45_54_52_4C_4F_47  # "RETRLOG"


@dataclass(frozen=True)
class AttemptLimit:
    """At most ``most`` attempts charged to ``key`` (and to the keys ``also``, counted
    together with it) after ``since`` (exclusive)."""

    key: str
    since: float
    most: int
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Blocked:
    """A limit reached: ``oldest`` is the time of the oldest of the ``most`` latest attempts
    that count, so the limit lifts when that one leaves the window — or, ``in_flight``,
    sooner: ``key``'s own attempts are under the limit and the ``also`` keys' (attempts
    still being checked, web/auth.py) make up the rest, so it lifts as those end."""

    limit: AttemptLimit
    oldest: float
    in_flight: bool = False


def _nth_latest(conn: Connection, keys: Sequence[str], lim: AttemptLimit) -> float | None:
    """The time of the ``lim.most``-th latest attempt charged to ``keys`` in ``lim``'s
    window, None when there are fewer."""
    t = s.login_attempts
    at = conn.execute(select(t.c.at).where(t.c.key.in_(list(keys)), t.c.at > lim.since)
                      .order_by(t.c.at.desc()).limit(1).offset(lim.most - 1)).scalar()
    return None if at is None else float(at)


def _blocked(conn: Connection, limits: Sequence[AttemptLimit]) -> Blocked | None:
    for lim in limits:
        if lim.most <= 0:
            return Blocked(lim, lim.since)
        at = _nth_latest(conn, (lim.key, *lim.also), lim)
        if at is None:
            continue
        # Reached only with the ``also`` keys' attempts (those in flight): it lifts sooner.
        in_flight = bool(lim.also) and _nth_latest(conn, (lim.key,), lim) is None
        return Blocked(lim, at, in_flight=in_flight)
    return None


class LoginAttemptsPart(StorePart):
    """Attempts charged to keys (``login_attempts``)."""

    def login_blocked(self, limits: Sequence[AttemptLimit]) -> Blocked | None:
        """The first of ``limits`` already reached, or None."""
        with self._read("check login attempts") as conn:
            return _blocked(conn, limits)

    def charge_login_attempt(self, keys: Sequence[str], now: float, *,
                             unless: Sequence[AttemptLimit] = (),
                             forget_before: float, release: str | None = None
                             ) -> Blocked | None:
        """Charge one attempt at ``now`` to each of ``keys`` — unless one of ``unless`` is
        already reached, then charge nothing and return it. Atomic across processes.
        Attempts before ``forget_before`` (outside every window) are deleted on the way,
        which bounds the table by what the windows can still count. ``release``: a key whose
        oldest attempt ends in the same transaction (an attempt in flight becoming a failure:
        it is never uncounted in between)."""
        t = s.login_attempts
        with self._begin("count a login attempt") as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            conn.execute(delete(t).where(t.c.at < forget_before))
            if release is not None:
                oldest = conn.execute(select(t.c.id).where(t.c.key == release)
                                      .order_by(t.c.at, t.c.id).limit(1)).scalar()
                if oldest is not None:
                    conn.execute(delete(t).where(t.c.id == oldest))
            blocked = _blocked(conn, unless)
            if blocked is None and keys:
                conn.execute(insert(t), [{"key": k, "at": now} for k in keys])
            return blocked

    def release_login_attempt(self, key: str) -> None:
        """Delete the oldest attempt charged to ``key`` (an attempt in flight that ended)."""
        t = s.login_attempts
        with self._begin("end a login attempt") as conn:
            oldest = conn.execute(select(t.c.id).where(t.c.key == key)
                                  .order_by(t.c.at, t.c.id).limit(1)).scalar()
            if oldest is not None:
                conn.execute(delete(t).where(t.c.id == oldest))

    def forget_login_attempts(self, key: str) -> None:
        """Delete every attempt charged to ``key``."""
        t = s.login_attempts
        with self._begin("reset login attempts") as conn:
            conn.execute(delete(t).where(t.c.key == key))

    def count_login_attempts(self) -> int:
        """Attempts stored (all keys)."""
        t = s.login_attempts
        with self._read("count login attempts") as conn:
            return int(conn.execute(select(func.count()).select_from(t)).scalar_one())
