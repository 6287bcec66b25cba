"""Which attribute a SQLite search with several attributes is driven from.

A search for a person by two clothing colours joins ``track_attributes`` twice, strictly.
SQLite reads one of the two values' rows from ``ix_track_attributes_lookup`` and looks the
other up per track; which one it reads first, it cannot tell: ``sqlite_stat1`` gives every
(name, value) the same average number of rows (the build has no ``STAT4`` histograms). It
took the first: for a black top (~96 k rows at 1 M tracks) and white trousers (~21 k), the
search and its count read every black top, 0.48 s, against 0.17 s from the white trousers
(benchmarks/README.md, "Where a search's CPU went").

A *loose* attribute (``AttributeFilter.or_object``: ``vehicle_type = truck`` or a track
detected as a truck) joins outer, so SQLite never starts from it: a grey truck was found by
reading every grey vehicle (172 k rows for 7 k grey trucks, 0.5-0.85 s a count). Its matches
are the tracks with the value's rows *or* of the object class, two index ranges; when those
hold fewer entries than every strict attribute's, the search starts from them instead
(``tracks.id IN (… UNION …)``, :func:`loose_candidates`): 0.11 s for the same count.

:func:`rarest` counts, up to :data:`PROBE_ROWS` (:data:`LOOSE_PROBE_ROWS` for a loose
attribute's two ranges), the index entries of each attribute (an index-only range: ~3 ms for
50 k entries) and names the rarest; the search then keeps the strict attributes that do not
drive out of the index choice (``name || ''``, ``value || ''`` in their join condition: the
same tests on the non-NULL text, but no index term), so the database starts from the rarest,
or from the tracks' own indexes (camera and time) if it finds those cheaper. The rows, the
ranking and an uncapped count are the same whichever table drives; only which tracks a
capped count reads first may differ. Only the unfloored reads are driven so (the count, the
broad probe, a full ranking): above a score floor (``store/top_objects.py``) the rows per
value are not the rows above the floor. PostgreSQL keeps per-value statistics and chooses by
itself: nothing is done there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, literal, select

from retrouve.store import schema as s
from retrouve.store.records import AttributeFilter, TrackFilter

#: Entries counted at most per strict attribute value: beyond, the values are all common and
#: the database's own choice is as good.
PROBE_ROWS = 50_000
#: Entries counted at most in each of a loose attribute's two ranges (its rows, its object
#: class): a van (6 % of the tracks, 60 k + 60 k at 1 M) still drives a black van's search
#: (190 k black rows); a car (46 %) stops the probe at once.
LOOSE_PROBE_ROWS = 64_000


def _entries(conn: Connection, q: Any, cap: int) -> int:
    """Rows of the select ``q``, counted up to ``cap``."""
    inner = q.limit(cap).subquery("entries")
    return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())


def _value_rows(af: AttributeFilter) -> Any:
    a = s.track_attributes
    return select(literal(1)).where(a.c.name == af.name, a.c.value == af.value,
                                    a.c.confidence >= af.min_confidence)


def loose_candidates(af: AttributeFilter) -> Any:
    """The ids of every track a loose attribute ``af`` can match: those with the value's
    rows, and those of its object class (``or_object``), as one select (``UNION``)."""
    a, t = s.track_attributes, s.tracks.alias("loose_class")
    assert af.or_object is not None
    return (select(a.c.track_id)
            .where(a.c.name == af.name, a.c.value == af.value,
                   a.c.confidence >= af.min_confidence)
            .union(select(t.c.id).where(t.c.object == af.or_object)))


def rarest(conn: Connection, flt: TrackFilter) -> int | None:
    """The index in ``flt.attributes`` of the attribute the search should be driven from,
    on SQLite; None otherwise (PostgreSQL, fewer than two attributes of which one strict,
    or no attribute clearly rarer than the others).

    A strict attribute is chosen among two or more strict ones by its rows (counted up to
    :data:`PROBE_ROWS`; None when every value reaches the cap). A loose attribute is chosen
    when the larger of its two ranges (each counted up to :data:`LOOSE_PROBE_ROWS`, neither
    reaching it) holds fewer entries than every strict attribute's rows."""
    if conn.dialect.name != "sqlite":
        return None
    strict = [i for i, af in enumerate(flt.attributes) if af.or_object is None]
    if not strict:
        return None
    loose: tuple[int, int] | None = None
    t = s.tracks
    for i, af in enumerate(flt.attributes):
        if af.or_object is None:
            continue
        rows = _entries(conn, _value_rows(af), LOOSE_PROBE_ROWS)
        if rows >= LOOSE_PROBE_ROWS:
            continue
        of_class = _entries(conn, select(literal(1)).where(t.c.object == af.or_object),
                            LOOSE_PROBE_ROWS)
        # The two ranges mostly hold the same tracks (a track detected as a van is mostly
        # voted a van): the larger estimates their union (counting the union itself costs
        # a temporary index, 48 ms for the vans at 1 M).
        if of_class < LOOSE_PROBE_ROWS and (loose is None or max(rows, of_class) < loose[0]):
            loose = (max(rows, of_class), i)
    if len(strict) < 2 and loose is None:
        return None
    # Counted up to the loose candidates when there are some: a strict value with as many
    # rows cannot be rarer.
    cap = PROBE_ROWS if loose is None else max(1, loose[0])
    best: tuple[int, int] | None = None
    for i in strict:
        n = _entries(conn, _value_rows(flt.attributes[i]), cap)
        if best is None or n < best[0]:
            best = (n, i)
    assert best is not None
    if best[0] >= cap:
        # Every strict value has at least as many rows as the cap: the loose candidates if
        # they set it, else (all common) the database's own choice.
        return loose[1] if loose is not None else None
    return best[1] if len(strict) >= 2 else None
