"""From URL parameters to a :class:`Query`: the search page, the track page's previous/next
links and ``GET /api/search`` share :func:`build_query` (itself
``retrouve.search.request.build_query``, as the CLI's), so they can never disagree.

Parameters are those of ``retrouve search``: ``camera`` (repeatable), ``from``, ``to``,
``object``, ``colour``, ``upper``, ``lower``, ``accessory``, ``plate``, ``make``, ``model``,
``text``, ``like``, ``limit``, ``offset``, ``order``. Times without an offset are in the time
zone of the first camera given, else ``default_zone`` (the pages use the first registered
camera's zone; the API, like the CLI, has none and refuses them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from retrouve.search.engine import MAX_OFFSET
from retrouve.search.request import (
    ORDERS,
    WEB_WORDING,
    BuiltQuery,
    ParsedTextLike,
    ParseText,
    SearchRequest,
    load_parse_text,
)
from retrouve.search.request import build_query as build_request
from retrouve.services import Services

__all__ = ["FIELDS", "BuiltQuery", "ParseText", "ParsedTextLike", "SearchParams",
           "build_query", "load_parse_text", "site_zone"]

#: Single-valued string parameters: (URL name, ``SearchRequest`` attribute).
FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("from", "time_from"), ("to", "time_to"), ("object", "object"), ("colour", "colour"),
    ("upper", "upper"), ("lower", "lower"), ("accessory", "accessory"), ("plate", "plate"),
    ("make", "make"), ("model", "model"), ("text", "text"),
)


@dataclass(frozen=True)
class SearchParams(SearchRequest):
    """:class:`SearchRequest` read from / written to URL parameters (blank fields None).

    The fields are the request's; this class only adds the URL side. ``operator_zone`` is
    never in a URL: the pages read free text in the camera's zone."""

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


def build_query(params: SearchRequest, services: Services, *, lang: str,
                default_zone: str | None,
                text_parser: Callable[[], ParseText | None]) -> BuiltQuery:
    """The :class:`Query` for ``params`` with the web's wording of errors; raises
    ``QueryError``/``UnknownCameraError``. ``text_parser`` gives ``parse_text`` (or None); it
    is only called for free text, read in the first camera's zone (else ``default_zone``)."""
    return build_request(params, services.store, clock=services.clock, lang=lang,
                         wording=WEB_WORDING, default_zone=default_zone,
                         text_parser=text_parser)


def site_zone(services: Services) -> str | None:
    """The zone of naive times on the pages: the first registered camera's (None if none)."""
    cams = services.store.list_cameras()
    return cams[0].timezone if cams else None
