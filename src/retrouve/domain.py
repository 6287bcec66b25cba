"""Typed values that cross stage boundaries.

Conventions used everywhere:

* **Time.** Wall-clock datetimes are timezone-aware and normalised to UTC when stored. Inside a
  recording, time is ``float`` seconds from the recording's first frame (the *recording time
  base*); ``Recording.start + timedelta(seconds=t)`` gives the wall clock.
* **Pixels.** Boxes are ``x0, y0, x1, y1`` in pixels of the *original* frame (not of a resized
  or tiled detector input), origin top-left, ``x1 > x0``, ``y1 > y0``.
* **Images.** ``numpy.uint8`` arrays, shape ``(H, W, 3)``, channel order RGB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

#: Object classes the analysis keeps, in a fixed order: ``Detections.class_id`` indexes this.
OBJECT_CLASSES: Final[tuple[str, ...]] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "bus",
    "truck",
    "backpack",
    "umbrella",
    "handbag",
    "suitcase",
)
#: Track object types derived after detection (not detector classes): a ``van`` is a car or
#: truck track whose shape and size say light commercial vehicle (see ``analysis.vehicle_type``).
DERIVED_CLASSES: Final[tuple[str, ...]] = ("van",)
#: Motor vehicles (``vehicle`` in a query means any of these).
VEHICLE_CLASSES: Final[frozenset[str]] = frozenset({"car", "van", "motorcycle", "bus", "truck"})
#: Four-wheeled types told apart by probability (``vehicle_type`` attribute): a car- or
#: truck-voted track may become any of them.
CAR_LIKE_CLASSES: Final[frozenset[str]] = frozenset({"car", "van", "truck"})
#: Two-wheelers; a scooter is a ``motorcycle`` for the detector.
TWO_WHEELERS: Final[frozenset[str]] = frozenset({"bicycle", "motorcycle"})
CARRIED_CLASSES: Final[frozenset[str]] = frozenset({"backpack", "umbrella", "handbag", "suitcase"})
#: Query object words: the track types plus ``vehicle`` (any motor vehicle).
QUERY_OBJECTS: Final[frozenset[str]] = frozenset(
    {"person", "bicycle", "motorcycle", "car", "van", "bus", "truck", "vehicle", *CARRIED_CLASSES}
)
#: Values of the ``accessory`` person attribute (the carried object classes).
ACCESSORIES: Final[tuple[str, ...]] = ("backpack", "handbag", "suitcase", "umbrella")

#: The eleven basic colour terms (Berlin & Kay); silver is reported as grey.
COLOURS: Final[tuple[str, ...]] = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "brown",
    "purple",
    "pink",
)
ACHROMATIC: Final[frozenset[str]] = frozenset({"black", "white", "grey"})


# Statuses and roles as stored (the database has a CHECK constraint on each set, migration
# 0004). They are ``StrEnum``s, so JSON, templates and comparisons with plain strings keep
# seeing the same words.
class RecordingStatus(StrEnum):
    """Analysis state of a recording: pending → analysing → done | failed; partial when some
    of its work units failed and others are done, when its decodable content ends before its
    announced duration (``analysed_until_s``), or when only part of it was analysed (a case
    scope); changed when the file no longer matches its ingest stamp (never analysed so)."""

    PENDING = "pending"
    ANALYSING = "analysing"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"
    CHANGED = "changed"


class UnitStatus(StrEnum):
    """State of one work unit: pending until analysed, then done or failed (retried later)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class RunStatus(StrEnum):
    """Outcome of one analysis run: running until it ends, then done, done-with-errors (some
    units failed) or interrupted (Ctrl-C; the finished units are kept)."""

    RUNNING = "running"
    DONE = "done"
    DONE_WITH_ERRORS = "done-with-errors"
    INTERRUPTED = "interrupted"


class Role(StrEnum):
    """Operator roles of the web application, most powerful first (iteration order)."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    #: Reads the journal and coverage reports, never footage (migration 0005).
    AUDITOR = "auditor"


class CaseStatus(StrEnum):
    """A case's life: open (work allowed) → closed (no more work) → archived."""

    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class LegalBasis(StrEnum):
    """The article of the code of criminal procedure (CPP) a requisition is made under."""

    #: Flagrant-offence inquiry (enquête de flagrance), requisition by an OPJ.
    ART_60_1 = "60-1"
    #: Preliminary inquiry: an OPJ's requisition with the prosecutor's authorisation.
    ART_77_1_1 = "77-1-1"
    #: Judicial investigation: the investigating judge's (or a delegated OPJ's) requisition.
    ART_99_3 = "99-3"


