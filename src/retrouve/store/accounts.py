"""Operator accounts of the web application and their API tokens.

``retrouve.legal.accounts`` holds the rules (hashing, roles, token format); this part only
stores rows: users come back as :class:`~retrouve.store.records.UserRecord`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from retrouve.domain import Role
from retrouve.store import schema as s
from retrouve.store.base import StorePart, Tx, storable
from retrouve.store.records import UserRecord


class AccountsPart(StorePart):
    """Users and API tokens."""

    def add_user(self, name: str, password_hash: str, role: Role, now: datetime,
                 tx: Tx | None = None) -> int:
        """Insert a user; raises ``StoreError`` if the name is taken. Returns the new id."""
        with self._write(tx, f"add user {name!r}",
                         integrity=f"user {name!r} already exists") as conn:
            res = conn.execute(
                insert(s.users).values(
                    name=name, password_hash=password_hash, role=role, disabled=False,
                    created_at=now, password_changed_at=now,
                )
            )
            pk = res.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def get_user(self, name: str | None = None, user_id: int | None = None
                 ) -> UserRecord | None:
        """One user by name or by id (exactly one of them), or None."""
        if name is not None and not storable(name):
            return None
        q = select(s.users)
        q = q.where(s.users.c.id == user_id) if user_id is not None else q.where(
            s.users.c.name == name)
        with self._read(f"read user {name if user_id is None else user_id!r}") as conn:
            row = conn.execute(q).first()
        return _user(row._mapping) if row else None

    def list_users(self) -> list[UserRecord]:
        """Every user, by name."""
        with self._read("list users") as conn:
            rows = conn.execute(select(s.users).order_by(s.users.c.name)).all()
        return [_user(r._mapping) for r in rows]

    def update_user(self, user_id: int, tx: Tx | None = None, **values: Any) -> None:
        """Set columns of one user (``password_hash``, ``role``, ``disabled``…)."""
        with self._write(tx, f"update user {user_id}") as conn:
            conn.execute(update(s.users).where(s.users.c.id == user_id).values(**values))

    def add_api_token(self, user_id: int, token_sha256: str, now: datetime,
                      tx: Tx | None = None) -> int:
        with self._write(tx, f"add an API token for user {user_id}") as conn:
            res = conn.execute(
                insert(s.api_tokens).values(user_id=user_id, token_sha256=token_sha256,
                                            created_at=now)
            )
            pk = res.inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def use_api_token(self, token_sha256: str, now: datetime) -> int | None:
        """The user id of a live (not revoked) token, stamping its last use; else None."""
        t = s.api_tokens
        with self._begin("check an API token") as conn:
            row = conn.execute(
                select(t.c.id, t.c.user_id)
                .where(t.c.token_sha256 == token_sha256, t.c.revoked_at.is_(None))
            ).first()
            if row is None:
                return None
            conn.execute(update(t).where(t.c.id == row.id).values(last_used_at=now))
            return int(row.user_id)

    def revoke_api_tokens(self, user_id: int, now: datetime, tx: Tx | None = None) -> int:
        """Revoke every live token of a user. Returns how many were revoked."""
        t = s.api_tokens
        with self._write(tx, f"revoke API tokens of user {user_id}") as conn:
            res = conn.execute(
                update(t).where(t.c.user_id == user_id, t.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return int(res.rowcount)


def _user(m: Any) -> UserRecord:
    return UserRecord(id=int(m["id"]), name=m["name"], password_hash=m["password_hash"],
                      role=Role(m["role"]), disabled=bool(m["disabled"]),
                      created_at=m["created_at"], password_changed_at=m["password_changed_at"],
                      time_zone=m["time_zone"])
