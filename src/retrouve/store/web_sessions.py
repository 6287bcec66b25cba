"""Web sessions in the database, shared by every process of the web server.

Rows are keyed by the SHA-256 of the cookie's value. Times (``created``, ``last_seen``, the
``*_before`` bounds) are the web clock's seconds, decided by the caller (``web/auth.py``,
which owns the lifetimes); this part only stores, finds, touches and evicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from retrouve.store import schema as s
from retrouve.store.base import StorePart, storable


@dataclass(frozen=True)
class WebSessionRow:
    """One stored session. ``key_sha256``: SHA-256 (hex) of the cookie value."""

    key_sha256: str
    csrf_token: str
    user_id: int | None
    created: float
    last_seen: float
    logged_in_at: datetime | None = None
    active_case: str | None = None


def _row(m: object) -> WebSessionRow:
    r = m._mapping  # type: ignore[attr-defined]
    return WebSessionRow(r.key_sha256, r.csrf_token, r.user_id, float(r.created),
                         float(r.last_seen), r.logged_in_at, r.active_case)


class WebSessionsPart(StorePart):
    """Sessions of the web application (``web_sessions``)."""

    def add_web_session(self, row: WebSessionRow, *, keep: int, stale_seen_before: float,
                        stale_created_before: float) -> None:
        """Store ``row``; then, among sessions of its kind (anonymous or logged in), drop the
        stale ones (last used before ``stale_seen_before`` or created before
        ``stale_created_before``) and the least recently used beyond ``keep``. One
        transaction: two processes creating at once at worst evict one more."""
        t = s.web_sessions
        anonymous = row.user_id is None
        with self._begin("add a web session") as conn:
            conn.execute(t.insert().values(
                key_sha256=row.key_sha256, csrf_token=row.csrf_token, user_id=row.user_id,
                anonymous=anonymous, created=row.created, last_seen=row.last_seen,
                logged_in_at=row.logged_in_at, active_case=row.active_case))
            kind = t.c.anonymous == anonymous
            conn.execute(delete(t).where(kind, or_(t.c.last_seen < stale_seen_before,
                                                   t.c.created < stale_created_before)))
            count = conn.execute(select(func.count()).select_from(t).where(kind)).scalar_one()
            if count > keep:
                oldest = (select(t.c.key_sha256).where(kind)
                          .order_by(t.c.last_seen, t.c.created).limit(count - keep))
                conn.execute(delete(t).where(t.c.key_sha256.in_(oldest.scalar_subquery())))

    def web_session(self, key_sha256: str) -> WebSessionRow | None:
        """The stored session with this key, or None."""
        if not storable(key_sha256):
            return None
        t = s.web_sessions
        with self._read("read a web session") as conn:
            row = conn.execute(select(t).where(t.c.key_sha256 == key_sha256)).first()
        return _row(row) if row is not None else None

    def touch_web_session(self, key_sha256: str, now: float) -> None:
        """Mark the session used at ``now`` (never moves ``last_seen`` back)."""
        t = s.web_sessions
        with self._begin("touch a web session") as conn:
            conn.execute(update(t).where(t.c.key_sha256 == key_sha256, t.c.last_seen < now)
                         .values(last_seen=now))

    def set_web_session_case(self, key_sha256: str, case_ref: str | None) -> None:
        """Record the case the session's user works under (None: none)."""
        t = s.web_sessions
        with self._begin("set the case of a web session") as conn:
            conn.execute(update(t).where(t.c.key_sha256 == key_sha256)
                         .values(active_case=case_ref))

    def drop_web_session(self, key_sha256: str) -> None:
        t = s.web_sessions
        with self._begin("end a web session") as conn:
            conn.execute(delete(t).where(t.c.key_sha256 == key_sha256))

    def drop_user_web_sessions(self, user_id: int) -> None:
        """End every session of the user."""
        t = s.web_sessions
        with self._begin(f"end the web sessions of user {user_id}") as conn:
            conn.execute(delete(t).where(t.c.user_id == user_id))

    def count_web_sessions(self) -> tuple[int, int]:
        """(anonymous, logged in) sessions stored."""
        t = s.web_sessions
        with self._read("count web sessions") as conn:
            rows: dict[bool, int] = {
                bool(a): int(n) for a, n in conn.execute(
                    select(t.c.anonymous, func.count()).group_by(t.c.anonymous))}
        return int(rows.get(True, 0)), int(rows.get(False, 0))