@dataclass(frozen=True)
class ScopeWindow:
    """One (camera, wall-clock window) of a case's scope: ``[start, end]``, aware UTC.

    A track or a piece of footage is inside the window when its span overlaps it on that
    camera (the same overlap rule as :class:`Query` times).
    """

    camera: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        ensure_aware(self.start, f"scope window of {self.camera}")
        ensure_aware(self.end, f"scope window of {self.camera}")
        if self.end <= self.start:
            raise ValueError(f"scope window of {self.camera}: end {self.end.isoformat()} "
                             f"is not after start {self.start.isoformat()}")

    def covers(self, other: ScopeWindow) -> bool:
        """Whether this window contains ``other`` entirely (same camera)."""
        return (self.camera == other.camera and self.start <= other.start
                and other.end <= self.end)

    def text(self) -> str:
        """``CAMERA:FROM/TO`` in ISO-8601 UTC, as the CLI's ``--scope`` takes it."""
        return f"{self.camera}:{self.start.isoformat()}/{self.end.isoformat()}"


def ensure_aware(when: datetime, what: str) -> datetime:
    """Return ``when`` if it carries a time zone, else raise ``ValueError`` naming ``what``."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what}: time {when.isoformat()} has no time zone offset")
    return when


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in original-frame pixels."""

    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        if not (self.x1 > self.x0 and self.y1 > self.y0):
            raise ValueError(f"box must have x1 > x0 and y1 > y0, got {self.as_list()}")

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    @property
    def area(self) -> float:
        return self.width * self.height

    def as_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]

    def touches_edge(self, width: float, height: float) -> bool:
        """Whether the box reaches within 1 px of the border of a ``width`` x ``height``
        frame: the object is probably cut there, its box not its whole size."""
        return self.x0 <= 1 or self.y0 <= 1 or self.x1 >= width - 1 or self.y1 >= height - 1

    def iou(self, other: Box) -> float:
        """Intersection over union, 0..1."""
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class Camera:
    """A camera of the video-protection centre. ``timezone`` is an IANA name."""

    id: str
    name: str
    timezone: str = "Europe/Paris"
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None


@dataclass(frozen=True)
class Recording:
    """One recorded file of one camera, probed.

    ``start`` is the wall-clock time of the first frame (aware). ``duration_s`` is in seconds;
    an image is a one-frame recording with ``duration_s == 0``.
    """

    id: str
    camera_id: str
    path: str
    sha256: str
    size_bytes: int
    start: datetime
    duration_s: float
    fps: float
    width: int
    height: int
    codec: str
    frame_count: int | None = None
    is_image: bool = False
    #: The file's modification time at ingest (ns since the epoch) and the SHA-256 of its
    #: sampled blocks (``digest.sample_sha256``): the cheap re-check before each analysis.
    #: None for recordings ingested before they were recorded (a full SHA-256 then).
    mtime_ns: int | None = None
    sample_sha256: str | None = None

    def __post_init__(self) -> None:
        ensure_aware(self.start, f"recording {self.id}")

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)

    def wall_clock(self, t: float) -> datetime:
        """Wall clock of recording time ``t`` (seconds from the first frame)."""
        return self.start + timedelta(seconds=t)


@dataclass(frozen=True)
class Frame:
    """A decoded frame: ``index`` in the stream, ``t`` seconds from recording start, RGB image."""

    index: int
    t: float
    image: npt.NDArray[np.uint8]

    def __post_init__(self) -> None:
        img = self.image
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(
                f"frame image must be uint8 (H, W, 3), got {img.dtype} {tuple(img.shape)}"
            )

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


def _check_array(
    name: str, arr: npt.NDArray[np.generic], dtype: type, shape: tuple[int, ...]
) -> None:
    if arr.dtype != np.dtype(dtype):
        raise ValueError(f"Detections.{name}: expected dtype {np.dtype(dtype)}, got {arr.dtype}")
    bad = any(s != -1 and a != s for a, s in zip(arr.shape, shape, strict=False))
    if arr.ndim != len(shape) or bad:
        want = tuple("N" if s == -1 else s for s in shape)
        raise ValueError(f"Detections.{name}: expected shape {want}, got {tuple(arr.shape)}")


