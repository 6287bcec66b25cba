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
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from retrouve.errors import StoreError
from retrouve.store.blobs import BlobStore


def cause(exc: SQLAlchemyError) -> str:
    """The database's own words for ``exc`` (``database is locked``…), without SQL text."""
    orig = getattr(exc, "orig", None)
    return str(orig) if orig is not None else str(exc).split("\n")[0]


@contextmanager
def mapped(what: str, *, integrity: str | None = None) -> Iterator[None]:
    """Raise SQLAlchemy errors inside as ``StoreError("cannot <what>: <cause>")``.

    ``integrity``: the message for an ``IntegrityError`` (a unique key taken), when that
    means something more precise than the generic one; a CHECK failure (a bad status) gets
    the generic message with the database's cause.
    """
    try:
        yield
    except IntegrityError as exc:
        raise StoreError(integrity or f"cannot {what}: {cause(exc)}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot {what}: {cause(exc)}") from exc


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
    def _read(self, what: str) -> Iterator[Connection]:
        """A read-only connection; SQLAlchemy errors → ``StoreError``."""
        with mapped(what), self.engine.connect() as conn:
            yield conn
