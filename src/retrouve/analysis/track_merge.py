"""Which tracks of one work unit are one object: a pure rule over track summaries.

The tracker can keep two tracks on one object: a car/truck pair whose boxes the frame-level
fold (:mod:`retrouve.vision.suppression`) did not join on every frame, so each frame's
detection goes to one or the other; or a fragment re-born after an occlusion, a detector miss
longer than the tracker waits, or a still stretch (the motion gate skipped the frames, the
tracker lost the parked car, the next refresh detection started a new track at the same
place). :func:`merge_groups` says which tracks to join; the builder then unions their evidence.

Two rules, both only between tracks of one kind (:data:`~retrouve.vision.suppression.
KIND_OF_CLASS`: a person beside a car, a bag on a person stay apart), never between the two
halves of a split the builder made on purpose (another object took this one's place):

* **concurrent** — the shorter track lives mostly (``life_share``) within the longer one's
  span, and at its observations the longer track's box (interpolated between its
  observations at most ``max_interp_s`` apart) is the same object (IoU ≥ ``iou``, or the
  smaller box inside the larger, ``containment``, areas within ``max_area_ratio``) for at
  least ``agree_share`` of them;
* **continuation** — the later track starts within ``max_gap_s`` after the earlier one was last
  known present (its last detection, or the still frames after it), where the earlier one's
  motion puts it (constant velocity from its last observations; centre within ``gate``
  diagonals of its box, sides within ``max_side_ratio``), looking alike (appearance cosine ≥
  ``min_similarity`` when both have a vector). After still frames the box must not have
  moved (IoU ≥ ``still_iou``) and the pixels under it must not have changed wholesale
  (``first_changed`` < ``still_change``): that is a *replaced* object, not a continuation.

Times are recording seconds, boxes original-frame pixels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from retrouve.domain import Box, Observation


@dataclass(frozen=True)
class TrackSummary:
    """What the merge rule knows of one track.

    ``observations`` are in time order; ``present_until`` is the recording time up to which
    the object was known to be still there (still frames after its last detection; ≤ the
    last observation's time when none); ``appearance`` an L2-normalised vector or ``None``;
    ``first_changed`` the share 0..1 of its first box's pixels that changed since the previous
    sampled frame.
    """

    local_id: int
    kind: str
    observations: tuple[Observation, ...]
    present_until: float = -1.0
    appearance: npt.NDArray[np.float32] | None = None
    first_changed: float = 0.0

    def __post_init__(self) -> None:
        if not self.observations:
            raise ValueError(f"TrackSummary {self.local_id}: no observations")

    @property
    def t_first(self) -> float:
        return self.observations[0].t

    @property
    def t_last(self) -> float:
        return self.observations[-1].t

    @property
    def known_until(self) -> float:
        return max(self.t_last, self.present_until)


@dataclass(frozen=True)
class MergeRule:
    """Thresholds of :func:`merge_groups` (IoU and shares 0..1, seconds, box diagonals)."""

    iou: float = 0.4
    containment: float = 0.7
    max_area_ratio: float = 3.0
    life_share: float = 0.6
    agree_share: float = 0.7
    max_interp_s: float = 1.0
    max_gap_s: float = 3.0
    gate: float = 0.5
    max_side_ratio: float = 1.5
    min_similarity: float = 0.8
    still_iou: float = 0.7
    still_change: float = 0.5


def _same_object(a: Box, b: Box, rule: MergeRule) -> bool:
    inter_w = min(a.x1, b.x1) - max(a.x0, b.x0)
    inter_h = min(a.y1, b.y1) - max(a.y0, b.y0)
    inter = max(0.0, inter_w) * max(0.0, inter_h)
    small, large = sorted((a.area, b.area))
    if small <= 0:
        return False
    if a.iou(b) >= rule.iou:
        return True
    return inter / small >= rule.containment and large <= rule.max_area_ratio * small


def _box_at(obs: Sequence[Observation], t: float, max_interp_s: float) -> Box | None:
    """The track's box at ``t``, interpolated between observations ≤ ``max_interp_s`` apart."""
    times = [o.t for o in obs]
    j = int(np.searchsorted(times, t))
    if j < len(obs) and obs[j].t == t:
        return obs[j].box
    if j == 0 or j == len(obs):
        return None
    before, after = obs[j - 1], obs[j]
    if after.t - before.t > max_interp_s:
        return None
    w = (t - before.t) / (after.t - before.t)
    a, b = before.box, after.box
    return Box(a.x0 + w * (b.x0 - a.x0), a.y0 + w * (b.y0 - a.y0),
               a.x1 + w * (b.x1 - a.x1), a.y1 + w * (b.y1 - a.y1))


def concurrent(a: TrackSummary, b: TrackSummary, rule: MergeRule) -> bool:
    """Rule 1 (module docstring): the shorter track rides on the longer one."""
    short, long_ = sorted((a, b), key=lambda s: (len(s.observations), -s.local_id))
    inside = [o for o in short.observations if long_.t_first <= o.t <= long_.t_last]
    if len(inside) < rule.life_share * len(short.observations) or not inside:
        return False
    compared = agree = 0
    for o in inside:
        other = _box_at(long_.observations, o.t, rule.max_interp_s)
        if other is None:
            continue
        compared += 1
        agree += _same_object(o.box, other, rule)
    return compared > 0 and agree >= rule.agree_share * compared


def _velocity(obs: Sequence[Observation]) -> tuple[float, float]:
    """Centre velocity (px/s) over the last two observations (zero with one)."""
    if len(obs) < 2 or obs[-1].t <= obs[-2].t:
        return 0.0, 0.0
    (ax, ay), (bx, by) = obs[-2].box.center, obs[-1].box.center
    dt = obs[-1].t - obs[-2].t
    return (bx - ax) / dt, (by - ay) / dt


def _similar(a: TrackSummary, b: TrackSummary, rule: MergeRule) -> bool:
    if a.appearance is None or b.appearance is None:
        return True
    return float(a.appearance @ b.appearance) >= rule.min_similarity


def continuation(earlier: TrackSummary, later: TrackSummary, rule: MergeRule) -> bool:
    """Rule 2 (module docstring): ``later`` picks up ``earlier`` after a short gap."""
    gap = later.t_first - earlier.known_until
    if later.t_first <= earlier.t_last or gap > rule.max_gap_s:
        return False
    last, first = earlier.observations[-1].box, later.observations[0].box
    for mine, theirs in ((first.width, last.width), (first.height, last.height)):
        if not (theirs / rule.max_side_ratio <= mine <= theirs * rule.max_side_ratio):
            return False
    if not _similar(earlier, later, rule):
        return False
    if earlier.present_until > earlier.t_last:
        # Still frames in between: the object was parked; a continuation sits in its box.
        return last.iou(first) >= rule.still_iou and later.first_changed < rule.still_change
    vx, vy = _velocity(earlier.observations)
    dt = later.t_first - earlier.t_last
    cx, cy = last.center
    px, py = cx + vx * dt, cy + vy * dt
    fx, fy = first.center
    return bool(np.hypot(fx - px, fy - py) <= rule.gate * np.hypot(last.width, last.height))


def merge_groups(summaries: Sequence[TrackSummary], rule: MergeRule | None = None,
                 apart: Iterable[tuple[int, int]] = ()) -> list[tuple[int, ...]]:
    """Partition the tracks' ``local_id``s into objects.

    ``apart`` lists pairs of ids that must not end up in one group (the two sides of a
    split for a replaced object): a pair that would join them is skipped. Groups are sorted
    tuples, in the order of their smallest id; every id appears once.
    """
    rule = rule or MergeRule()
    ids = [s.local_id for s in summaries]
    parent = {i: i for i in ids}
    forbidden = {frozenset(p) for p in apart}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def members(r: int) -> set[int]:
        return {i for i in ids if root(i) == r}

    ordered = sorted(summaries, key=lambda s: (s.t_first, s.local_id))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.t_first > a.known_until + rule.max_gap_s:
                break  # later starts only come after: neither rule can hold any more
            if a.kind != b.kind:
                continue
            ra, rb = root(a.local_id), root(b.local_id)
            if ra == rb:
                continue
            if not (concurrent(a, b, rule) or continuation(a, b, rule)):
                continue
            if any(frozenset((x, y)) in forbidden for x in members(ra) for y in members(rb)):
                continue
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    return sorted((tuple(sorted(g)) for g in groups.values()), key=lambda g: g[0])
