"""``retrouve parse``: show how a free-text query is read, without searching.

It opens no database and loads no models, just the parser. The wall clock is read here, at
the edge.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import cast
from zoneinfo import ZoneInfo

import click
from rich.table import Table
from rich.text import Text

from retrouve.cli.io import console, fail, operator_zone
from retrouve.errors import QueryError
from retrouve.search.text_query import ParsedText, parse_text
from retrouve.search.text_vocab import Lang


def _print(parsed: ParsedText, lang: Lang | None) -> None:
    console.print(parsed.describe(lang), highlight=False)
    table = Table("words", "field", "value", "note")
    for item in parsed.interpretation:
        words = " ".join(item.words) or "(implied)"
        value = item.value if item.value is not None else ""
        field = (Text(item.field) if item.applied
                 else Text(f"{item.field} (not applied)", style="dim"))
        table.add_row(words, field, value, item.note)
    if parsed.interpretation:
        console.print(table)
    if parsed.unknown:
        console.print(f"not understood: {', '.join(parsed.unknown)}", highlight=False)
    if parsed.residual_text:
        console.print(f"free text left for image matching: {parsed.residual_text!r}",
                      highlight=False)


@click.command("parse")
@click.argument("text", nargs=-1, required=True)
@click.option("--tz", "zone", metavar="ZONE",
              help="Operator's time zone (IANA): 'hier', '14h'… are read in it [default: the "
                   "group's --tz, else site.time_zone, else Europe/Paris].")
@click.option("--lang", type=click.Choice(["fr", "en"]),
              help="Language of the text and of the summary [default: detected].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the eval query keys, ISO "
              "times, interpretation, unknown words).")
@click.pass_context
def parse(ctx: click.Context, text: tuple[str, ...], zone: str | None, lang: str | None,
          as_json: bool) -> None:
    """Show how the free-text query TEXT maps onto search fields (French or English).

    \b
    Examples:
      retrouve parse "camionnette blanche plaque FG*"
      retrouve parse man in brown jacket with a black bag --json
      retrouve parse "voiture grise hier entre 14h et 16h" --tz Europe/Paris

    Words that were not understood are listed; nothing is searched. Exit code 2 when the
    text has nothing to search for or a time window ends before it starts.
    """
    tz = ZoneInfo(operator_zone(ctx, None, zone))
    chosen = cast(Lang | None, lang or (ctx.obj or {}).get("lang"))
    try:
        parsed = parse_text(" ".join(text), now=datetime.now(UTC), tz=tz, lang=chosen)
    except QueryError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(parsed.to_json(), indent=2, ensure_ascii=False))
    else:
        _print(parsed, chosen)
