"""The search form filled from what the free text was understood as, and read back.

After a search whose free text was read, the form's fields show the criteria searched: each
field the operator left blank and the text set (object, colours, accessory, plate, make and
model where a pack serves them, the time window in the operator zone) is filled in, so the
operator refines the search by editing fields and submitting again. The form also carries,
in one hidden ``filled`` parameter (:class:`Filled`), the text the fields were filled from
and the values it filled.

Which wins when both free text and fields are given (``docs/free-text.md``):

1. A field that is set wins over what the text says about the same criterion; the text fills
   only the blank fields (every front end: CLI, API, form).
2. On the form, with ``filled`` and the text **unchanged**: the fields the text filled are the
   search as they stand — edited, they search the new value; cleared, that criterion is no
   longer searched (the text does not put it back). The text still ranks the hits (an
   image-text pack), still reports its ignored words and still fills a blank field it did not
   fill before. If every field is blank the text is read afresh.
3. On the form, with ``filled`` and the text **changed** (a new sentence): the fields still
   holding what the old sentence filled are emptied first, so the new sentence is read
   afresh; the fields the operator set or changed keep winning (rule 1).

Submitting the filled form as it is therefore searches exactly what was searched (the same
query, hence the same results): rule 2 with every field as the text filled it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from retrouve.domain import Query
from retrouve.search.request import BuiltQuery, ParsedTextLike, ParseText
from retrouve.web.search_form import SearchParams

#: The criteria (``SearchRequest`` attributes) free text can set, as form fields.
TEXT_FIELDS: Final[tuple[str, ...]] = (
    "object",
    "colour",
    "upper",
    "lower",
    "accessory",
    "plate",
    "make",
    "model",
    "time_from",
    "time_to",
)
_TIMES: Final = ("time_from", "time_to")
#: Longest ``filled`` value read (characters): the text (500) and ten short values, encoded.
MAX_FILLED: Final = 4000


@dataclass(frozen=True)
class Filled:
    """The hidden ``filled`` parameter: the free ``text`` the form was filled from and the
    ``fields`` it filled, as ``(attribute, value as the form shows it)`` pairs (times: local
    ``YYYY-MM-DDTHH:MM[:SS]`` in the operator zone)."""

    text: str
    fields: tuple[tuple[str, str], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def value(self, name: str) -> str | None:
        return dict(self.fields).get(name)

    def encode(self) -> str:
        return urlencode([("text", self.text), *self.fields])

    @classmethod
    def decode(cls, raw: str | None) -> Filled | None:
        """The marker in ``raw``; None when absent, too long or malformed (a hand-edited URL
        then searches by rule 1 alone)."""
        if not raw or len(raw) > MAX_FILLED:
            return None
        pairs = parse_qsl(raw, keep_blank_values=False)
        if not pairs or pairs[0][0] != "text":
            return None
        fields = tuple((k, v) for k, v in pairs[1:] if k in TEXT_FIELDS)
        if len(fields) != len(pairs) - 1 or len(dict(fields)) != len(fields):
            return None
        return cls(pairs[0][1], fields)


def same_value(name: str, a: str | None, b: str | None) -> bool:
    """Whether a field's value ``a`` is the filled value ``b``; times compare as instants of
    the wall clock, so a browser's ``10:00`` is the ``10:00:00`` written into the field."""
    if a is None or b is None:
        return a is b
    if name in _TIMES:
        try:
            return datetime.fromisoformat(a) == datetime.fromisoformat(b)
        except ValueError:
            return a == b
    return a == b


@dataclass(frozen=True)
class Resolved:
    """A submitted form read by the rules above: ``params`` to search, and ``kept`` the
    criteria whose field is the search as it stands (rule 2; the text must not refill
    them)."""

    params: SearchParams
    kept: tuple[str, ...]
    marker: Filled | None


