"""``retrouve search``: find sightings by camera, time, object, colours, accessory, plate, text.

The request assembly (``_parse_time``, building the ``Query`` from the options,
``_apply_text``) is kept as it was: ``search/request.py`` replaces it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from retrouve.cli.io import console, emit, open_services
from retrouve.domain import ACCESSORIES, COLOURS, QUERY_OBJECTS, Query
from retrouve.errors import QueryError
from retrouve.search.engine import parse_wall_time


def _parse_time(text: str | None, zone: str | None, what: str) -> datetime | None:
    return parse_wall_time(text, zone, what, "a --camera")


@click.command()
@click.option("--camera", "cameras_", multiple=True, help="Camera id (repeatable).")
@click.option("--from", "time_from", help="Start of the window, ISO-8601 (camera time if no "
              "offset).")
@click.option("--to", "time_to", help="End of the window, ISO-8601.")
@click.option("--object", "object_", type=click.Choice(sorted(QUERY_OBJECTS)),
              help="Object type; 'vehicle' = any motor vehicle.")
@click.option("--colour", "--color", "colour", type=click.Choice(COLOURS),
              help="Vehicle body colour.")
@click.option("--upper", type=click.Choice(COLOURS), help="Upper-body clothing colour.")
@click.option("--lower", type=click.Choice(COLOURS), help="Lower-body clothing colour.")
@click.option("--accessory", type=click.Choice(ACCESSORIES),
              help="Object a person carries ('handbag' = any hand-carried bag).")
@click.option("--plate", help="Plate pattern: ? = one character, * = any run (FG*, *75, "
              "AB?12*); case, spaces and dashes ignored; tolerant to OCR confusions.")
@click.option("--make", help="Vehicle make (needs a make/model classifier pack).")
@click.option("--model", "model_", help="Vehicle model (needs a make/model classifier pack).")
@click.option("--text", "free_text", help="Free text in French or English, e.g. "
              "\"camionnette blanche plaque FG*\"; its interpretation is printed.")
@click.option("--like", "like", type=int, help="Rank tracks by appearance similarity to this "
              "track id (find similar).")
@click.option("--tz", "tz_name", default="Europe/Paris", show_default=True,
              help="Operator's time zone for times in --text (\"hier entre 14h et 16h\").")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many hits.")
@click.option("--order", type=click.Choice(["score", "time"]), default="score",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
@click.pass_context
def search(ctx: click.Context, cameras_: tuple[str, ...], time_from: str | None,
           time_to: str | None, object_: str | None, colour: str | None, upper: str | None,
           lower: str | None, accessory: str | None, plate: str | None, make: str | None,
           model_: str | None, free_text: str | None, like: int | None, tz_name: str,
           limit: int, offset: int, order: str, as_json: bool) -> None:
    """Find sightings by camera, time, object type, colours, accessory, plate; best first.

    Structured options win over what --text says about the same field.
    """
    with open_services(ctx) as svc:
        zone = svc.store.require_camera(cameras_[0]).timezone if cameras_ else None
        query = Query(
            cameras=cameras_, time_from=_parse_time(time_from, zone, "--from"),
            time_to=_parse_time(time_to, zone, "--to"), object=object_, colour=colour,
            upper=upper, lower=lower, accessory=accessory, plate=plate, make=make,
            model=model_, like_track=like, limit=limit, offset=offset,
        )
        interpretation = None
        if free_text is not None:
            query, interpretation = _apply_text(query, free_text, svc.clock(), tz_name)
            if not as_json:
                console.print(f"[bold]understood:[/bold] {interpretation['describe']}")
                if interpretation["unknown"]:
                    console.print("[yellow]not understood:[/yellow] "
                                  + " ".join(interpretation["unknown"]))
        result = svc.searcher.search(query, order=order)

        def text() -> None:
            if not result.hits:
                console.print(f"no hits: {result.why_empty()}")
                return
            t = Table("#", "score", "camera", "start", "dur", "object", "attributes", "plate",
                      "track")
            for i, h in enumerate(result.hits, start=offset + 1):
                attrs = " ".join(f"{k}={v}({c:.2f})" for k, (v, c) in sorted(h.attributes.items()))
                t.add_row(str(i), f"{h.score:.2f}", h.camera, h.start.strftime("%Y-%m-%d %H:%M:%S"),
                          f"{(h.end - h.start).total_seconds():.1f}s", h.object, attrs,
                          f"{h.plate.text} ({h.plate.confidence:.2f})" if h.plate else "",
                          str(h.track_id))
            console.print(t)

        payload: dict[str, Any] = {"hits": [h.to_json() for h in result.hits],
                                   "empty_reason": result.why_empty()}
        if interpretation is not None:
            payload["interpretation"] = interpretation
        emit(as_json, payload, text)


def _apply_text(query: Query, text: str, now: datetime,
                tz_name: str) -> tuple[Query, dict[str, Any]]:
    """Merge free text into ``query`` (explicit options win); return it with its reading."""
    from retrouve.search.text_query import parse_text

    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        raise QueryError(f"unknown time zone {tz_name!r} (e.g. Europe/Paris)") from None
    parsed = parse_text(text, now=now, tz=tz)
    merged = parsed.to_query(query)
    reading = parsed.to_json()
    reading["describe"] = parsed.describe("fr" if tz_name.startswith("Europe/Paris") else "en")
    return merged, reading
