"""What a search answers, as every front end shows it: the hit schema and why it is empty.

:class:`HitOut` is the one description of a hit in JSON: ``retrouve search --json``, the
evaluation's hit files and ``GET /api/search`` (its response model) all dump it. Only the
thumbnail differs by front end: a path on the server for the CLI, an authenticated URL for
the API (:meth:`HitOut.with_thumbnail`).

:class:`EmptyReason` says why a search found nothing; each front end words it (the CLI with
:meth:`EmptyReason.worded` in its ``--lang``, the web from its i18n catalogue, the API both).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from retrouve.domain import Hit


class EmptyReason(StrEnum):
    """Why a search has no hits (the value is stable: the API returns it)."""

    #: No recording is registered for the cameras asked for (or at all).
    NO_FOOTAGE = "no_footage"
    #: Recordings exist but none has been analysed yet.
    NOT_ANALYSED = "not_analysed"
    #: Analysed footage exists but no track matches the criteria.
    NO_MATCH = "no_match"

    @property
    def english(self) -> str:
        """The reason as one English sentence (CLI, API ``why_empty``)."""
        return _ENGLISH[self]

    def worded(self, lang: str) -> str:
        """The reason as the command line says it: French for ``fr``, else English."""
        return _FRENCH[self] if lang == "fr" else _ENGLISH[self]


_ENGLISH: Final[dict[EmptyReason, str]] = {
    EmptyReason.NO_FOOTAGE: "no footage is registered for these cameras",
    EmptyReason.NOT_ANALYSED:
        "no footage has been analysed yet for these cameras: run `retrouve analyse`",
    EmptyReason.NO_MATCH: "no sighting matches: widen the time window or drop a criterion",
}

_FRENCH: Final[dict[EmptyReason, str]] = {
    EmptyReason.NO_FOOTAGE: "aucune vidéo n'est enregistrée pour ces caméras",
    EmptyReason.NOT_ANALYSED:
        "aucune vidéo de ces caméras n'a encore été analysée : lancez `retrouve analyse`",
    EmptyReason.NO_MATCH: "aucune observation ne correspond : élargissez la fenêtre de temps "
                          "ou retirez un critère",
}


class AttributeOut(BaseModel):
    """An attribute's value and its confidence 0..1 (3 decimals)."""

    model_config = ConfigDict(frozen=True)

    value: str
    confidence: float


class PlateOut(BaseModel):
    """A plate read: normalised text (``A-Z0-9``), confidence 0..1 and the other candidate
    reads ``[text, confidence]``, best first."""

    model_config = ConfigDict(frozen=True)

    text: str
    confidence: float
    alternatives: list[tuple[str, float]]


class PlateMatchOut(BaseModel):
    """How the plate read fits the plate pattern searched for: ``read`` the text that matched,
    ``alternative`` whether it is a runner-up read rather than the consensus, ``edits`` how
    many characters differ from the pattern (wildcards never count), ``cost`` the weighted
    edit cost it was ranked by (3 decimals; 0 exact) and ``approximate`` (``edits`` > 0 or a
    runner-up)."""

    model_config = ConfigDict(frozen=True)

    read: str
    alternative: bool
    edits: int
    cost: float
    approximate: bool


class HitOut(BaseModel):
    """One hit. Times are ISO-8601 in the camera's zone; ``box`` is ``[x0, y0, x1, y1]`` in
    original-frame pixels at ``box_time``; ``score`` 0..1 (4 decimals); ``thumbnail`` a path
    on the server (CLI) or ``/media/thumb/{track_id}`` (API), None without one.

    A hit is one *object*: ``track_id`` is its best-ranked fragment (whose box, thumbnail and
    plate read are shown), ``start``/``end`` the object's span (first fragment's start to
    last fragment's end), ``track_ids`` all its fragments in start order, ``seen_count``
    how many there are, ``total_duration_s`` the seconds they cover (1 decimal) and
    ``plates`` the union of their plate reads, most confident first. ``plate_match`` is set
    only when the search had a plate pattern (:class:`PlateMatchOut`)."""

    model_config = ConfigDict(frozen=True)

    track_id: int
    camera: str
    recording: str
    start: str
    end: str
    score: float
    object: str
    attributes: dict[str, AttributeOut]
    box: list[float]
    box_time: str
    thumbnail: str | None
    plate: PlateOut | None
    object_id: int
    seen_count: int
    total_duration_s: float
    track_ids: list[int]
    plates: list[str]
    plate_match: PlateMatchOut | None = None

    @classmethod
    def of(cls, hit: Hit) -> HitOut:
        """The schema of ``hit`` (rounded for reading; the thumbnail is its server path)."""
        plate = hit.plate
        return cls(
            track_id=hit.track_id, camera=hit.camera, recording=hit.recording,
            start=hit.start.isoformat(), end=hit.end.isoformat(), score=round(hit.score, 4),
            object=hit.object,
            attributes={k: AttributeOut(value=v, confidence=round(c, 3))
                        for k, (v, c) in hit.attributes.items()},
            box=[round(v, 1) for v in hit.box.as_list()], box_time=hit.box_time.isoformat(),
            thumbnail=hit.thumbnail,
            plate=None if plate is None else PlateOut(
                text=plate.text, confidence=round(plate.confidence, 3),
                alternatives=[(t, round(c, 3)) for t, c in plate.alternatives]),
            object_id=hit.object_id if hit.object_id is not None else hit.track_id,
            seen_count=hit.seen_count,
            total_duration_s=round(hit.total_duration_s if hit.total_duration_s is not None
                                   else (hit.end - hit.start).total_seconds(), 1),
            track_ids=list(hit.track_ids or (hit.track_id,)),
            plates=list(hit.plates or ((plate.text,) if plate else ())),
            plate_match=None if (m := hit.plate_match) is None else PlateMatchOut(
                read=m.read, alternative=m.alternative, edits=m.edits, cost=round(m.cost, 3),
                approximate=m.approximate),
        )

    def with_thumbnail(self, thumbnail: str | None) -> HitOut:
        """The same hit with another thumbnail reference (the API's URL)."""
        return self.model_copy(update={"thumbnail": thumbnail})

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (tuples become lists), keys in the schema's order."""
        return self.model_dump(mode="json")


def hit_json(hit: Hit) -> dict[str, Any]:
    """``hit`` in the JSON hit schema (:class:`HitOut`), thumbnail as its server path."""
    return HitOut.of(hit).to_json()
