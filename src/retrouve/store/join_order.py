"""Which attribute a SQLite search with several attributes is driven from.

A search for a person by two clothing colours joins ``track_attributes`` twice, strictly.
SQLite reads one of the two values' rows from ``ix_track_attributes_lookup`` and looks the
other up per track; which one it reads first, it cannot tell: ``sqlite_stat1`` gives every
(name, value) the same average number of rows (the build has no ``STAT4`` histograms). It
took the first: for a black top (~96 k rows at 1 M tracks) and white trousers (~21 k), the
search and its count read every black top, 0.48 s, against 0.17 s from the white trousers
(benchmarks/README.md, "Where a search's CPU went").

:func:`rarest` counts, up to :data:`PROBE_ROWS`, the index entries of each strict attribute
(an index-only range: ~3 ms for 20 k entries) and names the rarest; the search then keeps
the other attributes out of the index choice (``name || ''``, ``value || ''`` in their join
condition: the same tests on the non-NULL text, but no index term), so the database
starts from the rarest, or from the tracks' own indexes (camera and time) if it finds those
cheaper. The rows, the ranking and an uncapped count are the same whichever table drives;
only which tracks a capped count reads first may differ. Only the unfloored reads are
driven so (the count, the broad probe, a full ranking): above a score floor
(``store/top_objects.py``) the rows per value are not the rows above the floor.
PostgreSQL keeps per-value statistics and chooses by itself: nothing is done there.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, literal, select

from retrouve.store import schema as s
from retrouve.store.records import TrackFilter

#: Entries counted at most per attribute value: beyond, the values are all common and the
#: database's own choice is as good.
PROBE_ROWS = 50_000


def rarest(conn: Connection, flt: TrackFilter) -> int | None:
    """The index in ``flt.attributes`` of the strict attribute with the fewest rows (counted
    up to :data:`PROBE_ROWS`), on SQLite when ``flt`` has two strict attributes or more;
    None otherwise (also when every value reaches the cap)."""
    if conn.dialect.name != "sqlite":
        return None
    strict = [i for i, af in enumerate(flt.attributes) if af.or_object is None]
    if len(strict) < 2:
        return None
    a = s.track_attributes
    best: tuple[int, int] | None = None
    for i in strict:
        af = flt.attributes[i]
        entries = (
            select(literal(1))
            .where(a.c.name == af.name, a.c.value == af.value, a.c.confidence >= af.min_confidence)
            .limit(PROBE_ROWS)
            .subquery("entries")
        )
        n = int(conn.execute(select(func.count()).select_from(entries)).scalar_one())
        if best is None or n < best[0]:
            best = (n, i)
    assert best is not None
    return best[1] if best[0] < PROBE_ROWS else None
