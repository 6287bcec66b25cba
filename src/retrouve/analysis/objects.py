"""Link track fragments into objects: one vehicle passing, one bag left behind, is one object.

A recording is cut into work units (10-minute slices) analysed independently and in any order,
and a tracker loses an object for a moment behind a bus or between two stills. Each piece is a
stored track (a *fragment*); :func:`group_fragments` decides which fragments of one camera are
the same object. It is pure and deterministic (the same fragments give the same groups in any
input order), so a resumed or repeated analysis stores the same objects.

Three rules link two fragments ``a`` (earlier) and ``b`` of the same camera and the same kind
of object (:func:`family`: car/van/truck/bus are one kind, since the detector flips between
them):

- **continuation across a slice boundary**: ``a`` runs to the end of its slice, ``b`` starts at
  the start of the adjoining slice (within :attr:`LinkRules.edge_s`), and ``a``'s last box,
  moved on at ``a``'s own velocity to ``b``'s first observation (or left where it was),
  overlaps ``b``'s first box (IoU ≥ :attr:`LinkRules.boundary_iou`);
- **short gap on the same spot**: ``b`` starts at most :attr:`LinkRules.gap_s` after ``a``
  ends, and that box overlaps ``b``'s first box strongly (IoU ≥ :attr:`LinkRules.gap_iou`);
- **a still object missed by one periodic detection**: ``b`` starts at most
  :attr:`LinkRules.still_gap_s` after ``a`` ends, on nearly the same box
  (IoU ≥ :attr:`LinkRules.still_iou`).

For both, a small object that moved more than its own width between two samples still
continues when the centres are close (:attr:`LinkRules.near`) and the sizes agree, at a low
score, so a real overlap always wins the one-to-one matching;
- **same plate**: both fragments carry the same confident consensus plate read and ``b``
  starts within :attr:`LinkRules.plate_gap_s` of ``a``'s end (the successive stills of a
  plate camera).

The first two rules are one-to-one: a fragment continues into at most one successor, the
nearest in time and, among equally near ones, the best-overlapping one, so a chain never skips
a fragment and two cars crossing at a boundary stay two objects. Fragments (or
groups) whose confident plate reads differ are never linked.

Times are wall-clock POSIX seconds; boxes original-frame pixels (:class:`TrackSummary`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from retrouve.domain import Box, Recording
from retrouve.store.db import Store
from retrouve.store.records import TrackSummary

#: Kinds of object that one physical object may be called from slice to slice.
_FAMILIES: dict[str, str] = {
    "car": "motor",
    "van": "motor",
    "truck": "motor",
    "bus": "motor",
    "handbag": "bag",
    "suitcase": "bag",
    "backpack": "bag",
}


def family(kind: str) -> str:
    """The family of an object class: car, van, truck and bus are all ``motor``; handbag,
    suitcase and backpack ``bag`` (the detector confuses them); any other class is its own."""
    return _FAMILIES.get(kind, kind)


@dataclass(frozen=True)
class LinkRules:
    """Thresholds of the linking rules (seconds, IoU 0..1, plate confidence 0..1)."""

    #: How close to its slice's end (start) a fragment must end (start) to continue across
    #: the boundary: half a sampling interval of padding plus a few missed samples at 4 fps.
    edge_s: float = 1.5
    #: Slices whose ends are this close (wall clock) adjoin (consecutive units or files).
    adjoin_s: float = 1.0
    boundary_iou: float = 0.3
    #: Centres this close (× the box's longer side) also continue, at a low score.
    near: float = 0.5
    #: Longest gap bridged on the same spot within the footage, and the overlap required.
    gap_s: float = 4.0
    gap_iou: float = 0.5
    #: A still object's detection is refreshed every ``refresh_seconds`` (5 s by default)
    #: while the motion gate sees nothing move; when one refresh misses it (a seated person
    #: scored under the threshold once), it comes back on the same spot one refresh later:
    #: gaps up to one refresh plus a sample of padding are bridged when the boxes nearly
    #: coincide, as the track builder requires of an object unchanged after still frames
    #: (``REPLACED_IOU``). A car leaving and another parking on the same box within 6 s is
    #: what the stricter overlap guards against.
    still_gap_s: float = 6.0
    still_iou: float = 0.7
    #: Gaps are compared in steps of this (about one sample at 4 fps): a successor within the
    #: same step as another is chosen by overlap.
    tick_s: float = 0.25
    #: Two fragments may overlap by this much (their spans are padded by half a sample).
    overlap_s: float = 0.6
    #: Plate rule: longest gap between fragments with the same read, least read confidence.
    plate_gap_s: float = 60.0
    plate_min_confidence: float = 0.5
    plate_min_length: int = 4


def _predicted(a: TrackSummary, t: float) -> Box:
    """``a``'s last box moved on to time ``t`` at its mean velocity (first → last box)."""
    dt = a.last_t - a.first_t
    if dt <= 0:
        return a.last_box
    (fx, fy), (lx, ly) = a.first_box.center, a.last_box.center
    ahead = min(max(t - a.last_t, 0.0), 5.0)  # never extrapolate far
    dx, dy = (lx - fx) / dt * ahead, (ly - fy) / dt * ahead
    b = a.last_box
    return Box(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)


