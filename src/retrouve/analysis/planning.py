"""Plan work units: pure functions of the recordings and the slice length."""

from __future__ import annotations

import math

from retrouve.domain import Recording, WorkUnit


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
