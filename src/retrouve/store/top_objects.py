"""The first objects of a search's ranking without ranking every match: score floors.

A broad search (white cars over every camera and day: 10⁵ matches at 1 M tracks) used to sort
every match to show its first page. A track's score is its object confidence times the
confidences of the attributes asked for, every factor in 0..1, so a track scores at most its
object confidence times any one attribute's confidence — stored on each attribute row as
``weighted`` (migration 0016). The ranking is therefore first tried on the tracks whose
``weighted`` for every strict attribute (or, without one, whose object confidence) and whose
score reach a *floor*: a range of ``ix_track_attributes_weighted`` (or
``ix_tracks_object_conf``), a small fraction of the matches. The result is kept only when it is
provably the full ranking's prefix — it holds the ``need`` objects asked for and the last of
them is in tier 0 with a score at or above the floor: every track left out scores below the
floor, so it ranks after that last object (a lower score in the same or a later tier), and the
first ``need`` objects of the full ranking are the same. Otherwise a lower floor is tried, then
no floor (the full ranking, as before). A search with few matches (:func:`broad`) is ranked
whole at once.

The "every factor ≤ 1" premise is checked in the data, not assumed: one indexed
``max(confidence)`` per object class and attribute asked for, and no attribute row without
``weighted`` (:func:`bounded`); otherwise the full ranking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, text

from retrouve.store import schema as s
from retrouve.store.records import MatchCount, TrackFilter, TrackSpan

#: Score floors tried in turn, highest first (scores are 0..1). Each try reads the tracks
#: whose factors all reach the floor; the ladder's cost is dominated by its last try.
#: Measured on the synthetic 1 M index (benchmarks/README.md, "Search at 1 M tracks"): a
#: 50-hit page is found at 0.85, the web's 500-object timeline at 0.7 or 0.55.
FLOORS: tuple[float, ...] = (0.85, 0.7, 0.55, 0.4)


@dataclass(frozen=True)
class Ranked:
    """The first objects of a ranking (their best fragments, best first), the tier of the
    last one (None when there are none) and the score floor they were found above (0: the
    full ranking)."""

    spans: list[TrackSpan]
    last_tier: int | None
    floor: float = 0.0


def first_per_object(conn: Connection, ranked: Any, need: int) -> Ranked:
    """The first ``need`` objects of the ranked query ``ranked`` (one row per track, best
    first, with ``object_key`` and ``tier``), each as its first, best-ranked, row.

    Ranks ids, then groups: a top-k sort of a few more rows than objects needed (most objects
    are one fragment), widened until ``need`` distinct objects are found or the matches run
    out. The order is the full ranking's, so pages concatenate to the full list. (A window
    function over every match sorts them all twice: measured 1.7× the ungrouped time on
    ``benchmarks/bench_search.py`` at 100k tracks.)
    """
    k = need * 2 + 64
    while True:
        rows = conn.execute(ranked.limit(k)).all()
        seen: set[int] = set()
        out: list[TrackSpan] = []
        tier: int | None = None
        for r in rows:
            if int(r.object_key) in seen:
                continue
            seen.add(int(r.object_key))
            out.append(
                TrackSpan(int(r.id), r.camera_id, r.object, r.start_utc, r.end_utc, float(r.score))
            )
            tier = int(r.tier)
            if len(out) == need:
                return Ranked(out, tier)
        if len(rows) < k:
            return Ranked(out, tier)
        k *= 4


def bounded(conn: Connection, flt: TrackFilter) -> bool:
    """Whether every score factor of ``flt``'s matches is at most 1 in the stored data, so
    that a floor on the factors bounds the score (one query of indexed maxima). False for a
    filter without object classes (camera and time only: narrow already, and the maximum
    over every class has no index)."""
    if not flt.objects:
        return False
    t, a = s.tracks, s.track_attributes
    maxima = [
        select(func.max(t.c.object_conf)).where(t.c.object == o).scalar_subquery()
        for o in flt.objects
    ]
    maxima += [_max_confidence(conn.dialect.name, i, af.name, af.value)
               for i, af in enumerate(flt.attributes)]
    # A strict attribute row without ``weighted`` (written by hand) would be left out by
    # the floor whatever its score: no floors then (NULLs sort first in the index).
    holes = [select(a.c.track_id).where(a.c.name == af.name, a.c.value == af.value,
                                        a.c.weighted.is_(None)).limit(1).exists()
             for af in flt.attributes if af.or_object is None]
    row = conn.execute(select(*maxima, *holes)).one()
    return (all(v is None or float(v) <= 1.0 for v in row[:len(maxima)])
            and not any(row[len(maxima):]))


def broad(conn: Connection, matches: Any, need: int, counted: MatchCount | None = None) -> bool:
    """Whether ``matches`` (a select of the matching tracks) has more than
    :func:`narrow_limit` rows: only then are floors worth trying. Reads at most that many
    rows (a ``LIMIT`` in a subquery, no sort); a narrow search (a camera and two hours, a
    rare colour pair) is ranked whole at once instead of failing every floor first.

    ``counted`` (a capped count of the same matches, when the search counts them) answers
    without reading anything when it can: it read every match (not capped), or more than
    the limit. On the 1 M index this probe cost 15-170 ms a search, a fifth of its time."""
    cap = narrow_limit(need)
    if counted is not None and (not counted.capped or counted.tracks > cap):
        return counted.tracks > cap
    inner = matches.order_by(None).limit(cap + 1).subquery("probe")
    return int(conn.execute(select(func.count()).select_from(inner)).scalar_one()) > cap


def narrow_limit(need: int) -> int:
    """Matches up to which ranking them all is cheap enough (a sort of a few thousand
    narrow rows): 2,000, or 4 × ``need`` for a larger timeline."""
    return max(2000, 4 * need)


def _max_confidence(dialect: str, i: int, name: str, value: str) -> Any:
    """The scalar subquery of the highest confidence of attribute ``name = value`` (``i``
    numbers its parameters). On SQLite it names its index: ``ix_track_attributes_weighted``
    has the same (name, value) prefix and the planner took it, reading every row of the value
    (2.6 s for ``vehicle_type = car`` at 1 M tracks) instead of the last entry of
    ``ix_track_attributes_lookup``."""
    if dialect != "sqlite":
        a = s.track_attributes
        return (select(func.max(a.c.confidence))
                .where(a.c.name == name, a.c.value == value).scalar_subquery())
    return (select(text("max(confidence)"))
            .select_from(text("track_attributes INDEXED BY ix_track_attributes_lookup"))
            .where(text(f"name = :max_name_{i} AND value = :max_value_{i}")
                   .bindparams(**{f"max_name_{i}": name, f"max_value_{i}": value}))
            .scalar_subquery())


def top_objects(
    conn: Connection,
    ranked: Callable[[float], Any],
    flt: TrackFilter,
    need: int,
    counted: MatchCount | None = None,
) -> Ranked:
    """The first ``need`` objects of the full ranking of ``flt``'s matches: ``ranked(floor)``
    is the ranked select of the matches whose factors and score reach ``floor`` (0: all of
    them). Same objects, same order as ``first_per_object(conn, ranked(0.0), need)``.
    ``counted``: a capped count of the same matches, if the caller has one (:func:`broad`)."""
    if need > 0 and broad(conn, ranked(0.0), need, counted) and bounded(conn, flt):
        for floor in FLOORS:
            got = first_per_object(conn, ranked(floor), need)
            # Every track left out scores below ``floor`` <= the last object's score, and
            # tier 0 is the first tier: nothing left out ranks before the last object.
            if len(got.spans) == need and got.last_tier == 0:
                return Ranked(got.spans, got.last_tier, floor)
    return first_per_object(conn, ranked(0.0), need)