def _families(f: TrackSummary) -> frozenset[str]:
    return frozenset(family(k) for k in f.kinds)


def _plate(f: TrackSummary, rules: LinkRules) -> str | None:
    if (
        f.plate
        and len(f.plate) >= rules.plate_min_length
        and f.plate_confidence >= rules.plate_min_confidence
    ):
        return f.plate
    return None


def _closeness(a: TrackSummary, b: TrackSummary, min_iou: float, rules: LinkRules) -> float:
    """How well ``b``'s first box continues ``a`` (> 0), else 0: the best IoU of ``b``'s first
    box with ``a``'s last box, moved on at ``a``'s velocity or left where it was (a velocity
    from a short fragment is noisy), when at least ``min_iou``; failing that, a small score
    when the centres are within :attr:`LinkRules.near` of the box's longer side and the
    sizes agree (a small object moving faster than its own width between two samples)."""
    pred = _predicted(a, b.first_t)
    iou = max(pred.iou(b.first_box), a.last_box.iou(b.first_box))
    if iou >= min_iou:
        return iou
    side = max(a.last_box.width, a.last_box.height, b.first_box.width, b.first_box.height)
    (bx, by) = b.first_box.center
    dist = float(min(math.hypot(x - bx, y - by) for x, y in (pred.center, a.last_box.center)))
    ratio = b.first_box.area / max(a.last_box.area, 1e-6)
    if dist <= rules.near * side and 0.5 <= ratio <= 2.0:
        return 0.1 * (1.0 - dist / (rules.near * side)) + 1e-3
    return 0.0


def _continuation(a: TrackSummary, b: TrackSummary, rules: LinkRules) -> float:
    """The closeness (> 0) of ``b`` continuing ``a`` by the boundary or gap rule, else 0."""
    if a.camera_id != b.camera_id or not (_families(a) & _families(b)):
        return 0.0
    gap = b.start - a.end
    if gap < -rules.overlap_s or b.end <= a.end or b.start < a.start:
        return 0.0
    across = (
        a.seg_end - a.end <= rules.edge_s
        and b.start - b.seg_start <= rules.edge_s
        and abs(b.seg_start - a.seg_end) <= rules.adjoin_s
    )
    if across and gap <= rules.edge_s * 2:
        return _closeness(a, b, rules.boundary_iou, rules)
    if gap <= rules.gap_s:
        return _closeness(a, b, rules.gap_iou, rules)
    if gap <= rules.still_gap_s:
        iou = a.last_box.iou(b.first_box)
        return iou if iou >= rules.still_iou else 0.0
    return 0.0


