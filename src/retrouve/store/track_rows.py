"""Rows of the track tables in and out: inserting one analysed track (with its attributes,
plate read and vectors) and reading rows back as :class:`~retrouve.store.records.TrackRow`.

Functions take the caller's connection, so a whole unit is written in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from retrouve.domain import Box, PlateRead, Track, fold_plate
from retrouve.store import schema as s
from retrouve.store.records import TrackRow, TrackSummary


def insert_track(conn: Connection, run_id: int, track: Track, thumb: str | None,
                 camera_id: str, rec_start: datetime) -> int:
    """Insert one track with its attributes, plate read and vectors. Returns its id."""
    res = conn.execute(insert(s.tracks).values(
        **_track_values(run_id, track, thumb, camera_id, rec_start)))
    pk = res.inserted_primary_key
    assert pk is not None
    track_id = int(pk[0])
    _insert_attributes(conn, track_id, track)
    _insert_plate(conn, track_id, track)
    _insert_vectors(conn, track_id, track)
    return track_id


def insert_tracks(conn: Connection, run_id: int, tracks: Sequence[Track],
                  thumbs: Sequence[str | None], camera_id: str, rec_start: datetime) -> list[int]:
    """:func:`insert_track` for the tracks of one recording in four bulk statements (tracks,
    attributes, plate reads, vectors: the same rows). Returns their ids in order."""
    if not tracks:
        return []
    res = conn.execute(
        insert(s.tracks).returning(s.tracks.c.id, sort_by_parameter_order=True),
        [_track_values(run_id, t, k, camera_id, rec_start)
         for t, k in zip(tracks, thumbs, strict=True)])
    ids = [int(i) for i in res.scalars()]
    attrs, plates, vectors = [], [], []
    for track_id, track in zip(ids, tracks, strict=True):
        attrs += _attribute_rows(track_id, track)
        if track.plate is not None:
            plates.append(_plate_row(track_id, track.plate))
        vectors += _vector_rows(track_id, track)
    for table, rows in ((s.track_attributes, attrs), (s.plate_reads, plates),
                        (s.track_vectors, vectors)):
        if rows:
            conn.execute(insert(table), rows)
    return ids


def _track_values(run_id: int, track: Track, thumb: str | None, camera_id: str,
                  rec_start: datetime) -> dict[str, Any]:
    b = track.best_box
    return dict(
        recording_id=track.recording_id, camera_id=camera_id, unit_id=track.unit_id,
        run_id=run_id, local_id=track.local_id, object=track.object,
        object_conf=track.object_confidence,
        start_utc=rec_start + timedelta(seconds=track.t_start),
        end_utc=rec_start + timedelta(seconds=track.t_end),
        t_start=track.t_start, t_end=track.t_end, best_t=track.best_t,
        box_x0=b.x0, box_y0=b.y0, box_x1=b.x1, box_y1=b.y1, thumbnail=thumb,
        observations_json=json.dumps(
            [[round(o.t, 3), *(round(v, 1) for v in o.box.as_list()), round(o.confidence, 3)]
             for o in track.observations]
        ),
    )


def _insert_attributes(conn: Connection, track_id: int, track: Track) -> None:
    rows = _attribute_rows(track_id, track)
    if rows:
        conn.execute(insert(s.track_attributes), rows)


def weighted(confidence: float, object_confidence: float) -> float:
    """``track_attributes.weighted``: an attribute's confidence times its track's object
    confidence (migration 0016), the bound the score floors of ``store/top_objects.py`` read.
    The same product SQL computes for the score (IEEE, commutative), so a track's score is
    never above it."""
    return confidence * object_confidence


def fill_weighted(attrs: Sequence[dict[str, Any]], object_conf: Mapping[int, float]) -> None:
    """Set ``weighted`` on attribute rows built by hand (benchmark generators), from the
    object confidence of each row's ``track_id``, as the store writes it."""
    for a in attrs:
        a["weighted"] = weighted(a["confidence"], object_conf[a["track_id"]])


def _attribute_rows(track_id: int, track: Track) -> list[dict[str, Any]]:
    ranks: dict[str, int] = {}
    rows = []
    for a in sorted(track.attributes, key=lambda a: (a.name, -a.confidence)):
        ranks[a.name] = ranks.get(a.name, 0) + 1
        rows.append({"track_id": track_id, "name": a.name, "value": a.value,
                     "confidence": a.confidence, "rank": ranks[a.name],
                     "weighted": weighted(a.confidence, track.object_confidence)})
    return rows


def _insert_plate(conn: Connection, track_id: int, track: Track) -> None:
    if track.plate is not None:
        conn.execute(insert(s.plate_reads).values(**_plate_row(track_id, track.plate)))


def _plate_row(track_id: int, pr: PlateRead) -> dict[str, Any]:
    b = pr.box
    return dict(
        # Folded here, from the domain's table: a caller's own folding is never trusted.
        track_id=track_id, text=pr.text, folded=fold_plate(pr.text),
        folded_alts="|" + "".join(fold_plate(a) + "|" for a, _ in pr.alternatives),
        confidence=pr.confidence, grammar=pr.grammar,
        chars_json=json.dumps([[c, round(p, 3)] for c, p in pr.chars]),
        alternatives_json=json.dumps([[a, round(p, 3)] for a, p in pr.alternatives]),
        reads=pr.reads, best_t=pr.best_t,
        box_x0=b.x0 if b else None, box_y0=b.y0 if b else None,
        box_x1=b.x1 if b else None, box_y1=b.y1 if b else None,
    )


