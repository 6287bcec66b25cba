"""Typed records the store takes and returns (frozen dataclasses; no row dicts or tuples).

Datetimes are timezone-aware UTC; ``t_*`` and ``best_t`` are recording seconds (the domain's
recording time base); boxes are original-frame pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from retrouve.domain import (
    Box,
    PlateRead,
    Recording,
    RecordingStatus,
    Role,
    RunStatus,
    ScopeWindow,
)


# ------------------------------------------------------------------ recordings
@dataclass(frozen=True)
class RecordingEntry:
    """A recording with its analysis status and the error of its failed units (if any)."""

    recording: Recording
    status: RecordingStatus
    error: str | None
    #: Where the decodable content ends when it ends before ``duration_s`` (None otherwise).
    analysed_until_s: float | None = None


@dataclass(frozen=True)
class AnalysedSpan:
    """How many recordings are in a search's scope, and how many of them are fully analysed."""

    recordings: int
    analysed: int


@dataclass(frozen=True)
class RecordingAnchor:
    """Where and when a recording starts: the camera and UTC start its tracks inherit."""

    camera_id: str
    start: datetime


# ------------------------------------------------------------------------ work
@dataclass(frozen=True)
class AnalysisRun:
    """One analysis run as recorded: the settings and models it ran with (JSON text, keys
    sorted), the software version, and its outcome."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    settings_json: str
    models_json: str
    software_version: str


@dataclass(frozen=True)
class UnitFailure:
    """A failed work unit and the error it failed with."""

    unit_id: str
    error: str


@dataclass(frozen=True)
class UnitRow:
    """A stored work unit: ``[t0, t1)`` in recording seconds (``t1`` may be ``inf``), its
    status, error and the run that last processed it."""

    id: str
    recording_id: str
    t0: float
    t1: float
    status: str
    error: str | None
    run_id: int | None
    #: Where decoding stopped (recording seconds); None when unknown (stored before 0009).
    decoded_until: float | None = None


@dataclass(frozen=True)
class UnitProgress:
    """Work units of one recording by status."""

    done: int = 0
    failed: int = 0
    total: int = 0


# ---------------------------------------------------------------------- tracks
@dataclass(frozen=True)
class AttributeFilter:
    """Require attribute ``name`` to have ``value`` with at least ``min_confidence``."""

    name: str
    value: str
    min_confidence: float = 0.0
    #: Also accept tracks of this object type without a matching value (factor 1.0): tracks
    #: stored before the attribute existed still match ``vehicle_type = car`` as cars.
    or_object: str | None = None


@dataclass(frozen=True)
class TrackFilter:
    """Store-level search filter. Times are aware; a track matches when its span overlaps."""

    cameras: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    time_from: datetime | None = None
    time_to: datetime | None = None
    attributes: tuple[AttributeFilter, ...] = ()
    #: Only tracks with a plate read whose confusion-folded text, or one of its folded
    #: runner-up reads, matches one of these SQL LIKE patterns.
    plate_likes: tuple[str, ...] = ()
    #: Only tracks with a plate read.
    with_plate: bool = False
    #: Only these track ids (``None``: no restriction).
    ids: tuple[int, ...] | None = None
    #: A case's scope: only tracks overlapping one of these (camera, UTC window)s, OR-ed;
    #: ``None`` no restriction, ``()`` nothing at all.
    scope: tuple[ScopeWindow, ...] | None = None
    #: Seconds no track of the searched cameras lasts longer than (the store's
    #: ``track_duration_bounds``, filled in by the store itself when the filter has a time
    #: window, see ``store.tracks.with_longest``); None: unknown, no lower bound on the start.
    longest_s: float | None = None


@dataclass(frozen=True)
class TrackRow:
    """A stored track as search reads it. ``score`` = object confidence × matched attribute
    confidences (the filter's attributes only)."""

    id: int
    camera_id: str
    recording_id: str
    object: str
    object_conf: float
    start: datetime
    end: datetime
    best_t: float
    box: Box
    thumbnail: str | None
    attributes: dict[str, tuple[str, float]]
    score: float
    box_time: datetime
    plate: PlateRead | None = None
    #: The object this track is a fragment of (``analysis/objects.py``); its own id until
    #: the fragments of its recording are linked.
    object_id: int | None = None
    #: Grouped search only (``TracksPart.with_objects``): every fragment of the object (start
    #: order), the seconds they cover and the union of their plate reads (best confidence
    #: first); ``start``/``end`` are then the object's span.
    track_ids: tuple[int, ...] = ()
    total_duration_s: float | None = None
    plates: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrackSummary:
    """What linking fragments into objects needs of one stored track.

    Times are wall-clock POSIX seconds (UTC): ``start``/``end`` the padded span,
    ``first_t``/``last_t`` the first and last analysed observations, whose boxes are
    ``first_box``/``last_box`` (original-frame pixels). ``seg_start``/``seg_end`` bound the
    slice of footage the track's work unit analysed (its unit clipped to its recording), so a
    track touching them may continue in the neighbouring slice. ``kinds`` holds the object
    and its stored vehicle-type values; ``plate`` the consensus read and its confidence.
    """

    id: int
    camera_id: str
    recording_id: str
    kinds: frozenset[str]
    start: float
    end: float
    first_t: float
    first_box: Box
    last_t: float
    last_box: Box
    seg_start: float
    seg_end: float
    plate: str | None = None
    plate_confidence: float = 0.0


@dataclass(frozen=True)
class TrackSpan:
    """Where and when a ranked track was seen (UTC), for timelines; ``score`` as ranked."""

    id: int
    camera_id: str
    object: str
    start: datetime
    end: datetime
    score: float


@dataclass(frozen=True)
class MatchCount:
    """What a capped count of a filter's matches read (``TracksPart.count_objects_upto``):
    the distinct ``objects`` among the first ``tracks`` matching tracks, and whether the
    read stopped at its cap (``capped``: there may be more matches; else ``tracks`` is
    every match)."""

    objects: int
    tracks: int
    capped: bool
    #: The attribute the count was driven from (``join_order.rarest``) when ``drive_read``:
    #: the ranking of the same search reuses it instead of probing the values again (two
    #: probes cost ~16 ms of a search at 1 M tracks; the choice changes the plan only).
    drive: int | None = None
    drive_read: bool = False


@dataclass(frozen=True)
class TrackDetail:
    """One stored track in full (sequence view, API). ``start``/``end`` are aware UTC; ``t_*``
    recording seconds; ``observations`` are ``(t, x0, y0, x1, y1, confidence)`` in
    original-frame pixels; ``attributes`` the best value of each."""

    id: int
    recording_id: str
    camera_id: str
    object: str
    object_confidence: float
    start: datetime
    end: datetime
    t_start: float
    t_end: float
    best_t: float
    box: Box
    thumbnail: str | None
    observations: tuple[tuple[float, float, float, float, float, float], ...]
    attributes: dict[str, tuple[str, float]]
    plate: PlateRead | None


@dataclass(frozen=True)
class TrackTimes:
    """The recording and recording-second times of a track: the light lookup that every
    range request of the player makes."""

    recording_id: str
    t_start: float
    t_end: float
    best_t: float


# -------------------------------------------------------------------- accounts
@dataclass(frozen=True)
class UserRecord:
    """A ``users`` row. ``password_hash`` is the argon2 hash; ``retrouve.legal.accounts``
    turns it into the hash-free ``User`` the rest of the application sees."""

    id: int
    name: str
    password_hash: str
    role: Role
    disabled: bool
    created_at: datetime
    password_changed_at: datetime
    #: IANA zone overriding the site's operator zone for this user (None: the site's).
    time_zone: str | None = None