@dataclass(frozen=True)
class Detections:
    """Columnar detections on one frame.

    * ``xyxy``: float32 ``(N, 4)``, original-frame pixels.
    * ``confidence``: float32 ``(N,)``, 0..1.
    * ``class_id``: int32 ``(N,)``, index into :data:`OBJECT_CLASSES`.
    """

    xyxy: npt.NDArray[np.float32]
    confidence: npt.NDArray[np.float32]
    class_id: npt.NDArray[np.int32]

    def __post_init__(self) -> None:
        _check_array("xyxy", self.xyxy, np.float32, (-1, 4))
        n = self.xyxy.shape[0]
        _check_array("confidence", self.confidence, np.float32, (n,))
        _check_array("class_id", self.class_id, np.int32, (n,))
        if n and (self.class_id.min() < 0 or self.class_id.max() >= len(OBJECT_CLASSES)):
            raise ValueError(
                f"Detections.class_id: expected 0..{len(OBJECT_CLASSES) - 1}, "
                f"got {int(self.class_id.min())}..{int(self.class_id.max())}"
            )

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0,), np.int32)
        )

    @classmethod
    def concat(cls, parts: list[Detections]) -> Detections:
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.xyxy for p in parts]).astype(np.float32, copy=False),
            np.concatenate([p.confidence for p in parts]).astype(np.float32, copy=False),
            np.concatenate([p.class_id for p in parts]).astype(np.int32, copy=False),
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def select(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Detections:
        """Rows picked by a boolean mask or an index array."""
        return Detections(self.xyxy[mask], self.confidence[mask], self.class_id[mask])

    def class_names(self) -> list[str]:
        return [OBJECT_CLASSES[int(c)] for c in self.class_id]


@dataclass(frozen=True)
class Attribute:
    """A named attribute of a track (``colour``, ``upper``, ``lower``…), with confidence 0..1."""

    name: str
    value: str
    confidence: float


#: OCR confusion classes of plate characters; the first of each is its representative.
#: Round glyphs (0 O D Q), vertical strokes (1 I L), and digit/letter pairs that share a
#: skeleton in plate fonts (2 Z, 4 A, 5 S, 6 G, 7 T, 8 B, U V). Disjoint, so folding is a
#: partition; weaker confusions that would chain classes (C/G, T/1, E/F, P/R) are left out.
PLATE_CONFUSION_CLASSES: Final[tuple[str, ...]] = (
    "0ODQ", "1IL", "2Z", "4A", "5S", "6G", "7T", "8B", "UV",
)
_PLATE_FOLD: Final[dict[str, str]] = {
    c: cls[0] for cls in PLATE_CONFUSION_CLASSES for c in cls
}


def fold_plate(text: str) -> str:
    """``text`` (normalised ``A-Z0-9``) with each character replaced by its class head, so
    that strings differing only by look-alike characters fold to the same text."""
    return "".join(_PLATE_FOLD.get(c, c) for c in text)


@dataclass(frozen=True)
class PlateRead:
    """A track's consensus licence-plate read.

    ``text`` is normalised (uppercase ``A-Z0-9``, no separators, country band removed);
    ``chars`` gives each character of ``text`` with its confidence 0..1; ``alternatives`` are
    other candidate strings with their scores, best first. ``best_t`` is in recording seconds
    and ``box`` (if known) in original-frame pixels on that frame.
    """

    text: str
    confidence: float
    chars: tuple[tuple[str, float], ...]
    alternatives: tuple[tuple[str, float], ...] = ()
    grammar: str | None = None
    reads: int = 1
    best_t: float = 0.0
    box: Box | None = None


@dataclass(frozen=True)
class PlateMatch:
    """How a hit's plate read fits the plate pattern searched for.

    ``read`` is the text that matched (the consensus read, or a runner-up when ``alternative``);
    ``cost`` the weighted edit cost of that match (0 exact; see
    ``retrouve.search.plate_pattern``), ``edits`` how many characters differ from the pattern
    (look-alike confusions, other substitutions, missing or extra characters; wildcards never
    count)."""

    read: str
    cost: float
    edits: int
    alternative: bool = False

    @property
    def approximate(self) -> bool:
        """True unless the consensus read fits the pattern character for character."""
        return self.edits > 0 or self.alternative


@dataclass(frozen=True)
class Observation:
    """Where a track was seen on one analysed frame (``t`` in recording seconds)."""

    t: float
    box: Box
    confidence: float


@dataclass(frozen=True)
class Track:
    """One object followed through one work unit of one recording.

    ``t_start``/``t_end``/``best_t`` are recording seconds. ``best_box`` is on the frame at
    ``best_t``; ``thumbnail_jpeg`` is a crop around it.
    """

    recording_id: str
    unit_id: str
    local_id: int
    object: str
    object_confidence: float
    t_start: float
    t_end: float
    best_t: float
    best_box: Box
    attributes: tuple[Attribute, ...]
    observations: tuple[Observation, ...]
    thumbnail_jpeg: bytes = field(repr=False, default=b"")
    #: Consensus licence-plate read (vehicle tracks only), ``None`` when nothing was legible.
    plate: PlateRead | None = None
    #: Appearance vectors by kind (``builtin-colour`` or a pack name), float32, L2-normalised.
    vectors: dict[str, npt.NDArray[np.float32]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def attribute(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None


@dataclass(frozen=True)
class WorkUnit:
    """A slice ``[t0, t1)`` (recording seconds) of one recording, analysed as one job."""

    id: str
    recording_id: str
    path: str
    t0: float
    t1: float
    fps: float
    is_image: bool = False


@dataclass(frozen=True)
class StageStats:
    """Counts and seconds spent per pipeline stage for one unit."""

    frames_decoded: int = 0
    frames_sampled: int = 0
    frames_detected: int = 0
    detector_passes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitResult:
    """What analysing one work unit produced. ``error`` is set (and ``tracks`` empty) on failure."""

    unit_id: str
    tracks: tuple[Track, ...]
    stats: StageStats
    error: str | None = None
    #: Recording seconds where decoding stopped: the unit's ``t1`` when it reached it, the
    #: end of the last decodable frame when the stream ended first (a truncated file), None
    #: when not known (failed, or an image).
    decoded_until: float | None = None
    #: On a unit that succeeded: where and how the decoder reported corrupt data (damaged
    #: packets skipped, decoding went on; stored as the done unit's error, and the
    #: recording is settled partial with it); None when the stream decoded cleanly.
    damage: str | None = None


@dataclass(frozen=True)
class Query:
    """A structured search. Every field is optional; fields combine with AND.

    ``time_from``/``time_to`` are aware datetimes bounding the sighting's wall-clock time.
    """

    cameras: tuple[str, ...] = ()
    time_from: datetime | None = None
    time_to: datetime | None = None
    object: str | None = None
    colour: str | None = None
    upper: str | None = None
    lower: str | None = None
    #: A carried object of a person: one of :data:`ACCESSORIES`.
    accessory: str | None = None
    #: Plate pattern: letters/digits, ``?`` one character, ``*`` any run; case, spaces and
    #: dashes ignored; matched tolerantly to OCR confusions.
    plate: str | None = None
    #: Vehicle make / model (needs a make-model classifier pack).
    make: str | None = None
    model: str | None = None
    #: Free text matched by a CLIP-family pack's embeddings (structured words are parsed out
    #: into the fields above by ``search.text_query`` first).
    text: str | None = None
    #: Rank tracks by appearance similarity to this track (``search --like``).
    like_track: int | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Sighting:
    """Where and when a hit was seen, without its details (timelines): aware datetimes in
    the camera's zone."""

    track_id: int
    camera: str
    object: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Hit:
    """One search result: a track matching the query, with its wall-clock span and score 0..1.

    Its JSON form is ``retrouve.search.schema.HitOut`` (CLI, API and evaluation alike)."""

    track_id: int
    camera: str
    recording: str
    start: datetime
    end: datetime
    score: float
    object: str
    attributes: dict[str, tuple[str, float]]
    box: Box
    box_time: datetime
    thumbnail: str | None
    plate: PlateRead | None = None
    #: The object this hit stands for, with all its fragments (start order; this hit's
    #: track is its best-ranked one), the seconds they cover and their plate reads.
    object_id: int | None = None
    track_ids: tuple[int, ...] = ()
    total_duration_s: float | None = None
    plates: tuple[str, ...] = ()
    #: With a plate pattern: how the shown fragment's read fits it (None without a pattern).
    plate_match: PlateMatch | None = None

    @property
    def seen_count(self) -> int:
        """How many fragments (separate sightings) the object has: 1 at least."""
        return max(1, len(self.track_ids))