def _insert_vectors(conn: Connection, track_id: int, track: Track) -> None:
    rows = _vector_rows(track_id, track)
    if rows:
        conn.execute(insert(s.track_vectors), rows)


def _vector_rows(track_id: int, track: Track) -> list[dict[str, Any]]:
    return [{"track_id": track_id, "kind": kind, "dim": int(vec.shape[0]),
             "vector": vec.astype("<f4").tobytes()} for kind, vec in track.vectors.items()]


def rows_of(conn: Connection, ids: list[int]) -> dict[int, Any]:
    """Track rows with their plate read (plate columns ``None`` when unread), by id."""
    if not ids:
        return {}
    t, p = s.tracks, s.plate_reads
    # Every column a TrackRow needs; not the observations (kilobytes per track).
    cols = [c for c in t.c if c.name != "observations_json"]
    q = (select(*cols).outerjoin(p, p.c.track_id == t.c.id).add_columns(
        p.c.text.label("plate_text"), p.c.confidence.label("plate_conf"),
        p.c.chars_json.label("plate_chars"), p.c.alternatives_json.label("plate_alts"),
        p.c.grammar.label("plate_grammar"), p.c.reads.label("plate_reads"),
        p.c.best_t.label("plate_t"),
    ).where(t.c.id.in_(ids)))
    return {int(r.id): r._mapping for r in conn.execute(q)}


def attributes_of(conn: Connection, ids: list[int]) -> dict[int, dict[str, tuple[str, float]]]:
    """Best value (rank 1) of every attribute of the given tracks."""
    if not ids:
        return {}
    a = s.track_attributes
    rows = conn.execute(
        select(a.c.track_id, a.c.name, a.c.value, a.c.confidence)
        .where(a.c.track_id.in_(ids), a.c.rank == 1)
    ).all()
    out: dict[int, dict[str, tuple[str, float]]] = {}
    for r in rows:
        out.setdefault(r.track_id, {})[r.name] = (r.value, float(r.confidence))
    return out


def _plate_of(m: Any) -> PlateRead | None:
    if m["plate_text"] is None:
        return None
    return PlateRead(
        text=m["plate_text"], confidence=float(m["plate_conf"]),
        chars=tuple((str(c), float(p)) for c, p in json.loads(m["plate_chars"])),
        alternatives=tuple((str(a), float(p)) for a, p in json.loads(m["plate_alts"])),
        grammar=m["plate_grammar"], reads=int(m["plate_reads"]), best_t=float(m["plate_t"]),
    )


def track_row(m: Any, attrs: dict[str, tuple[str, float]], score: float) -> TrackRow:
    """A :func:`rows_of` row as a ``TrackRow`` with the given best attributes and score."""
    return TrackRow(
        id=m["id"], camera_id=m["camera_id"], recording_id=m["recording_id"],
        object=m["object"], object_conf=m["object_conf"], start=m["start_utc"],
        end=m["end_utc"], best_t=m["best_t"],
        box=Box(m["box_x0"], m["box_y0"], m["box_x1"], m["box_y1"]),
        thumbnail=m["thumbnail"], attributes=attrs, score=score,
        # start_utc = recording start + t_start, so no join is needed for the box's time.
        box_time=m["start_utc"] + timedelta(seconds=m["best_t"] - m["t_start"]),
        plate=_plate_of(m),
        object_id=m["object_id"],
    )


def covered_seconds(spans: list[tuple[datetime, datetime]]) -> float:
    """Seconds covered by the union of ``(start, end)`` spans (fragments may overlap by
    their padding: counted once)."""
    total, reach = 0.0, None
    for a, b in sorted(spans):
        if reach is None or a > reach:
            total += (b - a).total_seconds()
            reach = b
        elif b > reach:
            total += (b - reach).total_seconds()
            reach = b
    return total


def summary_of(m: Any, vehicle_types: set[str]) -> TrackSummary:
    """A track row (with its unit's ``t0``/``t1``, its recording's ``duration_s`` and plate
    ``text``/``confidence``) as a :class:`TrackSummary` in wall-clock POSIX seconds."""
    rec0 = m.start_utc.timestamp() - float(m.t_start)  # the recording's start
    obs = json.loads(m.observations_json)
    if obs:
        (ft, *fb, _), (lt, *lb, _) = obs[0], obs[-1]
        first, last = Box(*fb), Box(*lb)
    else:  # no observation stored: the best view stands for both ends
        ft = lt = float(m.best_t)
        first = last = Box(m.box_x0, m.box_y0, m.box_x1, m.box_y1)
    t0 = 0.0 if m.t0 is None else float(m.t0)
    seg_end = float(m.duration_s) if m.t1 is None else min(float(m.t1), float(m.duration_s))
    return TrackSummary(
        id=int(m.id), camera_id=m.camera_id, recording_id=m.recording_id,
        kinds=frozenset({m.object, *vehicle_types}),
        start=m.start_utc.timestamp(), end=m.end_utc.timestamp(),
        first_t=rec0 + float(ft), first_box=first, last_t=rec0 + float(lt), last_box=last,
        seg_start=rec0 + t0, seg_end=rec0 + seg_end,
        plate=m.text, plate_confidence=float(m.confidence or 0.0),
    )
