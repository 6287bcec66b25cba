"""Score search hits against labelled queries, following ``shared/eval/README.md`` exactly.

Time bases:

* Hits carry timezone-aware wall-clock datetimes (``EvalHit.start``/``end``/``box_time``).
* Labels carry ``float`` seconds from the start of the camera's (single) recording.
* A hit time is converted to the label base as ``(t - recording_start).total_seconds()`` with
  the ``recording_starts`` map (camera id → start of its recording), so offsets and DST never
  matter: aware datetimes subtract correctly.

Rules (README "Scoring rules"), and how the corners the README leaves open are decided:

1. Same camera.
2. Overlap of ``[start, end]`` with ``[t0, t1]`` ≥ ``min(1 s, half the sighting)``.
   *Zero-length intervals (stills).* If the sighting (``t0 == t1``) or the hit
   (``start == end``) is an instant, an overlap *length* says nothing (it is 0 whether the
   instant is inside or not), so the rule becomes: the instant lies inside the other, closed,
   interval. A one-frame hit on a frame of the sighting is the most precise answer a system can
   give and must count.
3. If the sighting has boxes: the hit must have ``box`` and ``box_time``; the labelled box
   nearest in time to ``box_time`` must be within 0.6 s, and IoU(hit box, that box) ≥ 0.3.
   *Ties.* When two labelled boxes are equally near (``box_time`` midway between samples),
   either may satisfy the IoU test, so the result does not depend on the sample order.
   A ``box`` on a hit is ignored for sightings without boxes.

All comparisons allow ``1 µs`` (the resolution of ISO-8601 times) for times and ``1e-9`` for
IoU, so values exactly at a threshold pass despite float rounding.

Per query (first ``k = 10`` hits, in the ranked order given):

* recall@10 = matched expected sightings / expected sightings.
* precision@10 = hits matching an expected or ``also_ok`` sighting / hits considered. Each hit
  is judged on its own, so two hits on the same sighting both count as correct. A positive
  query with no hit has precision 0 (it found nothing: no reward for silence).
* top1 = 1 when the first hit matches an expected *or* ``also_ok`` sighting (``also_ok`` are
  acceptable answers, so ranking one first is not an error), 0 otherwise or with no hit.
* negative queries (empty ``expected``): clean = 1 when no hit is returned at all, also not
  one matching an ``also_ok`` sighting; recall, precision and top1 are ``None``.

This module is pure: no file or network access.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeGuard

from retrouve.errors import EvaluationError
from retrouve.evaluation.dataset import LabelledQuery, Sighting

#: How many ranked hits count per query.
DEFAULT_K: Final[int] = 10
#: Rule 2: the overlap needed is min(this, half the sighting).
MIN_OVERLAP_S: Final[float] = 1.0
#: Rule 3: the nearest labelled box must lie within this of the hit's box_time.
BOX_TIME_TOLERANCE_S: Final[float] = 0.6
#: Rule 3: the least IoU between the hit box and the labelled box.
MIN_IOU: Final[float] = 0.3

#: Categories in report order; ``overall`` is appended by :func:`summarise`.
CATEGORIES: Final[tuple[str, ...]] = (
    "object-type",
    "vehicle-colour",
    "person-attributes",
    "accessories",
    "plate-exact",
    "plate-wildcard",
)
OVERALL: Final[str] = "overall"

# ISO-8601 times in hits carry microseconds at best; differences below that are rounding.
_TIME_EPS_S: Final[float] = 1e-6
_IOU_EPS: Final[float] = 1e-9


@dataclass(frozen=True)
class EvalHit:
    """One ranked search result, in wall-clock time (aware datetimes)."""

    camera: str
    start: datetime
    end: datetime
    score: float
    box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1, original pixels
    box_time: datetime | None = None  # the frame ``box`` was drawn on


@dataclass(frozen=True)
class QueryScore:
    """Scores of one query. ``n_hits`` is the number of hits returned, before the cut at k."""

    query_id: str
    category: str
    negative: bool
    recall: float | None
    precision: float | None
    top1: float | None
    clean: float | None
    n_hits: int
    #: Hits in the top k that match only expected sightings an earlier hit already matched
    #: (the same labelled object shown again); 0 for negative queries.
    duplicates: int = 0


@dataclass(frozen=True)
class CategorySummary:
    """Means over the queries of one category (or ``overall``); ``None`` when undefined."""

    category: str
    n_queries: int
    n_positive: int
    n_negative: int
    recall: float | None  # mean over positive queries
    precision: float | None  # mean over positive queries
    top1: float | None  # mean over positive queries
    clean: float | None  # share of negative queries that were clean


# --------------------------------------------------------------------------- hits


def hit_from_json(d: Mapping[str, Any], *, where: str = "hit") -> EvalHit:
    """Parse the hit JSON schema ``{camera, start, end, score, box?, box_time?}``.

    ``where`` prefixes messages (e.g. ``"results.jsonl:4 hit 2"``). Extra keys are ignored so
    systems may add their own fields (track ids, thumbnails). ``box`` and ``box_time`` must come
    together: a box without its frame time cannot be placed.
    """
    if not isinstance(d, Mapping):
        raise EvaluationError(f"{where}: a hit must be a JSON object")
    camera = d.get("camera")
    if not isinstance(camera, str) or not camera:
        raise EvaluationError(f"{where}: 'camera' must be a non-empty string")
    start = _aware(d, "start", where)
    end = _aware(d, "end", where)
    if end < start:
        raise EvaluationError(f"{where}: 'end' {d['end']!r} is before 'start' {d['start']!r}")
    score = d.get("score")
    if not _is_number(score) or not math.isfinite(float(score)):
        raise EvaluationError(f"{where}: 'score' must be a finite number")

    box: tuple[float, float, float, float] | None = None
    box_time: datetime | None = None
    raw_box = d.get("box")
    raw_time = d.get("box_time")
    if (raw_box is None) != (raw_time is None):
        raise EvaluationError(f"{where}: 'box' and 'box_time' must be given together")
    if raw_box is not None:
        if (
            not isinstance(raw_box, list | tuple)
            or len(raw_box) != 4
            or not all(_is_number(v) and math.isfinite(float(v)) for v in raw_box)
        ):
            raise EvaluationError(f"{where}: 'box' must be [x0, y0, x1, y1] finite numbers")
        x0, y0, x1, y1 = (float(v) for v in raw_box)
        if x1 < x0 or y1 < y0:
            raise EvaluationError(f"{where}: 'box' needs x1 >= x0 and y1 >= y0")
        box = (x0, y0, x1, y1)
        box_time = _aware(d, "box_time", where)
    return EvalHit(
        camera=camera, start=start, end=end, score=float(score), box=box, box_time=box_time
    )


# --------------------------------------------------------------------------- matching


def seconds_since(t: datetime, recording_start: datetime) -> float:
    """``t`` in seconds from ``recording_start`` (both aware), the label time base."""
    return (t - recording_start).total_seconds()


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two ``x0, y0, x1, y1`` boxes; 0 when the union is empty."""
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    inter = ix * iy if ix > 0 and iy > 0 else 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def matches(hit: EvalHit, sighting: Sighting, recording_start: datetime) -> bool:
    """Whether ``hit`` matches ``sighting`` (rules 1–3; see the module docstring).

    ``recording_start`` is the start of the recording of ``sighting.camera``.
    """
    # Rule 1.
    if hit.camera != sighting.camera:
        return False

    # Rule 2.
    h0 = seconds_since(hit.start, recording_start)
    h1 = seconds_since(hit.end, recording_start)
    s0, s1 = sighting.t0, sighting.t1
    lo, hi = max(h0, s0), min(h1, s1)
    if hi < lo - _TIME_EPS_S:
        return False  # disjoint: no overlap at all
    instant = (h1 - h0) <= _TIME_EPS_S or (s1 - s0) <= _TIME_EPS_S
    # For an instant on either side the intersection test above already is the containment
    # test; a length threshold would be meaningless (see module docstring).
    if not instant and hi - lo < min(MIN_OVERLAP_S, (s1 - s0) / 2) - _TIME_EPS_S:
        return False

    # Rule 3.
    if not sighting.boxes:
        return True
    if hit.box is None or hit.box_time is None:
        return False
    bt = seconds_since(hit.box_time, recording_start)
    nearest = min(abs(b.t - bt) for b in sighting.boxes)
    if nearest > BOX_TIME_TOLERANCE_S + _TIME_EPS_S:
        return False
    return any(
        iou(hit.box, (b.x0, b.y0, b.x1, b.y1)) >= MIN_IOU - _IOU_EPS
        for b in sighting.boxes
        if abs(b.t - bt) <= nearest + _TIME_EPS_S
    )


