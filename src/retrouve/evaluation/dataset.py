"""Load the evaluation dataset (``dataset.json``) and its labelled queries (``queries.jsonl``).

The format is described in ``shared/eval/README.md``. Time bases:

* ``EvalRecording.start`` is the timezone-aware wall-clock time of the recording's first frame.
  Offsets are mandatory: a naive time in the file is an error, never "assume local time".
* Every time inside a label (``Sighting.t0``/``t1``, ``LabelledBox.t``) is ``float`` seconds
  from the start of *the* recording of the sighting's camera (the recording time base of
  ``retrouve.domain``). The format has one recording per camera; :func:`recording_starts`
  enforces that before anyone converts between the two bases.

Boxes are ``x0, y0, x1, y1`` in pixels of the original frame, as in ``retrouve.domain``.

This module only reads the two files; it never opens the media (CI may not have it).
Every malformed input raises :class:`~retrouve.errors.EvaluationError` naming the file, the
line (queries) or JSON path (dataset), and the problem.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TypeGuard

from retrouve.errors import EvaluationError

#: Name of the query file that sits beside ``dataset.json``.
QUERIES_FILENAME: Final[str] = "queries.jsonl"

# Labels are typed by hand to two decimals; a box time a hair outside its sighting is the same
# frame, not a labelling mistake.
_TIME_SLACK_S: Final[float] = 1e-6

_QUERY_KEYS: Final[frozenset[str]] = frozenset({"id", "query", "expected", "also_ok", "note"})
_SIGHTING_KEYS: Final[frozenset[str]] = frozenset({"camera", "t0", "t1", "boxes"})


@dataclass(frozen=True)
class EvalRecording:
    """One recorded file of a camera; ``start`` is the wall-clock time of its first frame."""

    id: str
    camera_id: str
    path: Path  # absolute, resolved against the folder of dataset.json
    start: datetime  # timezone-aware


@dataclass(frozen=True)
class EvalCamera:
    """A camera of the dataset and its recordings, in file order."""

    id: str
    name: str
    timezone: str  # IANA name, e.g. "Europe/London"; kept as text (not needed for scoring)
    recordings: tuple[EvalRecording, ...]


@dataclass(frozen=True)
class EvalDataset:
    """The cameras of ``dataset.json``; ``path`` is the resolved path of that file."""

    name: str
    path: Path
    cameras: tuple[EvalCamera, ...]

    def camera(self, camera_id: str) -> EvalCamera:
        """The camera with this id; :class:`EvaluationError` when there is none."""
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        raise EvaluationError(f"{self.path}: no camera '{camera_id}' in dataset '{self.name}'")


@dataclass(frozen=True)
class LabelledBox:
    """A labelled box at ``t`` seconds from the recording start, in original-frame pixels."""

    t: float
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Sighting:
    """One appearance of the target on one camera, ``t0``..``t1`` seconds from recording start.

    ``boxes`` is empty when the sighting is not boxed (uncrowded scene); otherwise sorted by
    ``t``. A sighting with ``t0 == t1`` is a still (one frame).
    """

    camera: str
    t0: float
    t1: float
    boxes: tuple[LabelledBox, ...] = ()


@dataclass(frozen=True)
class LabelledQuery:
    """One line of ``queries.jsonl``. An empty ``expected`` makes it a negative query."""

    id: str
    query: dict[str, Any]  # the raw query object, exactly as in the file
    expected: tuple[Sighting, ...]
    also_ok: tuple[Sighting, ...]
    note: str | None
    line: int  # 1-based line number in the query file, for messages

    @property
    def negative(self) -> bool:
        """True when nothing should be returned for this query."""
        return not self.expected


def default_queries_path(dataset_path: str | Path) -> Path:
    """``queries.jsonl`` in the folder of ``dataset_path``."""
    return Path(dataset_path).parent / QUERIES_FILENAME


# --------------------------------------------------------------------------- dataset.json


def load_dataset(path: str | Path) -> EvalDataset:
    """Read and validate ``dataset.json``.

    Recording paths are resolved against the file's folder but not checked for existence:
    scoring stored results needs no media.
    """
    file = Path(path).resolve()
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise EvaluationError(f"{where}: cannot read dataset file: {exc}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvaluationError(
            f"{where}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
        ) from exc

    top = _object(raw, where, "top level")
    name = _string(top, "name", where, "top level")
    cams_raw = _list(top, "cameras", where, "top level")
    if not cams_raw:
        raise EvaluationError(f"{where}: 'cameras' is empty")

    cameras: list[EvalCamera] = []
    camera_ids: set[str] = set()
    recording_ids: set[str] = set()
    for i, cam_raw in enumerate(cams_raw):
        ctx = f"cameras[{i}]"
        cam = _object(cam_raw, where, ctx)
        cam_id = _string(cam, "id", where, ctx)
        ctx = f"cameras[{i}] ('{cam_id}')"
        if cam_id in camera_ids:
            raise EvaluationError(f"{where}: {ctx}: duplicate camera id '{cam_id}'")
        camera_ids.add(cam_id)
        cam_name = _string(cam, "name", where, ctx)
        tz = _string(cam, "timezone", where, ctx)
        recs_raw = _list(cam, "recordings", where, ctx)
        if not recs_raw:
            raise EvaluationError(f"{where}: {ctx}: 'recordings' is empty")
        recordings: list[EvalRecording] = []
        for j, rec_raw in enumerate(recs_raw):
            rctx = f"{ctx}.recordings[{j}]"
            rec = _object(rec_raw, where, rctx)
            rec_id = _string(rec, "id", where, rctx)
            if rec_id in recording_ids:
                raise EvaluationError(f"{where}: {rctx}: duplicate recording id '{rec_id}'")
            recording_ids.add(rec_id)
            rel = _string(rec, "file", where, rctx)
            start = _aware_time(rec, "start", where, rctx)
            recordings.append(
                EvalRecording(
                    id=rec_id,
                    camera_id=cam_id,
                    path=(file.parent / rel).resolve(),
                    start=start,
                )
            )
        cameras.append(
            EvalCamera(id=cam_id, name=cam_name, timezone=tz, recordings=tuple(recordings))
        )
    return EvalDataset(name=name, path=file, cameras=tuple(cameras))


def recording_starts(dataset: EvalDataset) -> dict[str, datetime]:
    """Camera id → start of its recording, the map scoring needs to convert hit times.

    Label times are relative to "the" recording of a camera, which is only defined when the
    camera has exactly one recording, so anything else is an error here rather than a silent
    pick of the first.
    """
    starts: dict[str, datetime] = {}
    for cam in dataset.cameras:
        if len(cam.recordings) != 1:
            raise EvaluationError(
                f"{dataset.path}: camera '{cam.id}' has {len(cam.recordings)} recordings; "
                "label times need exactly one per camera"
            )
        starts[cam.id] = cam.recordings[0].start
    return starts


# --------------------------------------------------------------------------- queries.jsonl


def load_queries(path: str | Path) -> list[LabelledQuery]:
    """Read and validate ``queries.jsonl``: one JSON object per line, blank lines skipped.

    Checks each line on its own and that ids are unique; cameras are checked against a dataset
    by :func:`check_queries`.
    """
    file = Path(path).resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise EvaluationError(f"{file}: cannot read query file: {exc}") from exc

    queries: list[LabelledQuery] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{file}:{lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
        q = _parse_query(raw, where, lineno)
        if q.id in first_line:
            raise EvaluationError(
                f"{where}: duplicate query id '{q.id}' (first on line {first_line[q.id]})"
            )
        first_line[q.id] = lineno
        queries.append(q)
    if not queries:
        raise EvaluationError(f"{file}: no queries")
    return queries


def check_queries(
    dataset: EvalDataset,
    queries: Iterable[LabelledQuery],
    *,
    source: str | Path | None = None,
) -> None:
    """Check that every camera a query names (in ``query.cameras``, ``expected`` and
    ``also_ok``) exists in ``dataset``, and that sightings lie on cameras the query searches.

    All problems are collected and raised together, one per line, so a labeller fixes a file
    in one pass. ``source`` (the query file) only improves the messages.
    """
    known = {cam.id for cam in dataset.cameras}
    prefix = f"{source}:" if source is not None else "line "
    problems: list[str] = []
    for q in queries:
        at = f"{prefix}{q.line} ('{q.id}')"
        searched: list[str] | None = None
        cams = q.query.get("cameras")
        if cams is not None:
            if not isinstance(cams, list) or not all(isinstance(c, str) for c in cams):
                problems.append(f"{at}: query 'cameras' must be a list of camera ids")
            else:
                searched = cams
                for c in cams:
                    if c not in known:
                        problems.append(
                            f"{at}: query camera '{c}' is not in dataset '{dataset.name}'"
                        )
        for kind, sightings in (("expected", q.expected), ("also_ok", q.also_ok)):
            for i, s in enumerate(sightings):
                if s.camera not in known:
                    problems.append(
                        f"{at}: {kind}[{i}] camera '{s.camera}' is not in dataset '{dataset.name}'"
                    )
                elif searched is not None and s.camera not in searched:
                    # A sighting on a camera the query does not search can never be found:
                    # that is a labelling mistake, not a hard query.
                    problems.append(
                        f"{at}: {kind}[{i}] camera '{s.camera}' is not among the query's "
                        f"cameras {searched}"
                    )
    if problems:
        raise EvaluationError(
            f"{len(problems)} problem(s) in queries for dataset '{dataset.name}':\n"
            + "\n".join(problems)
        )


def _parse_query(raw: Any, where: str, lineno: int) -> LabelledQuery:
    obj = _object(raw, where, "query line")
    unknown = sorted(set(obj) - _QUERY_KEYS)
    if unknown:
        # Strict on purpose: a misspelt "expectd" would otherwise turn a query negative.
        raise EvaluationError(f"{where}: unknown key(s) {unknown}")
    qid = _string(obj, "id", where, "query line")
    ctx = f"query '{qid}'"
    if "query" not in obj:
        raise EvaluationError(f"{where}: {ctx}: missing key 'query'")
    query = obj["query"]
    if not isinstance(query, dict):
        raise EvaluationError(f"{where}: {ctx}: 'query' must be an object")
    # 'expected' is required even when empty so that a negative query is always deliberate.
    expected = _sightings(_list(obj, "expected", where, ctx), where, f"{ctx} expected")
    also_raw = obj.get("also_ok", [])
    if not isinstance(also_raw, list):
        raise EvaluationError(f"{where}: {ctx}: 'also_ok' must be a list")
    also_ok = _sightings(also_raw, where, f"{ctx} also_ok")
    note = obj.get("note")
    if note is not None and not isinstance(note, str):
        raise EvaluationError(f"{where}: {ctx}: 'note' must be a string")
    return LabelledQuery(
        id=qid,
        query=dict(query),
        expected=expected,
        also_ok=also_ok,
        note=note,
        line=lineno,
    )


def _sightings(items: Sequence[Any], where: str, ctx: str) -> tuple[Sighting, ...]:
    return tuple(_sighting(item, where, f"{ctx}[{i}]") for i, item in enumerate(items))


def _sighting(raw: Any, where: str, ctx: str) -> Sighting:
    obj = _object(raw, where, ctx)
    unknown = sorted(set(obj) - _SIGHTING_KEYS)
    if unknown:
        raise EvaluationError(f"{where}: {ctx}: unknown key(s) {unknown}")
    camera = _string(obj, "camera", where, ctx)
    t0 = _number(obj, "t0", where, ctx)
    t1 = _number(obj, "t1", where, ctx)
    if t0 < 0:
        raise EvaluationError(f"{where}: {ctx}: t0 {t0} is before the recording start")
    if t1 < t0:
        raise EvaluationError(f"{where}: {ctx}: t1 {t1} is before t0 {t0}")
    boxes: tuple[LabelledBox, ...] = ()
    if "boxes" in obj:
        boxes_raw = obj["boxes"]
        if not isinstance(boxes_raw, list) or not boxes_raw:
            # An empty list would silently switch the box rule off; say "no boxes" by omission.
            raise EvaluationError(
                f"{where}: {ctx}: 'boxes' must be a non-empty list (omit it for no boxes)"
            )
        boxes = tuple(
            sorted(
                (_box(b, t0, t1, where, f"{ctx}.boxes[{k}]") for k, b in enumerate(boxes_raw)),
                key=lambda b: b.t,
            )
        )
    return Sighting(camera=camera, t0=t0, t1=t1, boxes=boxes)


def _box(raw: Any, t0: float, t1: float, where: str, ctx: str) -> LabelledBox:
    if not isinstance(raw, list) or len(raw) != 5 or not all(_is_number(v) for v in raw):
        raise EvaluationError(f"{where}: {ctx}: a box must be [t, x0, y0, x1, y1] numbers")
    t, x0, y0, x1, y1 = (float(v) for v in raw)
    if not all(math.isfinite(v) for v in (t, x0, y0, x1, y1)):
        raise EvaluationError(f"{where}: {ctx}: box values must be finite")
    if not (t0 - _TIME_SLACK_S <= t <= t1 + _TIME_SLACK_S):
        raise EvaluationError(f"{where}: {ctx}: box time {t} is outside the sighting [{t0}, {t1}]")
    if x1 <= x0 or y1 <= y0:
        raise EvaluationError(f"{where}: {ctx}: box needs x1 > x0 and y1 > y0")
    return LabelledBox(t=t, x0=x0, y0=y0, x1=x1, y1=y1)


# --------------------------------------------------------------------------- field helpers


def _object(raw: Any, where: str, ctx: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise EvaluationError(f"{where}: {ctx}: expected a JSON object")
    return raw


def _string(obj: Mapping[str, Any], key: str, where: str, ctx: str) -> str:
    if key not in obj:
        raise EvaluationError(f"{where}: {ctx}: missing key '{key}'")
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise EvaluationError(f"{where}: {ctx}: '{key}' must be a non-empty string")
    return value


def _list(obj: Mapping[str, Any], key: str, where: str, ctx: str) -> list[Any]:
    if key not in obj:
        raise EvaluationError(f"{where}: {ctx}: missing key '{key}'")
    value = obj[key]
    if not isinstance(value, list):
        raise EvaluationError(f"{where}: {ctx}: '{key}' must be a list")
    return value


def _is_number(value: Any) -> TypeGuard[int | float]:
    # bool is an int subclass; true/false in a time field is a mistake, not 1/0.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(obj: Mapping[str, Any], key: str, where: str, ctx: str) -> float:
    if key not in obj:
        raise EvaluationError(f"{where}: {ctx}: missing key '{key}'")
    value = obj[key]
    if not _is_number(value) or not math.isfinite(float(value)):
        raise EvaluationError(f"{where}: {ctx}: '{key}' must be a finite number of seconds")
    return float(value)


def _aware_time(obj: Mapping[str, Any], key: str, where: str, ctx: str) -> datetime:
    text = _string(obj, key, where, ctx)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise EvaluationError(f"{where}: {ctx}: '{key}' is not an ISO-8601 time: {text!r}") from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise EvaluationError(
            f"{where}: {ctx}: '{key}' {text!r} has no UTC offset (write e.g. +01:00)"
        )
    return value
