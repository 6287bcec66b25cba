"""What every part of the store shares: one engine, the blob folder, and the boundary where
SQLAlchemy errors become :class:`~retrouve.errors.StoreError` naming the object.

Each part (``recordings``, ``work``, ``tracks``, ``accounts``…) is a mixin over
:class:`StorePart`; :class:`retrouve.store.db.Store` composes them over one engine, so a
method that spans parts (saving a unit writes tracks and marks the unit done) still runs in one
transaction: it calls the other part's module functions with its own connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from retrouve.errors import DiskFull, StoreError
from retrouve.store.blobs import BlobStore


def cause(exc: SQLAlchemyError) -> str:
    """The database's own words for ``exc`` (``database is locked``…), without SQL text."""
    orig = getattr(exc, "orig", None)
    # PostgreSQL's message goes on with "LINE 1: <the SQL>" and a caret: first line only.
    return (str(orig) if orig is not None else str(exc)).split("\n")[0]


def is_check_violation(exc: IntegrityError) -> bool:
    """Whether ``exc`` is a CHECK constraint failure (SQLite's message, PostgreSQL's 23514)."""
    orig = getattr(exc, "orig", None)
    # psycopg 3 names the SQLSTATE ``sqlstate``, psycopg2 ``pgcode``.
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state == "23514" or "CHECK constraint failed" in str(orig)


def storable(key: str) -> bool:
    """Whether a text key can be in the database at all. PostgreSQL text cannot hold NUL
    (it raises instead of finding nothing), so a lookup by a key with one (``/media/…/%00``,
    a login name) answers "none" on both backends without asking."""
    return "\x00" not in key


@contextmanager
def mapped(what: str, *, integrity: str | None = None) -> Iterator[None]:
    """Raise SQLAlchemy errors inside as ``StoreError("cannot <what>: <cause>")``.

    ``integrity``: the message for an ``IntegrityError`` other than a CHECK failure (a key
    already taken), when that means something more precise than the generic message. A CHECK
    failure (a status or role outside its set) always gets the generic message and the
    database's cause.
    """
    try:
        yield
    except OperationalError as exc:
        if "disk is full" in cause(exc) or "disk full" in cause(exc):
            raise DiskFull(f"cannot {what}: no space left on the database's disk "
                           f"({cause(exc)})") from exc
        raise StoreError(f"cannot {what}: {cause(exc)}") from exc
    except IntegrityError as exc:
        if integrity is not None and not is_check_violation(exc):
            raise StoreError(integrity) from exc
        raise StoreError(f"cannot {what}: {cause(exc)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot {what}: {cause(exc)}") from exc


class Tx:
    """An open write transaction, opaque above the store: pass it to the store's methods
    that take one, so an action and its journal entry commit (or roll back) together."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class StorePart:
    """Base of the store's parts: the engine and blob folder, and transactions with errors
    mapped at the boundary."""

    engine: Engine
    blobs: BlobStore

    @contextmanager
    def _begin(self, what: str, *, integrity: str | None = None) -> Iterator[Connection]:
        """A write transaction (committed on exit); SQLAlchemy errors → ``StoreError``."""
        with mapped(what, integrity=integrity), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self, tx: Tx | None, what: str, *, integrity: str | None = None
               ) -> Iterator[Connection]:
        """``tx``'s connection (the caller's transaction: an action and its journal entry
        commit together), or a transaction of its own when ``tx`` is None."""
        if tx is None:
            with self._begin(what, integrity=integrity) as conn:
                yield conn
        else:
            with mapped(what, integrity=integrity):
                yield tx.conn

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        """A read-only connection; SQLAlchemy errors → ``StoreError``."""
        with mapped(what), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self, what: str) -> Iterator[Tx]:
        """One write transaction for several store calls (an action and its journal entry):
        committed when the block ends, rolled back (nothing written) when it raises."""
        with self._begin(what) as conn:
            yield Tx(conn)
