"""``retrouve search``: find sightings by camera, time, object, colours, accessory, plate, text.

The criteria options are generated from ``retrouve.search.criteria.CRITERIA`` (as the web
form's fields and the API's parameters are); their values become a ``SearchRequest``, which
``retrouve.search.request.build_query`` turns into the query, and hits print in the ``HitOut``
schema. ``--tz`` and ``--json`` are the command line's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from retrouve.cli.io import (
    case_option,
    console,
    emit,
    in_case,
    open_services,
    operator_zone,
    styled,
)
from retrouve.domain import Hit, PlateMatch
from retrouve.search.criteria import CRITERIA, MAX_TRACK_ID, Criterion, Kind
from retrouve.search.request import CLI_WORDING, SearchRequest, ignored_line, operator_lang
from retrouve.search.schema import hit_json
from retrouve.wallclock import camera_note, local_iso, show_time

FC = TypeVar("FC", bound=Callable[..., Any])


def _option(criterion: Criterion) -> Callable[[FC], FC]:
    """The click option of one criterion (its value under the criterion's attribute)."""
    kind: Any = str
    if criterion.choices:
        kind = click.Choice(criterion.choices)
    elif criterion.kind is Kind.INT:
        # A track id's bound only keeps the API's integers in SQLite's range; in the help it
        # would be a 19-digit number, and an id that large is simply unknown here.
        maximum = None if criterion.maximum == MAX_TRACK_ID else criterion.maximum
        kind = click.IntRange(criterion.minimum, maximum)
    return click.option(*criterion.flags, criterion.attr, type=kind, help=criterion.help,
                        multiple=criterion.repeatable, default=criterion.default,
                        show_default=criterion.default not in (None, 0))


def criteria_options(command: FC) -> FC:
    """Add one click option per search criterion (``CRITERIA``, in its order)."""
    for criterion in reversed(CRITERIA):
        command = _option(criterion)(command)
    return command


@click.command()
@case_option
@criteria_options
@click.option("--tz", "tz_name", metavar="ZONE",
              help="Operator's time zone (IANA): --from/--to without an offset, times in "
                   "--text (\"hier entre 14h et 16h\") and the start column [default: the "
                   "group's --tz, else site.time_zone, else the cameras' common zone, else "
                   "Europe/Paris].")
@click.option("--lang", type=click.Choice(["fr", "en"]),
              help="Language of the \"understood\" lines [default: the group's --lang, else fr "
                   "in Europe/Paris, else en].")
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON (times in the "
              "camera's zone, plus start_local/end_local in the operator's).")
@click.pass_context
def search(ctx: click.Context, /, case_ref: str | None, tz_name: str | None,
           lang: str | None, as_json: bool, **criteria: Any) -> None:
    """Find sightings by camera, time, object type, colours, accessory, plate; best first.
    Only inside the case's scope, and journalled.

    Structured options win over what --text says about the same field. Times without an
    offset are read in the operator's zone whichever --camera comes first.
    """
    with open_services(ctx) as svc:
        zone_name = operator_zone(ctx, svc, tz_name)
        lang = lang or (ctx.obj or {}).get("lang") or operator_lang(zone_name)
        ctx.ensure_object(dict)
        ctx.obj["lang"] = lang  # open_services words a search error in it
        request = SearchRequest.from_values(criteria, operator_zone=zone_name)
        offset = request.offset
        actor, case = in_case(ctx, svc, case_ref, "search")
        outcome = svc.search(request, lang=lang, wording=CLI_WORDING,
                             case=case, actor=actor)
        built, result = outcome.built, outcome.result
        interpretation = built.reading()
        words = _WORDS[lang]
        if built.text_unparsed and not as_json:
            console.print(styled((words["unparsed"], "yellow")))
        if interpretation is not None and not as_json:
            console.print(styled((words["understood"], "bold"),
                                 f" {interpretation['describe']}"))
            for notice in built.notices:
                console.print(styled((notice, "yellow")))
            line = ignored_line(built, lang)
            if line:
                console.print(styled((line, "yellow")))
            ranked = [w for w in interpretation["unknown"] if w not in built.ignored]
            if ranked:
                console.print(f"{words['ranked']} {', '.join(ranked)}", highlight=False)

        def text() -> None:
            if not result.hits:
                reason = result.empty_reason()
                console.print(f"{words['no_hits']} {reason.worded(lang) if reason else ''}")
                return
            t = Table("#", words["score"], words["camera"], words["start"], words["dur"],
                      words["object"], "attributes", words["plate"], words["seen"], "track")
            for i, h in enumerate(result.hits, start=offset + 1):
                attrs = " ".join(f"{k}={v}({c:.2f})" for k, (v, c) in sorted(h.attributes.items()))
                t.add_row(str(i), f"{h.score:.2f}", h.camera, _start(h, zone_name, lang),
                          f"{(h.end - h.start).total_seconds():.1f}s", h.object, attrs,
                          _plates(h), _seen(h, lang), str(h.track_id))
            console.print(t)

        payload: dict[str, Any] = {
            "hits": [{**hit_json(h), "start_local": local_iso(h.start, zone_name),
                      "end_local": local_iso(h.end, zone_name)} for h in result.hits],
            "why_empty": result.why_empty()}
        if interpretation is not None:
            payload["interpretation"] = interpretation
        emit(as_json, payload, text)



#: The command's own lines, in ``--lang``.
_WORDS: dict[str, dict[str, str]] = {
    "fr": {"understood": "compris :",
           "unparsed": "l'analyse du texte libre n'est pas disponible : le texte est cherché "
                       "tel quel",
           "ranked": "non compris, gardé pour la ressemblance image :",
           "no_hits": "aucun résultat :", "score": "score", "camera": "caméra",
           "start": "début", "dur": "durée", "object": "objet", "plate": "plaque",
           "seen": "vu"},
    "en": {"understood": "understood:",
           "unparsed": "free-text parsing is not available: the text is searched as is",
           "ranked": "not understood, kept for image matching:",
           "no_hits": "no hits:", "score": "score", "camera": "camera", "start": "start",
           "dur": "dur", "object": "object", "plate": "plate", "seen": "seen"},
}


def _start(hit: Hit, zone: str, lang: str) -> str:
    """The "start" column: the operator's time, then the camera's where its zone differs."""
    shown = show_time(hit.start, zone, lang)
    tz = hit.start.tzinfo
    note = camera_note(hit.start, zone, tz.key, lang) if isinstance(tz, ZoneInfo) else ""
    return f"{shown}\n({note})" if note else shown


def _seen(hit: Hit, lang: str) -> str:
    """The "seen" column: how many fragments the object has and the seconds they cover."""
    if hit.seen_count <= 1:
        return "une fois" if lang == "fr" else "once"
    times = "fois" if lang == "fr" else "times"
    return f"{hit.seen_count} {times}, {hit.total_duration_s or 0.0:.1f}s"


def _plates(hit: Hit) -> str:
    """The "plate" column: the shown fragment's read, then the object's other reads."""
    best = hit.plate
    others = [p for p in hit.plates if best is None or p != best.text]
    shown = " / ".join([*([f"{best.text} ({best.confidence:.2f})"] if best else []), *others])
    note = approximate_note(hit.plate_match)
    return f"{shown}\n({note})" if note else shown


def approximate_note(match: PlateMatch | None) -> str:
    """"approximate: ..." when the plate pattern fitted only with differing characters or a
    runner-up read; empty for an exact match or without a pattern."""
    if match is None or not match.approximate:
        return ""
    parts = []
    if match.edits:
        parts.append(f"{match.edits} character{'s' if match.edits > 1 else ''} "
                     f"differ{'' if match.edits > 1 else 's'}")
    if match.alternative:
        parts.append(f"runner-up read {match.read}")
    return "approximate: " + ", ".join(parts)
