"""The journal's rows: append-only entries and signed checkpoints.

The chain's rules (canonical form, hashes, signatures) are ``retrouve.legal.journal``'s; this
part only stores and reads rows. :meth:`JournalPart.append_entry` runs inside the caller's
:class:`~retrouve.store.base.Tx`, reading the head under the same transaction, so the entry
commits with the action it records or not at all. Nothing here updates or deletes an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, insert, select, text, update

from retrouve.store import schema as s
from retrouve.store.base import StorePart, Tx


@dataclass(frozen=True)
class JournalRow:
    """One stored entry. ``objects_json``/``details_json`` are the canonical JSON texts."""

    seq: int
    at: datetime
    user: str
    role: str
    case: str | None
    action: str
    objects_json: str
    details_json: str
    digest: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class CheckpointRow:
    """The chain's head at ``entry_seq`` (its hash), signed (hex Ed25519) with ``key_id``."""

    seq: int
    entry_seq: int
    entry_hash: str
    at: datetime
    key_id: str
    signature: str


@dataclass(frozen=True)
class EntryFilter:
    """Which entries to list: each field None matches all; times aware, inclusive."""

    case: str | None = None
    user: str | None = None
    action: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None


#: Key of PostgreSQL's transaction-level advisory lock that serialises journal appends.
_APPEND_LOCK = 0x52455452  # "RETR"


def _serialise_appends(tx: Tx) -> None:
    """Take the database's write lock for the journal before the head is read, so two
    appends at once (parallel logins, several server workers) queue instead of both
    reading the same head and one failing on its seq. PostgreSQL: an advisory lock held to
    the end of the transaction. SQLite: a write statement that changes nothing takes the
    file's write lock (waiting up to the busy timeout) and starts the transaction, so the
    head is read after any other writer committed."""
    if tx.conn.dialect.name == "postgresql":
        tx.conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _APPEND_LOCK})
    else:
        j = s.journal_entries
        tx.conn.execute(update(j).where(false()).values(seq=j.c.seq))


#: Builds the row to append from the head: (next seq, previous entry's hash) → row.
Seal = Callable[[int, str | None], JournalRow]


class JournalPart(StorePart):
    """Journal entries and checkpoints."""

    def append_entry(self, tx: Tx, seal: Seal) -> JournalRow:
        """Append the row ``seal(seq, prev_hash)`` builds after the current head (None for
        the first entry), in ``tx``. Two concurrent appends cannot share a seq (primary
        key): the loser's transaction fails, and its action with it."""
        j = s.journal_entries
        _serialise_appends(tx)
        head = tx.conn.execute(select(j.c.seq, j.c.hash).order_by(j.c.seq.desc())
                               .limit(1)).first()
        row = seal(int(head.seq) + 1 if head else 1, head.hash if head else None)
        tx.conn.execute(insert(j).values(
            seq=row.seq, at=row.at, user_name=row.user, role=row.role, case_ref=row.case,
            action=row.action, objects_json=row.objects_json, details_json=row.details_json,
            digest=row.digest, prev_hash=row.prev_hash, hash=row.hash))
        return row

    def add_checkpoint(self, tx: Tx, make: Callable[[int], CheckpointRow]) -> CheckpointRow:
        """Append the checkpoint ``make(next checkpoint seq)`` builds, in ``tx``."""
        c = s.journal_checkpoints
        last = tx.conn.execute(select(func.max(c.c.seq))).scalar()
        cp = make(int(last or 0) + 1)
        tx.conn.execute(insert(c).values(seq=cp.seq, entry_seq=cp.entry_seq,
                                         entry_hash=cp.entry_hash, at=cp.at,
                                         key_id=cp.key_id, signature=cp.signature))
        return cp

    def journal_head(self, tx: Tx | None = None) -> JournalRow | None:
        """The newest entry (in ``tx`` when given), or None for an empty journal."""
        j = s.journal_entries
        q = select(j).order_by(j.c.seq.desc()).limit(1)
        if tx is not None:
            row = tx.conn.execute(q).first()
        else:
            with self._read("read the journal head") as conn:
                row = conn.execute(q).first()
        return _row(row._mapping) if row else None

    def last_checkpoint(self, tx: Tx) -> CheckpointRow | None:
        c = s.journal_checkpoints
        row = tx.conn.execute(select(c).order_by(c.c.seq.desc()).limit(1)).first()
        return _checkpoint(row._mapping) if row else None

    def journal_entries(self, *, case: str | None = None, seq_from: int | None = None,
                        seq_to: int | None = None) -> Iterator[JournalRow]:
        """Entries in stored order (by ``seq``, as the table holds them: a reordering shows),
        optionally of one case and within ``[seq_from, seq_to]``."""
        j = s.journal_entries
        q = select(j).order_by(j.c.seq)
        if case is not None:
            q = q.where(j.c.case_ref == case)
        if seq_from is not None:
            q = q.where(j.c.seq >= seq_from)
        if seq_to is not None:
            q = q.where(j.c.seq <= seq_to)
        with self._read("read the journal") as conn:
            rows = [_row(r._mapping) for r in conn.execute(q)]
        yield from rows

    def journal_page(self, f: EntryFilter, *, before: int | None = None, limit: int = 50
                     ) -> list[JournalRow]:
        """At most ``limit`` entries matching ``f``, newest first, with ``seq < before`` when
        given (the cursor of the next page: the last seq of this one)."""
        j = s.journal_entries
        q = select(j).order_by(j.c.seq.desc()).limit(limit)
        for column, value in ((j.c.case_ref, f.case), (j.c.user_name, f.user),
                              (j.c.action, f.action)):
            if value is not None:
                q = q.where(column == value)
        if f.at_from is not None:
            q = q.where(j.c.at >= f.at_from)
        if f.at_to is not None:
            q = q.where(j.c.at <= f.at_to)
        if before is not None:
            q = q.where(j.c.seq < before)
        with self._read("read a page of the journal") as conn:
            return [_row(r._mapping) for r in conn.execute(q)]

    def journal_actions(self) -> list[str]:
        """The distinct actions the journal holds, sorted (the filter's choices)."""
        j = s.journal_entries
        with self._read("list the journal's actions") as conn:
            return [str(a) for a in conn.execute(select(j.c.action).distinct()
                                                 .order_by(j.c.action)).scalars()]

    def journal_checkpoints(self) -> list[CheckpointRow]:
        c = s.journal_checkpoints
        with self._read("read journal checkpoints") as conn:
            return [_checkpoint(r._mapping) for r in conn.execute(select(c).order_by(c.c.seq))]


def _row(m: Any) -> JournalRow:
    g = m.__getitem__
    return JournalRow(int(g("seq")), g("at"), g("user_name"), g("role"), g("case_ref"),
                      g("action"), g("objects_json"), g("details_json"), g("digest"),
                      g("prev_hash"), g("hash"))


def _checkpoint(m: Any) -> CheckpointRow:
    g = m.__getitem__
    return CheckpointRow(int(g("seq")), int(g("entry_seq")), g("entry_hash"), g("at"),
                         g("key_id"), g("signature"))
