"""From request parameters to a :class:`Query`: shared by the search page, the track page's
previous/next links and ``GET /api/search``, so the three can never disagree.

Parameters are those of ``retrouve search``: ``camera`` (repeatable), ``from``, ``to``,
``object``, ``colour``, ``upper``, ``lower``, ``accessory``, ``plate``, ``make``, ``model``,
``text``, ``like``, ``limit``, ``offset``, ``order``. Times without an offset are in the time
zone of the first camera given, else ``default_zone`` (the pages use the first registered
camera's zone; the API, like the CLI, has none and refuses them).

Free text goes through ``retrouve.search.text_query.parse_text`` when that module is
installed; without it the text is searched as is and the caller is told.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Protocol, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from retrouve.domain import Query
from retrouve.errors import RetrouveError
from retrouve.search.engine import MAX_OFFSET, parse_wall_time
from retrouve.services import Services

log = logging.getLogger(__name__)

TEXT_QUERY_MODULE = "retrouve.search.text_query"
ORDERS = ("score", "time")
#: Single-valued string parameters: (URL name, ``SearchParams`` attribute).
FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("from", "time_from"), ("to", "time_to"), ("object", "object"), ("colour", "colour"),
    ("upper", "upper"), ("lower", "lower"), ("accessory", "accessory"), ("plate", "plate"),
    ("make", "make"), ("model", "model"), ("text", "text"),
)


class ParsedTextLike(Protocol):
    """What ``retrouve.search.text_query.parse_text`` returns."""

    def to_query(self, base: Query) -> Query: ...

    def describe(self, lang: str) -> str: ...


ParseText = Callable[..., ParsedTextLike]


def load_parse_text() -> ParseText | None:
    """``parse_text`` if its module is installed, else None (the page degrades)."""
    try:
        module = importlib.import_module(TEXT_QUERY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != TEXT_QUERY_MODULE:
            log.warning("free-text parsing unavailable: %s", exc)
        return None
    except Exception as exc:  # a broken parser must not take the search down with it
        log.warning("free-text parsing unavailable: %s: %s", type(exc).__name__, exc)
        return None
    fn = getattr(module, "parse_text", None)
    return cast(ParseText, fn) if callable(fn) else None


@dataclass(frozen=True)
class SearchParams:
    """Raw search parameters as strings (empty fields are None)."""

    cameras: tuple[str, ...] = ()
    time_from: str | None = None
    time_to: str | None = None
    object: str | None = None
    colour: str | None = None
    upper: str | None = None
    lower: str | None = None
    accessory: str | None = None
    plate: str | None = None
    make: str | None = None
    model: str | None = None
    text: str | None = None
    like: int | None = None
    limit: int = 20
    offset: int = 0
    order: str = "score"

    @classmethod
    def from_params(cls, qp: QueryParams | Mapping[str, str], default_limit: int = 20,
                    max_limit: int = 1000) -> SearchParams:
        """Tolerant parsing for pages: blanks are None, bad numbers fall back to defaults."""
        def text(name: str) -> str | None:
            value = qp.get(name)
            if not isinstance(value, str):
                return None
            return value.strip() or None

        def number(name: str, default: int, lo: int, hi: int) -> int:
            try:
                return min(hi, max(lo, int(qp.get(name) or default)))
            except ValueError:
                return default

        cams = qp.getlist("camera") if isinstance(qp, QueryParams) else (
            [qp["camera"]] if qp.get("camera") else [])
        like = text("like")
        values = {attr: text(name) for name, attr in FIELDS}
        order = text("order")
        return cls(
            cameras=tuple(dict.fromkeys(c for c in cams if c)),
            like=int(like) if like and re.fullmatch(r"[0-9]{1,18}", like) else None,
            limit=number("limit", default_limit, 1, max_limit),
            offset=number("offset", 0, 0, MAX_OFFSET),
            order=order if order in ORDERS else "score",
            **values,
        )

    def pairs(self, **changes: Any) -> list[tuple[str, str]]:
        """The parameters as URL pairs (blanks omitted), with ``changes`` applied."""
        p = replace(self, **changes)
        out: list[tuple[str, str]] = [("camera", c) for c in p.cameras]
        out += [(name, str(getattr(p, attr))) for name, attr in FIELDS
                if getattr(p, attr) is not None]
        if p.like is not None:
            out.append(("like", str(p.like)))
        out += [("order", p.order), ("limit", str(p.limit)), ("offset", str(p.offset))]
        return out

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.pairs(**changes))


@dataclass(frozen=True)
class BuiltQuery:
    """A query ready for the searcher, plus what to tell the operator about it."""

    query: Query
    order: str
    #: How the free text was understood (``ParsedText.describe``), when it was parsed.
    understood: str | None = None
    #: The free text could not be parsed (module absent): searched as is.
    text_unparsed: bool = False


def _parse_time(text: str | None, zone: str | None, what: str) -> datetime | None:
    # Same rules as the CLI's --from/--to: ISO-8601, camera time when no offset.
    return parse_wall_time(text, zone, what, "a camera")


def build_query(params: SearchParams, services: Services, *, lang: str,
                default_zone: str | None,
                text_parser: Callable[[], ParseText | None]) -> BuiltQuery:
    """The :class:`Query` for ``params``; raises ``QueryError``/``UnknownCameraError``.
    ``text_parser`` gives ``parse_text`` (or None); it is only called for free text."""
    store = services.store
    zone = store.require_camera(params.cameras[0]).timezone if params.cameras else default_zone
    for cam in params.cameras[1:]:
        store.require_camera(cam)
    base = Query(
        cameras=params.cameras,
        time_from=_parse_time(params.time_from, zone, "from"),
        time_to=_parse_time(params.time_to, zone, "to"),
        object=params.object, colour=params.colour, upper=params.upper, lower=params.lower,
        accessory=params.accessory, plate=params.plate, make=params.make, model=params.model,
        like_track=params.like, limit=params.limit, offset=params.offset,
    )
    if not params.text:
        return BuiltQuery(base, params.order)
    parse_text = text_parser()
    if parse_text is None:
        return BuiltQuery(replace(base, text=params.text), params.order, text_unparsed=True)
    try:
        parsed = parse_text(params.text, now=services.clock(), tz=ZoneInfo(zone or "UTC"))
        query = parsed.to_query(base)
        understood = parsed.describe(lang)
    except RetrouveError:
        raise  # the operator's text is at fault (QueryError names the word)
    except Exception:  # a parser bug: search the text as is rather than fail the page
        log.exception("free-text parsing failed; searching the text as is")
        return BuiltQuery(replace(base, text=params.text), params.order, text_unparsed=True)
    # The parser fills criteria; paging stays the caller's.
    query = replace(query, limit=params.limit, offset=params.offset)
    return BuiltQuery(query, params.order, understood=understood)


def site_zone(services: Services) -> str | None:
    """The zone of naive times on the pages: the first registered camera's (None if none)."""
    cams = services.store.list_cameras()
    return cams[0].timezone if cams else None
