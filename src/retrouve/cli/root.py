"""The ``retrouve`` group: global options (``--data-dir``, ``--user``, ``--tz``, ``--lang``,
``-v``, ``--version``) and logging.

The command modules define their commands apart; ``retrouve.cli`` adds them to this group, so
no command module imports another's and nothing here imports a command.

Exit codes: 0 success; 1 done but some files or units failed; 2 bad input (unknown camera,
malformed query, refused source…); 130 interrupted (Ctrl-C; the analysis resumes next time).
"""

from __future__ import annotations

import getpass
import logging
from pathlib import Path

import click

from retrouve import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="retrouve")
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="RETROUVE_DATA_DIR",
              help="Where the index, thumbnails and logs live [default: RETROUVE_DATA_DIR, "
                   "data_dir in the settings file, else ~/.local/share/retrouve].")
@click.option("--user", envvar="RETROUVE_USER", default=getpass.getuser, show_default="OS user",
              help="Who acts (journalled): an account's name; without accounts, the local "
                   "user acts as supervisor.")
@click.option("--tz", "zone", metavar="ZONE",
              help="Operator time zone (IANA, e.g. Europe/Paris) that times are shown and "
                   "typed times read in [default: site.time_zone, else the cameras' common "
                   "zone, else Europe/Paris].")
@click.option("--lang", type=click.Choice(["fr", "en"]),
              help="Language of what commands say about a search (\"understood\", ignored "
                   "words, fallbacks, hits) and of search errors [default: fr in Europe/Paris, "
                   "else en].")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, user: str, zone: str | None,
        lang: str | None, verbose: int) -> None:
    """Retrouve: search recorded CCTV footage by object type and colour.

    \b
    Typical session:
      retrouve cameras add cam-12 --name "Place de la Gare" --timezone Europe/Paris
      retrouve ingest /exports/cam-12/ --camera cam-12
      retrouve cases create PV-2026-1 --basis 60-1 --procedure 2026/1 \\
          --authority "OPJ Martin" --purpose "vol" --assign $USER \\
          --scope cam-12:2026-01-04T10:00+01:00/2026-01-04T12:00+01:00
      retrouve analyse --case PV-2026-1
      retrouve search --case PV-2026-1 --camera cam-12 --object car --colour white

    Recorded footage only: live streams (rtsp://, http://, devices) are refused.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(logging.DEBUG, level),
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj["user"] = user
    ctx.obj["zone"] = zone
    ctx.obj["lang"] = lang
