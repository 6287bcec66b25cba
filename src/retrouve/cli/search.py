"""``retrouve search``: find sightings by camera, time, object, colours, accessory, plate, text.

The options become a ``SearchRequest``; ``retrouve.search.request.build_query`` turns it into
the query (as for the web form and the API), and hits print in the ``HitOut`` schema.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from retrouve.cli.io import console, emit, open_services
from retrouve.domain import ACCESSORIES, COLOURS, QUERY_OBJECTS
from retrouve.search.request import CLI_WORDING, SearchRequest, operator_lang
from retrouve.search.schema import hit_json


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
    request = SearchRequest(
        cameras=cameras_, time_from=time_from, time_to=time_to, object=object_, colour=colour,
        upper=upper, lower=lower, accessory=accessory, plate=plate, make=make, model=model_,
        text=free_text, like=like, operator_zone=tz_name, limit=limit, offset=offset,
        order=order,
    )
    with open_services(ctx) as svc:
        outcome = svc.search(request, lang=operator_lang(tz_name), wording=CLI_WORDING)
        built, result = outcome.built, outcome.result
        interpretation = built.reading()
        if built.text_unparsed and not as_json:
            console.print("[yellow]free-text parsing is not available:[/yellow] "
                          "the text is searched as is")
        if interpretation is not None and not as_json:
            console.print(f"[bold]understood:[/bold] {interpretation['describe']}")
            if interpretation["unknown"]:
                console.print("[yellow]not understood:[/yellow] "
                              + " ".join(interpretation["unknown"]))

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

        payload: dict[str, Any] = {"hits": [hit_json(h) for h in result.hits],
                                   "why_empty": result.why_empty()}
        if interpretation is not None:
            payload["interpretation"] = interpretation
        emit(as_json, payload, text)

