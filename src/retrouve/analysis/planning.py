"""Plan work units: pure functions of the recordings, the slice length and (for a case) its
scope windows."""

from __future__ import annotations

import math
from collections.abc import Sequence

from retrouve.domain import Recording, ScopeWindow, WorkUnit


def unit_id(recording_id: str, t0: float) -> str:
    """Deterministic id, so a resumed analysis finds the units it already finished."""
    return f"{recording_id}@{t0:09.1f}"


def plan_units(recording: Recording, slice_seconds: float) -> list[WorkUnit]:
    """Cut ``recording`` into ``[t0, t1)`` slices of ``slice_seconds`` (the last may be short).

    A slice shorter than a quarter of ``slice_seconds`` is merged into the previous one, so a
    601 s file is one unit, not 600 s + 1 s. Images are one unit.
    """
    if recording.is_image or recording.duration_s <= 0:
        return [WorkUnit(unit_id(recording.id, 0.0), recording.id, recording.path, 0.0,
                         math.inf, recording.fps, recording.is_image)]
    n = max(1, math.floor(recording.duration_s / slice_seconds))
    if recording.duration_s - n * slice_seconds >= slice_seconds / 4:
        n += 1
    units = []
    for i in range(n):
        t0 = i * slice_seconds
        # The last slice runs to +inf: container durations are estimates, never drop a tail.
        t1 = math.inf if i == n - 1 else (i + 1) * slice_seconds
        units.append(WorkUnit(unit_id(recording.id, t0), recording.id, recording.path, t0, t1,
                              recording.fps, recording.is_image))
    return units


def scope_intervals(recording: Recording, scope: Sequence[ScopeWindow]
                    ) -> list[tuple[float, float]]:
    """The parts of ``recording`` (recording seconds, ``[a, b)``, sorted, merged) that lie
    inside ``scope``'s windows on its camera. A window running past the recording's end runs
    to ``+inf`` (the container duration is an estimate; the decoder stops at the real end)."""
    spans = []
    for w in scope:
        if w.camera != recording.camera_id:
            continue
        a = max(0.0, (w.start - recording.start).total_seconds())
        b = (w.end - recording.start).total_seconds()
        if b <= a:
            continue
        if recording.is_image or recording.duration_s <= 0:
            if a == 0.0:  # the window covers the image's instant
                spans.append((0.0, math.inf))
            continue
        if a >= recording.duration_s:
            continue
        spans.append((a, math.inf if b >= recording.duration_s else b))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(a: float, b: float, done: Sequence[tuple[float, float]]
              ) -> list[tuple[float, float]]:
    """``[a, b)`` minus the (sorted or not) ``done`` intervals."""
    pieces = [(a, b)]
    for d0, d1 in done:
        nxt = []
        for p0, p1 in pieces:
            if d1 <= p0 or d0 >= p1:
                nxt.append((p0, p1))
                continue
            if p0 < d0:
                nxt.append((p0, d0))
            if d1 < p1:
                nxt.append((d1, p1))
        pieces = nxt
    return pieces


def plan_scoped_units(recording: Recording, slice_seconds: float,
                      scope: Sequence[ScopeWindow],
                      done: Sequence[tuple[float, float]] = ()) -> list[WorkUnit]:
    """The units of :func:`plan_units` cut at ``scope``'s boundaries: only footage inside a
    window of the recording's camera is planned, so nothing outside is ever decoded.

    ``done``: spans (recording seconds) already analysed (by another case's units), left out
    so no footage is analysed twice. A unit cut short gets the id ``rec@t0-t1`` (both ends
    fixed), so two cases cutting the same slice differently never share an id. An image is
    one unit, planned when a window covers its instant.
    """
    inside = scope_intervals(recording, scope)
    if recording.is_image or recording.duration_s <= 0:
        return plan_units(recording, slice_seconds) if inside and not done else []
    units = []
    for grid in plan_units(recording, slice_seconds):
        for a, b in inside:
            lo, hi = max(grid.t0, a), min(grid.t1, b)
            if hi <= lo:
                continue
            for p0, p1 in _subtract(lo, hi, done):
                if p1 - p0 < 1e-3:
                    continue
                whole = (p0, p1) == (grid.t0, grid.t1)
                uid = grid.id if whole else f"{recording.id}@{p0:09.1f}-{p1:09.1f}"
                units.append(WorkUnit(uid, recording.id, recording.path, p0, p1,
                                      recording.fps, recording.is_image))
    return units
