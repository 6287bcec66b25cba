"""The SQL prefilter of a plate search: the tracks whose folded plate read, or one of its folded
runner-up reads, matches one of a pattern's ``LIKE`` patterns (:meth:`PlatePattern.sql_likes`).

One condition, three ways to answer it, chosen per database and pattern, all giving the same
tracks (``tests/test_search_bounded.py`` compares them):

* **SQLite, every pattern with three literal characters in a row** (a full plate and its
  one-edit variants, ``AB1*``): each pattern is looked up in the FTS5 ``trigram`` table
  ``plate_reads_trigram`` (migration 0016) — the index narrows to the reads holding its
  trigrams, FTS5 then tests the ``LIKE`` itself — and the tracks are those ids (a ``UNION``:
  FTS5 answers one ``LIKE`` per lookup).
* **PostgreSQL**: the same ``OR`` of ``LIKE`` over ``plate_reads`` in a subquery, which the
  planner can answer from the ``pg_trgm`` GIN indexes (migration 0011) with a bitmap ``OR``.
* **Otherwise** (SQLite and a pattern without three literal characters in a row, such as
  ``A?12?*`` → ``4_12_%``: a trigram index cannot serve it): every read is tested, in the
  same subquery on ``plate_reads`` alone. Before 0016 the condition was tested on a join
  driven from every vehicle track: on the 110 k index, 20 wildcard patterns took p50 447 ms
  that way against 36 ms as a subquery (2026-12-03, shared machine).

The caller keeps the tracks whose id is in that subquery (one read per track).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import column, or_, select, table, union

from retrouve.store import schema as s

#: The FTS5 table of migration 0016 (``rowid`` is ``plate_reads.track_id``).
TRIGRAM = table("plate_reads_trigram", column("rowid"), column("folded"), column("folded_alts"))
_LITERAL_RUN = re.compile(r"[^%_]{3}")


def alts_like(pattern: str) -> str:
    """The ``LIKE`` pattern over ``folded_alts`` (``|ALT1|ALT2|``) for a read pattern."""
    return f"%|{pattern}|%"


def has_trigram(pattern: str) -> bool:
    """Whether a ``LIKE`` pattern holds three literal characters in a row (so a trigram
    index can narrow its matches)."""
    return _LITERAL_RUN.search(pattern) is not None


def like_condition(likes: Sequence[str]) -> Any:
    """The per-row condition on ``plate_reads``: one of ``likes`` matches the folded read or
    a folded runner-up (what every way of answering computes)."""
    p = s.plate_reads
    return or_(*(or_(p.c.folded.like(pat), p.c.folded_alts.like(alts_like(pat))) for pat in likes))


def uses_trigram_table(dialect: str, likes: Sequence[str]) -> bool:
    """Whether SQLite answers ``likes`` from ``plate_reads_trigram``."""
    return dialect == "sqlite" and all(
        has_trigram(pat) and has_trigram(alts_like(pat)) for pat in likes
    )


def matching_tracks(dialect: str, likes: Sequence[str]) -> Any:
    """A select of the ids of the tracks whose read matches one of ``likes``, answered from
    the trigram index where it can (see the module's docstring)."""
    if uses_trigram_table(dialect, likes):
        return union(
            *(
                select(TRIGRAM.c.rowid).where(col.like(pat))
                for raw in likes
                for col, pat in ((TRIGRAM.c.folded, raw), (TRIGRAM.c.folded_alts, alts_like(raw)))
            )
        )
    p = s.plate_reads
    return select(p.c.track_id).where(like_condition(likes))
