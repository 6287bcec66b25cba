"""Merging tracks of one object within a work unit: the pure rule over track summaries."""

from __future__ import annotations

import numpy as np
import pytest

from retrouve.analysis.track_merge import MergeRule, TrackSummary, merge_groups
from retrouve.domain import Box, Observation

Path = list[tuple[float, tuple[float, float, float, float]]]  # (t, box)


def path(t0: float, t1: float, x0: float, vx: float = 40.0, w: float = 60.0, h: float = 40.0,
         y0: float = 100.0, dt: float = 0.25) -> Path:
    """A box moving right at ``vx`` px/s, sampled every ``dt`` s over ``[t0, t1]``."""
    out = []
    for k in range(round((t1 - t0) / dt) + 1):
        t = t0 + k * dt
        x = x0 + vx * (t - t0)
        out.append((round(t, 4), (x, y0, x + w, y0 + h)))
    return out


def summary(local_id: int, points: Path, kind: str = "four-wheeler",
            present_until: float = -1.0, look: tuple[float, ...] | None = None,
            first_changed: float = 0.0) -> TrackSummary:
    vec = None
    if look is not None:
        v = np.array(look, np.float32)
        vec = (v / np.linalg.norm(v)).astype(np.float32)
    obs = tuple(Observation(t, Box(*b), 0.6) for t, b in points)
    return TrackSummary(local_id, kind, obs, present_until, vec, first_changed)


def every_other(points: Path, start: int) -> Path:
    return points[start::2]


CAR = path(0.0, 4.0, 100.0)
STILL = path(0.0, 1.0, 100.0, vx=0.0)

CASES: list[tuple[str, list[TrackSummary], list[tuple[int, ...]]]] = [
    ("one track alone", [summary(1, CAR)], [(1,)]),
    ("car and truck tracks share the frames of one vehicle (interleaved)",
     [summary(1, every_other(CAR, 0)), summary(2, every_other(CAR, 1))], [(1, 2)]),
    ("a short duplicate riding on a long track",
     [summary(1, CAR), summary(2, [(t, (b[0] + 4, b[1] + 2, b[2] + 4, b[3] + 2))
                                   for t, b in CAR[4:10]])], [(1, 2)]),
    ("a bigger box around the same vehicle (containment)",
     [summary(1, CAR), summary(2, [(t, (b[0] - 10, b[1] - 20, b[2] + 10, b[3] + 5))
                                   for t, b in CAR[2:12]])], [(1, 2)]),
    ("two cars side by side, same motion", [summary(1, CAR),
                                            summary(2, path(0.0, 4.0, 100.0, y0=150.0))],
     [(1,), (2,)]),
    ("a car overtaking another: overlap for a moment only",
     [summary(1, CAR), summary(2, path(0.0, 4.0, 20.0, vx=80.0))], [(1,), (2,)]),
    ("a person beside a car is another object",
     [summary(1, CAR), summary(2, CAR, kind="person")], [(1,), (2,)]),
    ("a fragment re-born after a short gap where the motion puts it",
     [summary(1, path(0.0, 2.0, 100.0)), summary(2, path(3.0, 5.0, 220.0))], [(1, 2)]),
    ("re-born too late", [summary(1, path(0.0, 2.0, 100.0)), summary(2, path(6.0, 8.0, 260.0))],
     [(1,), (2,)]),
    ("re-born elsewhere", [summary(1, path(0.0, 2.0, 100.0)),
                           summary(2, path(3.0, 5.0, 400.0))], [(1,), (2,)]),
    ("re-born with another size", [summary(1, path(0.0, 2.0, 100.0)),
                                   summary(2, path(3.0, 5.0, 220.0, w=120.0, h=90.0))],
     [(1,), (2,)]),
    ("re-born, but it looks different",
     [summary(1, path(0.0, 2.0, 100.0), look=(1.0, 0.0, 0.0)),
      summary(2, path(3.0, 5.0, 220.0), look=(0.0, 1.0, 0.0))], [(1,), (2,)]),
    ("re-born, looking alike", [summary(1, path(0.0, 2.0, 100.0), look=(1.0, 0.1, 0.0)),
                                summary(2, path(3.0, 5.0, 220.0), look=(1.0, 0.0, 0.1))],
     [(1, 2)]),
    ("parked car re-detected after still frames",
     [summary(1, STILL, present_until=4.75), summary(2, path(5.0, 6.0, 100.0, vx=0.0))],
     [(1, 2)]),
    ("after still frames another vehicle in its place (pixels changed)",
     [summary(1, STILL, present_until=4.75),
      summary(2, path(5.0, 6.0, 100.0, vx=0.0), first_changed=0.8)], [(1,), (2,)]),
    ("after still frames a box that moved is another vehicle",
     [summary(1, STILL, present_until=4.75), summary(2, path(5.0, 6.0, 130.0, vx=0.0))],
     [(1,), (2,)]),
    ("three fragments chain into one", [summary(1, path(0.0, 2.0, 100.0)),
                                        summary(2, path(3.0, 5.0, 220.0)),
                                        summary(3, path(6.0, 8.0, 340.0))], [(1, 2, 3)]),
]


@pytest.mark.parametrize(("name", "tracks", "groups"), CASES, ids=[c[0] for c in CASES])
def test_merge_cases(name: str, tracks: list[TrackSummary],
                     groups: list[tuple[int, ...]]) -> None:
    assert merge_groups(tracks) == groups
    # Order of the input does not matter.
    assert merge_groups(list(reversed(tracks))) == groups


def test_split_halves_are_never_merged_back() -> None:
    a, b = summary(1, path(0.0, 2.0, 100.0)), summary(2, path(3.0, 5.0, 220.0))
    assert merge_groups([a, b]) == [(1, 2)]
    assert merge_groups([a, b], apart=[(1, 2)]) == [(1,), (2,)]
    # Nor through a third track that would join both.
    c = summary(3, path(0.0, 5.0, 100.0))
    groups = merge_groups([a, b, c], apart=[(1, 2)])
    assert sorted(len(g) for g in groups) == [1, 2]


def test_rule_thresholds_are_used() -> None:
    a, b = summary(1, path(0.0, 2.0, 100.0)), summary(2, path(3.0, 5.0, 220.0))
    assert merge_groups([a, b], MergeRule(max_gap_s=0.5)) == [(1,), (2,)]


def test_summary_needs_observations() -> None:
    with pytest.raises(ValueError, match="TrackSummary 7: no observations"):
        TrackSummary(7, "person", ())
