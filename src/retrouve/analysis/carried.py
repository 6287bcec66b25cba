"""Associate carried objects (bag, suitcase, umbrella) with the person who carries them.

A bag detected next to a person on one frame proves nothing (people cross, bags stand on the
pavement). A carrier is the person whose box holds the object **and** moves with it, over the
frames both tracks share: for each shared frame, *near* = the object's centre lies within the
person's box (widened a little: a suitcase is pulled beside the legs) and the object is smaller
than the person; for each step between shared frames, *together* = the object's displacement
matches the person's within a fraction of the person's height. The association score is the
longest stretch of such frames, up to :data:`CARRY_S` seconds. The best person above
:data:`MIN_SCORE` gets the attribute ``accessory = <object class>`` with confidence
``score × object confidence``.

An object still seen, static, well after its carrier moved away is **left behind**: it keeps
its own track (searchable as ``backpack``, ``suitcase``…) and gets ``left_behind = yes``.

Pure functions of the unit's finished tracks; times are recording seconds, boxes original
pixels. Observations of tracks of one unit share the unit's sampled frame times.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrouve.domain import CARRIED_CLASSES, Attribute, Box, Track

#: Minimum association score (0..1) for a person to be named the carrier.
MIN_SCORE = 0.5
#: Per-step displacement difference, in person heights, still counted as moving together.
TOGETHER_TOLERANCE = 0.15
#: Carried-object classes the detector mistakes for one another (stored as runner-ups).
CONFUSED_BAGS: dict[str, tuple[str, ...]] = {"handbag": ("suitcase",), "suitcase": ("handbag",)}
#: Confidence factor of a runner-up bag kind.
SIBLING_FACTOR = 0.5
#: Seconds of walking together that fully establish carrying.
CARRY_S = 2.0
#: A person moving less than this many of their heights per step is standing still.
MOVING_MIN = 0.05
#: Left behind: the object stays within this many of its own heights…
STATIC_TOLERANCE = 0.5
#: … for at least this many seconds after the last frame it was near its carrier.
LEFT_AFTER_S = 3.0


@dataclass(frozen=True)
class Association:
    """``carrier`` (a person track's local id) carries ``item`` with ``score`` 0..1."""

    item: int
    carrier: int
    score: float
    #: Last recording second at which the item was near its carrier.
    last_together_t: float


def _near(item: Box, person: Box) -> bool:
    cx, cy = item.center
    mx, my = 0.3 * person.width, 0.1 * person.height
    inside = person.x0 - mx <= cx <= person.x1 + mx and person.y0 - my <= cy <= person.y1 + my
    return inside and item.height <= person.height * 1.1


def association_score(item: Track, person: Track) -> tuple[float, float]:
    """Score 0..1 of ``person`` carrying ``item``, and the last time they were together.

    The evidence is the longest stretch of consecutive shared frames over which the item stays
    near the person and moves with them; :data:`CARRY_S` seconds of it (or the whole shared
    span, if shorter) is full evidence. Steps where the person stands still count half:
    standing beside a bag is weaker evidence than walking with it.
    """
    pboxes = {o.t: o.box for o in person.observations}
    shared = [(o.t, o.box, pboxes[o.t]) for o in item.observations if o.t in pboxes]
    if not shared:
        return 0.0, -1.0
    near = [_near(ib, pb) for _, ib, pb in shared]
    if len(shared) == 1:  # a still image: proximity is all there is, so trust it less
        return (0.6 if near[0] else 0.0), (shared[0][0] if near[0] else -1.0)
    best = run = 0.0
    best_end = run_end = -1.0
    for k in range(len(shared) - 1):
        (t0, ib0, pb0), (t1, ib1, pb1) = shared[k], shared[k + 1]
        scale = max(1.0, (pb0.height + pb1.height) / 2)
        di = np.subtract(ib1.center, ib0.center)
        dp = np.subtract(pb1.center, pb0.center)
        together = float(np.hypot(*(di - dp))) / scale <= TOGETHER_TOLERANCE
        if near[k] and near[k + 1] and together:
            moving = float(np.hypot(*dp)) / scale >= MOVING_MIN
            run += (t1 - t0) * (1.0 if moving else 0.5)
            run_end = t1
            if run > best:
                best, best_end = run, run_end
        else:
            run = 0.0
    span = shared[-1][0] - shared[0][0]
    return min(1.0, best / max(0.5, min(CARRY_S, span))), best_end


def associate(tracks: Sequence[Track]) -> list[Association]:
    """The best carrier of every carried-object track, where one is credible."""
    people = [t for t in tracks if t.object == "person"]
    out: list[Association] = []
    for item in tracks:
        if item.object not in CARRIED_CLASSES:
            continue
        best: Association | None = None
        for person in people:
            if person.t_end < item.t_start or person.t_start > item.t_end:
                continue
            score, last = association_score(item, person)
            if score >= MIN_SCORE and (best is None or score > best.score):
                best = Association(item.local_id, person.local_id, score, last)
        if best is not None:
            out.append(best)
    return out


def left_behind(item: Track, last_together_t: float) -> bool:
    """Whether ``item`` stayed static for :data:`LEFT_AFTER_S` after leaving its carrier."""
    after = [o for o in item.observations if o.t > last_together_t]
    if len(after) < 2 or after[-1].t - last_together_t < LEFT_AFTER_S:
        return False
    ref = after[0].box
    tol = STATIC_TOLERANCE * max(1.0, ref.height)
    return all(float(np.hypot(*np.subtract(o.box.center, ref.center))) <= tol for o in after)


def apply(tracks: Sequence[Track]) -> list[Track]:
    """``tracks`` with ``accessory`` on carriers and ``left_behind`` on abandoned objects."""
    by_id = {t.local_id: t for t in tracks}
    extra: dict[int, list[Attribute]] = {}
    for a in associate(tracks):
        item = by_id[a.item]
        conf = round(a.score * item.object_confidence, 4)
        extra.setdefault(a.carrier, []).append(Attribute("accessory", item.object, conf))
        # The detector confuses bag kinds (a holdall read as a suitcase): the sibling kind is
        # stored as a runner-up value, ranked lower, so "handbag" still finds it.
        for sibling in CONFUSED_BAGS.get(item.object, ()):
            extra[a.carrier].append(
                Attribute("accessory", sibling, round(conf * SIBLING_FACTOR, 4)))
        if left_behind(item, a.last_together_t):
            extra.setdefault(a.item, []).append(
                Attribute("left_behind", "yes", round(item.object_confidence, 4)))
    out = []
    for t in tracks:
        added = extra.get(t.local_id)
        if not added:
            out.append(t)
            continue
        # One value per (name, value): a person with two bags of one kind keeps the best.
        merged: dict[tuple[str, str], Attribute] = {(a.name, a.value): a for a in t.attributes}
        for attr in added:
            key = (attr.name, attr.value)
            if key not in merged or merged[key].confidence < attr.confidence:
                merged[key] = attr
        out.append(dataclasses.replace(t, attributes=tuple(merged.values())))
    return out