def resolve(params: SearchParams) -> Resolved:
    """``params`` as submitted (with its ``filled`` marker) turned into what to search."""
    marker = Filled.decode(params.filled)
    if marker is None or not params.text:
        return Resolved(params, (), None)
    if params.text == marker.text:
        if all(getattr(params, name) is None for name in TEXT_FIELDS):
            return Resolved(params, (), None)  # every field cleared: read the text afresh
        return Resolved(params, marker.names, marker)
    # A new sentence: what the old one filled, still untouched, gives way to it.
    stale: dict[str, Any] = {
        name: None
        for name, value in marker.fields
        if same_value(name, getattr(params, name), value)
    }
    return Resolved(replace(params, **stale), (), None)


class _Kept:
    """A parsed text that leaves the ``kept`` criteria to the fields (rule 2); its summary
    and JSON stay the whole reading's (what the text was understood as)."""

    def __init__(self, parsed: ParsedTextLike, kept: tuple[str, ...]) -> None:
        self._parsed, self._kept = parsed, kept

    def to_query(self, base: Query) -> Query:
        return self._parsed.without(*self._kept).to_query(base)

    def describe(self, lang: str) -> str:
        return self._parsed.describe(lang)

    def to_json(self) -> dict[str, Any]:
        return self._parsed.to_json()

    def without(self, *fields: str) -> ParsedTextLike:
        return _Kept(self._parsed.without(*fields), self._kept)


def text_parser(
    factory: Callable[[], ParseText | None], kept: tuple[str, ...]
) -> Callable[[], ParseText | None]:
    """``factory`` (the app's ``parse_text`` loader) whose readings leave ``kept`` to the
    fields; ``factory`` itself when nothing is kept."""
    if not kept:
        return factory

    def load() -> ParseText | None:
        parse = factory()
        if parse is None:
            return None

        def kept_parse(text: str, **kwargs: Any) -> ParsedTextLike:
            return _Kept(parse(text, **kwargs), kept)

        return kept_parse

    return load


def form_time(when: datetime, zone: str) -> str | None:
    """``when`` as a ``datetime-local`` field shows it in ``zone`` (seconds only when not
    zero, as a browser normalises it); None for a wall time the zone repeats (the autumn
    change): the field could not say which, so it is left to the text."""
    local = when.astimezone(ZoneInfo(zone))
    naive = local.replace(tzinfo=None)
    other = naive.replace(fold=1 - local.fold).replace(tzinfo=ZoneInfo(zone))
    if other.utcoffset() != local.utcoffset():
        return None
    return naive.strftime("%Y-%m-%dT%H:%M:%S" if naive.second else "%Y-%m-%dT%H:%M")


def from_text(params: SearchParams) -> frozenset[str]:
    """The criteria whose field still holds what the text filled (the form marks them)."""
    marker = Filled.decode(params.filled)
    if marker is None or marker.text != params.text:
        return frozenset()
    return frozenset(
        name for name, value in marker.fields if same_value(name, getattr(params, name), value)
    )


def filled_form(resolved: Resolved, built: BuiltQuery, zone: str) -> SearchParams:
    """The form to show after searching ``resolved``: its fields, each blank one the text
    set filled with the value searched, and the ``filled`` marker (the same as submitted
    under rule 2, plus what the text filled anew). The request as submitted when the text
    was not read (no text, or no parser)."""
    params = resolved.params
    if built.parsed is None or not params.text:
        return replace(params, filled=None)
    query = built.query
    fill: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value: Any = getattr(query, name)
        if getattr(params, name) is not None or value is None:
            continue
        shown = form_time(value, zone) if name in _TIMES else str(value)
        if shown is not None:
            fill[name] = shown
    before = resolved.marker.fields if resolved.marker is not None else ()
    marker = Filled(
        params.text, (*before, *((k, v) for k, v in fill.items() if k not in dict(before)))
    )
    return replace(params, **fill, filled=marker.encode() if marker.fields else None)


__all__ = [
    "MAX_FILLED",
    "TEXT_FIELDS",
    "Filled",
    "Resolved",
    "filled_form",
    "form_time",
    "resolve",
    "same_value",
    "text_parser",
]
