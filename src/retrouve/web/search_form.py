"""The search criteria as URL parameters: the search page, the track page's previous/next
links and ``GET /api/search`` read them, and share :func:`build_query` (itself
``retrouve.search.request.build_query``, as the CLI's), so they can never disagree.

The parameters are generated from ``retrouve.search.criteria.CRITERIA``, as are the CLI's
options: ``camera`` (repeatable), ``from``, ``to``, ``object``, ``colour``, ``upper``,
``lower``, ``accessory``, ``plate``, ``make``, ``model``, ``text``, ``like``, ``limit``,
``offset``, ``order``. The pages read them tolerantly (:meth:`SearchParams.from_params`); the
API strictly, through the pydantic model :func:`api_params_model` (a bad value is a 422).
Times without an offset are read in the site's operator zone (:func:`site_zone`, the
``site.time_zone`` setting), on the pages, the API and the CLI alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field, create_model
from starlette.datastructures import QueryParams

from retrouve.search.criteria import CRITERIA, Criterion, Kind
from retrouve.search.request import (
    WEB_WORDING,
    BuiltQuery,
    ParsedTextLike,
    ParseText,
    SearchRequest,
    fit_capabilities,
    load_parse_text,
)
from retrouve.search.request import build_query as build_request
from retrouve.services import Services

__all__ = ["BuiltQuery", "ParseText", "ParsedTextLike", "SearchParams", "api_params_model",
           "build_query", "load_parse_text", "site_zone"]

#: The form's hidden parameter of the fields filled from free text (``form_fill.Filled``).
FILLED_PARAM = "filled"
#: An optional integer in a URL: ASCII digits only (``int`` accepts "²" and "1_0"), bounded.
_DIGITS = re.compile(r"[0-9]{1,18}")


def _read(criterion: Criterion, qp: QueryParams | Mapping[str, str], default_limit: int,
          max_limit: int) -> Any:
    """One criterion's value from URL parameters, tolerantly: blanks are None, a bad number
    or a value outside strict choices falls back to the default, numbers are clamped."""
    if criterion.repeatable:
        values = qp.getlist(criterion.param) if isinstance(qp, QueryParams) else (
            [qp[criterion.param]] if qp.get(criterion.param) else [])
        return tuple(dict.fromkeys(v for v in values if v))
    raw = qp.get(criterion.param)
    value = raw.strip() or None if isinstance(raw, str) else None
    default = default_limit if criterion.attr == "limit" else criterion.default
    if criterion.kind is Kind.INT:
        lo = criterion.minimum
        hi = max_limit if criterion.attr == "limit" else criterion.maximum
        if default is None:  # optional: dropped unless plain digits within bounds
            number = int(value) if value and _DIGITS.fullmatch(value) else None
            if number is None or (lo is not None and number < lo) or (
                    hi is not None and number > hi):
                return None
            return number
        try:
            number = int(value or default)
        except ValueError:
            return default
        number = number if lo is None else max(lo, number)
        return number if hi is None else min(hi, number)
    if criterion.strict and value not in criterion.choices:
        return default
    return value


@dataclass(frozen=True)
class SearchParams(SearchRequest):
    """:class:`SearchRequest` read from / written to URL parameters (blank fields None).

    The fields are the request's; this class only adds the URL side. ``operator_zone`` is
    never in a URL: the pages read times and free text in the site's operator zone.
    ``filled`` is the form's own hidden marker of the fields filled from the free text
    (:mod:`retrouve.web.form_fill`), not a criterion: the API and the CLI have none."""

    filled: str | None = None

    @classmethod
    def from_params(cls, qp: QueryParams | Mapping[str, str], default_limit: int = 20,
                    max_limit: int = 1000) -> SearchParams:
        """Tolerant parsing for pages: blanks are None, bad numbers fall back to defaults,
        ``limit`` defaults to ``default_limit`` and is clamped to ``max_limit``."""
        params = cls.from_values({c.attr: _read(c, qp, default_limit, max_limit)
                                  for c in CRITERIA})
        filled = qp.get(FILLED_PARAM)
        return replace(params, filled=filled or None) if isinstance(filled, str) else params

    def pairs(self, **changes: Any) -> list[tuple[str, str]]:
        """The parameters as URL pairs in ``CRITERIA`` order (blanks omitted), with
        ``changes`` applied."""
        p = replace(self, **changes)
        out: list[tuple[str, str]] = []
        for c in CRITERIA:
            value = getattr(p, c.attr)
            if c.repeatable:
                out += [(c.param, str(v)) for v in value]
            elif value is not None:
                out.append((c.param, str(value)))
        if p.filled:
            out.append((FILLED_PARAM, p.filled))
        return out

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.pairs(**changes))


def _api_field(criterion: Criterion) -> tuple[Any, Any]:
    """The pydantic (type, Field) of one criterion as an API query parameter."""
    description = criterion.help
    if criterion.choices:
        description += " One of: " + ", ".join(criterion.choices) + "."
    base: Any = int if criterion.kind is Kind.INT else str
    kind: Any = list[str] | None if criterion.repeatable else (
        base if criterion.default is not None else base | None)
    pattern = ("^(" + "|".join(map(re.escape, criterion.choices)) + ")$"
               if criterion.strict else None)
    return kind, Field(criterion.default, alias=criterion.param, description=description,
                       max_length=criterion.max_length, ge=criterion.minimum,
                       le=criterion.maximum, pattern=pattern)


def api_params_model() -> type[BaseModel]:
    """A pydantic model of ``GET /api/search``'s query parameters, one field per criterion:
    named by attribute, aliased to the parameter (``time_from`` ← ``from``), with the
    criterion's bounds, max length and (strict) choices; ``model_dump()`` gives the values
    ``SearchRequest.from_values`` takes. Other parameters are ignored."""
    fields: dict[str, Any] = {c.attr: _api_field(c) for c in CRITERIA}
    model: type[BaseModel] = create_model("SearchQueryParams", **fields)
    return model


def build_query(params: SearchRequest, services: Services, *, lang: str,
                default_zone: str | None,
                text_parser: Callable[[], ParseText | None]) -> BuiltQuery:
    """The :class:`Query` for ``params`` with the web's wording of errors, fitted to the
    installed models as a search is (``fit_capabilities``: a make/model from the text without
    its pack dropped), so the track page's previous/next walk the same results; raises
    ``QueryError``/``UnknownCameraError``. ``text_parser`` gives ``parse_text`` (or None); it
    is only called for free text, read in ``default_zone`` (the operator zone)."""
    built = build_request(params, services.store, clock=services.clock, lang=lang,
                          wording=WEB_WORDING, default_zone=default_zone,
                          text_parser=text_parser)
    return fit_capabilities(built, params, services.searcher.capabilities, lang)


def site_zone(services: Services, user_zone: str | None = None) -> str:
    """The zone of naive times on the pages (and shown beside the time fields): the user's own
    zone (``users.time_zone``, ``retrouve users tz``) when set, else the site's operator zone
    (:meth:`Services.operator_zone`); never a camera's, so the order of the cameras chosen
    cannot change the window searched."""
    return user_zone or services.operator_zone()