# --------------------------------------------------------------------------- per query


def score_query(
    labelled: LabelledQuery,
    hits: Sequence[EvalHit],
    recording_starts: Mapping[str, datetime],
    k: int = DEFAULT_K,
) -> QueryScore:
    """Score one query from its ranked hits (best first; the order given is the ranking).

    Raises :class:`EvaluationError` when a labelled sighting's camera has no entry in
    ``recording_starts`` (the labels and the dataset disagree).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    category = category_of(labelled.query)
    if not labelled.expected:
        return QueryScore(
            query_id=labelled.id,
            category=category,
            negative=True,
            recall=None,
            precision=None,
            top1=None,
            clean=1.0 if not hits else 0.0,
            n_hits=len(hits),
        )

    for s in (*labelled.expected, *labelled.also_ok):
        if s.camera not in recording_starts:
            raise EvaluationError(
                f"query '{labelled.id}' (line {labelled.line}): sighting camera '{s.camera}' "
                "has no recording start"
            )

    top = list(hits[:k])
    acceptable = (*labelled.expected, *labelled.also_ok)

    def ok(hit: EvalHit, sightings: Iterable[Sighting]) -> bool:
        return any(matches(hit, s, recording_starts[s.camera]) for s in sightings)

    found = sum(1 for s in labelled.expected if any(ok(h, (s,)) for h in top))
    good = [ok(h, acceptable) for h in top]
    seen: set[int] = set()
    duplicates = 0
    for h in top:
        mine = {i for i, s in enumerate(labelled.expected) if ok(h, (s,))}
        if mine and mine <= seen:
            duplicates += 1
        seen |= mine
    return QueryScore(
        query_id=labelled.id,
        category=category,
        negative=False,
        recall=found / len(labelled.expected),
        precision=sum(good) / len(top) if top else 0.0,
        top1=1.0 if good and good[0] else 0.0,
        clean=None,
        n_hits=len(hits),
        duplicates=duplicates,
    )


def duplicate_hits(scores: Iterable[QueryScore]) -> tuple[int, int]:
    """(hits repeating an already-found labelled object in a top k, queries with any):
    the "one result per object" check."""
    all_scores = list(scores)
    return (sum(s.duplicates for s in all_scores),
            sum(1 for s in all_scores if s.duplicates))


def category_of(query: Mapping[str, Any]) -> str:
    """The report category of a raw query object (first rule that applies wins)."""
    plate = query.get("plate")
    if plate is not None:
        text = str(plate)
        return "plate-wildcard" if "?" in text or "*" in text else "plate-exact"
    if "accessory" in query:
        return "accessories"
    if "upper" in query or "lower" in query:
        return "person-attributes"
    if "colour" in query:
        return "vehicle-colour"
    return "object-type"


def unsupported_keys(query: Mapping[str, Any], supported: Collection[str]) -> list[str]:
    """Keys of ``query`` that are not in ``supported``, in the query's order.

    The caller decides what to do (skip the query, or score it and flag it): a system that
    ignores a key it cannot handle would otherwise look better or worse for the wrong reason.
    """
    return [key for key in query if key not in supported]


# --------------------------------------------------------------------------- summaries


def summarise(scores: Iterable[QueryScore]) -> list[CategorySummary]:
    """One row per category present (in :data:`CATEGORIES` order, unknown ones after, sorted)
    and a final ``overall`` row. Overall means are over queries, not over category means.
    """
    all_scores = list(scores)
    present = {s.category for s in all_scores}
    order = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
    rows = [_summary(c, [s for s in all_scores if s.category == c]) for c in order]
    rows.append(_summary(OVERALL, all_scores))
    return rows


def _summary(category: str, scores: Sequence[QueryScore]) -> CategorySummary:
    positive = [s for s in scores if not s.negative]
    negative = [s for s in scores if s.negative]
    return CategorySummary(
        category=category,
        n_queries=len(scores),
        n_positive=len(positive),
        n_negative=len(negative),
        recall=_mean(s.recall for s in positive),
        precision=_mean(s.precision for s in positive),
        top1=_mean(s.top1 for s in positive),
        clean=_mean(s.clean for s in negative),
    )


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def format_table(summaries: Sequence[CategorySummary]) -> str:
    """A fixed-width plain-text table of ``summaries``; ``-`` marks an undefined mean."""
    headers = ("category", "queries", "pos", "neg", "recall@10", "prec@10", "top1", "clean")
    rows = [
        (
            s.category,
            str(s.n_queries),
            str(s.n_positive),
            str(s.n_negative),
            _fmt(s.recall),
            _fmt(s.precision),
            _fmt(s.top1),
            _fmt(s.clean),
        )
        for s in summaries
    ]
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        # Category left-aligned, numbers right-aligned so decimals line up.
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# --------------------------------------------------------------------------- helpers


def _is_number(value: Any) -> TypeGuard[int | float]:
    # bool is an int subclass; a JSON true is not a score.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _aware(d: Mapping[str, Any], key: str, where: str) -> datetime:
    text = d.get(key)
    if not isinstance(text, str):
        raise EvaluationError(f"{where}: '{key}' must be an ISO-8601 time string")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise EvaluationError(f"{where}: '{key}' is not an ISO-8601 time: {text!r}") from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise EvaluationError(f"{where}: '{key}' {text!r} has no UTC offset")
    return value
