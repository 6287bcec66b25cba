"""The search criteria, declared once: what the CLI's ``search`` options, ``GET /api/search``'s
query parameters and the web search form's URL fields are generated from.

Each :class:`Criterion` names a :class:`retrouve.search.request.SearchRequest` attribute, its
parameter name in URLs and the API (``from``, ``to``, ``camera``…), its CLI flag(s) (``--from``,
``--colour``/``--color``…), its help text, the values it may take and its bounds. The front
ends only translate the table into their library's terms (click options, a pydantic model of
query parameters, tolerant URL parsing) and hand the values, keyed by attribute, to
``SearchRequest.from_values``. A criterion added here appears in all three at once; the
front-end-only options (the CLI's ``--tz`` and ``--json``) stay with their front end.

This module imports no front-end library: click, FastAPI and Starlette stay above ``search``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from retrouve.domain import ACCESSORIES, COLOURS, QUERY_OBJECTS
from retrouve.search.engine import MAX_LIMIT, MAX_OFFSET

#: Result orders a request may ask for (``Searcher.search(order=)``).
ORDERS: Final[tuple[str, ...]] = ("score", "time")
#: Largest track id a request may name (ids are SQLite integers; keeps API numbers bounded).
MAX_TRACK_ID: Final = 2**62


class Kind(StrEnum):
    """The type of a criterion's value: text or an integer."""

    TEXT = "text"
    INT = "int"


@dataclass(frozen=True)
class Criterion:
    """One search criterion as every front end offers it.

    ``attr`` is the ``SearchRequest`` attribute; ``param`` the URL/API parameter name;
    ``flags`` the CLI option names (first is the main one, the others aliases). ``help`` is the
    CLI help and the API description (the API appends the ``choices``). ``repeatable``: the
    value is a tuple of texts (``--camera a --camera b``, ``camera=a&camera=b``).

    ``choices``: the values offered. With ``strict`` the front ends refuse any other value
    themselves (CLI usage error, API 422, the form falls back to the default); without it the
    CLI still offers them as a choice but the API and the form pass the value on, so that the
    engine's validation names the bad value (``QueryError``: API 400).

    ``max_length`` bounds API text (characters); ``minimum``/``maximum`` bound integers at
    every front end (the form clamps a value with a default, drops one without).
    ``default`` is the value when the criterion is not given (None: not set).
    """

    attr: str
    param: str
    flags: tuple[str, ...]
    help: str
    kind: Kind = Kind.TEXT
    choices: tuple[str, ...] = ()
    strict: bool = False
    repeatable: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    default: str | int | None = None

    @property
    def flag(self) -> str:
        """The main CLI flag (``--from``)."""
        return self.flags[0]


def _text(attr: str, help: str, *, param: str | None = None, flags: tuple[str, ...] = (),
          choices: tuple[str, ...] = (), max_length: int | None = None) -> Criterion:
    name = param or attr
    return Criterion(attr, name, flags or (f"--{name}",), help, choices=choices,
                     max_length=max_length)


#: Every criterion, in the order the CLI's help, the API's parameters and URLs list them.
CRITERIA: Final[tuple[Criterion, ...]] = (
    Criterion("cameras", "camera", ("--camera",), "Camera id (repeatable).", repeatable=True),
    _text("time_from", "Start of the window, ISO-8601 (camera time of the first camera if no "
          "offset).", param="from"),
    _text("time_to", "End of the window, ISO-8601.", param="to"),
    _text("object", "Object type; 'vehicle' = any motor vehicle.",
          choices=tuple(sorted(QUERY_OBJECTS))),
    _text("colour", "Vehicle body colour.", flags=("--colour", "--color"), choices=COLOURS),
    _text("upper", "Upper-body clothing colour.", choices=COLOURS),
    _text("lower", "Lower-body clothing colour.", choices=COLOURS),
    _text("accessory", "Object a person carries ('handbag' = any hand-carried bag).",
          choices=ACCESSORIES),
    _text("plate", "Plate pattern: ? = one character, * = any run (FG*, *75, AB?12*); case, "
          "spaces and dashes ignored; tolerant to OCR confusions.", max_length=32),
    _text("make", "Vehicle make (needs a make/model classifier pack).", max_length=64),
    _text("model", "Vehicle model (needs a make/model classifier pack).", max_length=64),
    _text("text", "Free text in French or English, e.g. \"camionnette blanche plaque FG*\"; "
          "its interpretation is reported; explicit criteria win over it.", max_length=500),
    Criterion("like", "like", ("--like",), "Rank tracks by appearance similarity to this "
              "track id (find similar).", kind=Kind.INT, minimum=1, maximum=MAX_TRACK_ID),
    Criterion("limit", "limit", ("--limit",), "Number of hits to return.", kind=Kind.INT,
              minimum=1, maximum=MAX_LIMIT, default=20),
    Criterion("offset", "offset", ("--offset",), "Skip this many hits.", kind=Kind.INT,
              minimum=0, maximum=MAX_OFFSET, default=0),
    Criterion("order", "order", ("--order",), "Best first (score) or earliest first (time).",
              choices=ORDERS, strict=True, default="score"),
)

#: The criteria by ``SearchRequest`` attribute.
BY_ATTR: Final[dict[str, Criterion]] = {c.attr: c for c in CRITERIA}