class _Groups:
    """Union-find over fragment ids, keeping each group's confident plate reads."""

    def __init__(self, ids: Iterable[int], plates: dict[int, str | None]) -> None:
        self.parent = {i: i for i in ids}
        self.plates: dict[int, set[str]] = {
            i: ({p} if (p := plates.get(i)) else set()) for i in self.parent
        }

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        """Join the groups of ``i`` and ``j`` unless their plate reads differ."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return True
        pi, pj = self.plates[ri], self.plates[rj]
        if pi and pj and pi != pj:
            return False
        lo, hi = min(ri, rj), max(ri, rj)
        self.parent[hi] = lo
        self.plates[lo] = pi | pj
        return True


def group_fragments(
    fragments: Sequence[TrackSummary], rules: LinkRules | None = None
) -> dict[int, int]:
    """Track id → object id for every fragment given (one call per camera and time window is
    enough; fragments of several cameras never link). An object's id is the id of its
    earliest fragment (earliest start, then lowest id), so it is stable when the same
    fragments are grouped again."""
    rules = rules or LinkRules()
    frags = sorted(fragments, key=lambda f: (f.camera_id, f.start, f.id))
    plates = {f.id: _plate(f, rules) for f in frags}
    groups = _Groups((f.id for f in frags), plates)

    # Candidate continuations, best overlap first; each fragment gets at most one successor
    # and one predecessor, so two objects crossing at a boundary are never chained together.
    horizon = max(rules.gap_s, rules.still_gap_s, rules.edge_s * 2)
    candidates: list[tuple[int, float, int, int]] = []
    for i, a in enumerate(frags):
        for b in frags[i + 1 :]:
            if b.camera_id != a.camera_id or b.start - a.end > horizon:
                break  # frags is in start order: every later b starts later still
            score = _continuation(a, b, rules)
            if score > 0:
                # The nearest successor in time first (a chain never skips a fragment),
                # then the best overlap (two objects ending together at a boundary).
                near = round(max(b.start - a.end, 0.0) / rules.tick_s)
                candidates.append((near, -score, a.id, b.id))
    candidates.sort()
    has_next: set[int] = set()
    has_prev: set[int] = set()
    for _, _, ai, bi in candidates:
        if ai in has_next or bi in has_prev:
            continue
        if groups.union(ai, bi):
            has_next.add(ai)
            has_prev.add(bi)

    # Same plate: chain each read's fragments in time order while the gaps stay short.
    by_plate: dict[tuple[str, str], list[TrackSummary]] = {}
    for f in frags:
        p = plates[f.id]
        if p is not None:
            by_plate.setdefault((f.camera_id, p), []).append(f)
    for chain in by_plate.values():
        end = chain[0].end
        for prev, nxt in itertools.pairwise(chain):
            if nxt.start - end <= rules.plate_gap_s and _families(prev) & _families(nxt):
                groups.union(prev.id, nxt.id)
            end = max(end, nxt.end)

    # Object id = the group's earliest fragment (frags is in start order).
    first: dict[int, int] = {}
    out: dict[int, int] = {}
    for f in frags:
        root = groups.find(f.id)
        out[f.id] = first.setdefault(root, f.id)
    return out


def link_recordings(
    store: Store, recordings: Sequence[Recording], rules: LinkRules | None = None
) -> int:
    """Regroup the fragments of each camera around ``recordings`` (their span, widened by
    the longest link a rule makes, so fragments of neighbouring files link too) and store the
    object ids. Idempotent: the same stored tracks give the same objects. Returns how many
    tracks changed object."""
    rules = rules or LinkRules()
    margin = timedelta(
        seconds=max(rules.plate_gap_s, rules.gap_s, rules.still_gap_s, rules.edge_s * 2) + 1
    )
    windows: dict[str, tuple[datetime, datetime]] = {}
    for rec in recordings:
        lo, hi = windows.get(rec.camera_id, (rec.start, rec.end))
        windows[rec.camera_id] = (min(lo, rec.start), max(hi, rec.end))
    changed = 0
    for camera, (lo, hi) in sorted(windows.items()):
        fragments = store.track_summaries(camera, lo - margin, hi + margin)
        changed += store.set_objects(group_fragments(fragments, rules))
    return changed
