"""Operator accounts: names, roles, argon2 password hashes and API tokens for scripts.

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed on login when those
defaults change). An API token is 32 random bytes shown once; only its SHA-256 is stored, so
a copy of the database cannot be replayed against the API. A disabled account can neither log
in nor use its tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from retrouve.domain import Role
from retrouve.errors import AccountError, AuthError
from retrouve.legal import journal as j
from retrouve.store.base import Tx
from retrouve.store.db import Store, UserRecord

#: Who makes an account change: (user name, role); the role is ``system`` for the
#: administrator at the server's shell who has no account.
By = tuple[str, str]


class Recorder(Protocol):
    """What :class:`Accounts` needs of the journal (``legal.casework.Journal``)."""

    def action_as(self, user: str, role: str, event: j.Event, what: str
                  ) -> AbstractContextManager[Tx]: ...

    def record_as(self, tx: Tx, user: str, role: str, event: j.Event) -> None: ...

#: Roles, most powerful first. The legal-framework issue adds ``auditor``.
# Plain strings: click.Choice would offer an Enum by its member names (ADMIN…).
ROLES: Final[tuple[str, ...]] = tuple(r.value for r in Role)
#: Prefix of API tokens, so a leaked token is recognisable in logs and secret scanners.
TOKEN_PREFIX: Final = "rtv_"
MIN_PASSWORD_LENGTH: Final = 10
MAX_PASSWORD_LENGTH: Final = 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class User:
    """An operator account as the rest of the application sees it (no hash)."""

    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    password_changed_at: datetime
    #: IANA zone the web shows and reads times in for this user (None: the site's zone).
    time_zone: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "disabled": self.disabled,
                "created_at": self.created_at.isoformat(),
                "password_changed_at": self.password_changed_at.isoformat(),
                "time_zone": self.time_zone}


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user(row: UserRecord) -> User:
    return User(id=row.id, name=row.name, role=row.role, disabled=row.disabled,
                created_at=row.created_at, password_changed_at=row.password_changed_at,
                time_zone=row.time_zone)


class Accounts:
    """Account rules over the store. ``clock`` gives aware 'now' times."""

    def __init__(self, store: Store, clock: Callable[[], datetime],
                 hasher: PasswordHasher | None = None, journal: Recorder | None = None
                 ) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        #: Account changes made with ``by`` are journalled in the change's transaction.
        self.journal = journal
        # Verified against when the name is unknown, so that a wrong name costs the same time
        # as a wrong password and response times do not reveal which accounts exist.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    # ------------------------------------------------------------------ management
    @contextmanager
    def _change(self, by: By | None, event: j.Event, what: str) -> Iterator[Tx | None]:
        """The transaction of one account change and its journal entry (both or neither);
        None (the store's own transaction, no entry) without a journal or ``by``."""
        if self.journal is None or by is None:
            yield None
            return
        with self.journal.action_as(by[0], by[1], event, what) as tx:
            yield tx

    def add(self, name: str, role: str, password: str, by: By | None = None) -> User:
        """Create an account; raises :class:`AccountError` naming what is wrong."""
        if not _NAME.match(name):
            raise AccountError(
                f"invalid user name {name!r}: 1-64 letters, digits, '.', '_' or '-'",
                key="account.bad_name", params={"name": name})
        self._check_role(role)
        self._check_password(password)
        if self.store.get_user(name=name) is not None:
            raise AccountError(f"user {name!r} already exists", key="account.exists",
                               params={"name": name})
        # A database failure stays a StoreError (our failure, not bad input). Two admins
        # adding the same name at the same instant get the store's "already exists" instead.
        with self._change(by, j.UserAdded(account=name, role=role), f"add user {name!r}") as tx:
            self.store.add_user(name, self.hasher.hash(password), Role(role), self.clock(), tx)
        return self.require(name)

    def get(self, name: str) -> User | None:
        row = self.store.get_user(name=name)
        return _user(row) if row else None

    def by_id(self, user_id: int) -> User | None:
        row = self.store.get_user(user_id=user_id)
        return _user(row) if row else None

    def require(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise AccountError(f"unknown user {name!r}", key="account.unknown",
                               params={"name": name})
        return user

    def list(self) -> list[User]:
        return [_user(r) for r in self.store.list_users()]

    def set_password(self, name: str, password: str, by: By | None = None) -> None:
        """Set a new password. Sessions opened before it end at their next request (the web
        app compares login and change times) and the account's API tokens are revoked: a
        password reset after a suspected compromise must cut every credential."""
        user = self.require(name)
        self._check_password(password)
        now = self.clock()
        with self._change(by, j.UserChanged(account=name, change="password"),
                          f"change the password of {name!r}") as tx:
            self.store.update_user(user.id, tx, password_hash=self.hasher.hash(password),
                                   password_changed_at=now)
            self.store.revoke_api_tokens(user.id, now, tx)

    def set_role(self, name: str, role: str, by: By | None = None) -> None:
        self._check_role(role)
        user = self.require(name)
        with self._change(by, j.UserChanged(account=name, change="role", value=role),
                          f"change the role of {name!r}") as tx:
            self.store.update_user(user.id, tx, role=Role(role))

    def set_time_zone(self, name: str, zone: str | None, by: By | None = None) -> None:
        """Set the user's own time zone (IANA name), or None for the site's operator zone;
        :class:`AccountError` for a zone the system's tz database does not know."""
        user = self.require(name)
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise AccountError(f"unknown time zone {zone!r}: give an IANA name such as "
                                   "Europe/Paris") from None
        event = j.UserChanged(account=name, change="time-zone", value=zone or "")
        with self._change(by, event, f"change the time zone of {name!r}") as tx:
            self.store.update_user(user.id, tx, time_zone=zone)

    def set_disabled(self, name: str, disabled: bool, by: By | None = None) -> None:
        """Disable (or re-enable) an account. Disabling also revokes its API tokens."""
        user = self.require(name)
        event = j.UserChanged(account=name, change="disabled" if disabled else "enabled")
        with self._change(by, event, f"disable or enable {name!r}") as tx:
            self.store.update_user(user.id, tx, disabled=disabled)
            if disabled:
                self.store.revoke_api_tokens(user.id, self.clock(), tx)

    # ---------------------------------------------------------------- credentials
    def authenticate(self, name: str, password: str) -> User:
        """The account for ``name``/``password``; raises :class:`AuthError` otherwise."""
        row = self.store.get_user(name=name) if _NAME.match(name) else None
        stored = row.password_hash if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise AuthError("unknown user or wrong password") from None
        if row is None:  # only reachable if someone guessed the dummy's random password
            raise AuthError("unknown user or wrong password")
        user = _user(row)
        if user.disabled:
            raise AuthError("unknown user or wrong password")
        if self.hasher.check_needs_rehash(stored):
            self.store.update_user(user.id, password_hash=self.hasher.hash(password))
        return user

    def issue_token(self, name: str, by: By | None = None) -> str:
        """A new API token for an enabled account. Shown once: only its digest is kept."""
        user = self.require(name)
        if user.disabled:
            raise AccountError(f"user {name!r} is disabled")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._change(by, j.UserChanged(account=name, change="token-issued"),
                          f"issue a token for {name!r}") as tx:
            self.store.add_api_token(user.id, token_digest(token), self.clock(), tx)
        return token

    def revoke_tokens(self, name: str, by: By | None = None) -> int:
        user = self.require(name)
        if self.journal is None or by is None:
            return self.store.revoke_api_tokens(user.id, self.clock())
        # The count goes in the entry: revoke first, journal in the same transaction.
        with self.store.transaction(f"revoke the tokens of {name!r}") as tx:
            n = self.store.revoke_api_tokens(user.id, self.clock(), tx)
            self.journal.record_as(tx, by[0], by[1], j.UserChanged(
                account=name, change="tokens-revoked", value=str(n)))
        return n

    def user_for_token(self, token: str) -> User | None:
        """The enabled account owning a live token, or None."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        user_id = self.store.use_api_token(token_digest(token), self.clock())
        if user_id is None:
            return None
        user = self.by_id(user_id)
        return user if user is not None and not user.disabled else None

    # ---------------------------------------------------------------------- rules
    @staticmethod
    def _check_role(role: str) -> None:
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}",
                               key="account.bad_role",
                               params={"role": role, "choices": ", ".join(ROLES)})

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(
                f"password too short: at least {MIN_PASSWORD_LENGTH} characters",
                key="account.password_short", params={"min": MIN_PASSWORD_LENGTH})
        if len(password) > MAX_PASSWORD_LENGTH:
            raise AccountError(f"password too long: at most {MAX_PASSWORD_LENGTH} characters",
                               key="account.password_long",
                               params={"max": MAX_PASSWORD_LENGTH})
