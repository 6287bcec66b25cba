"""The ``retrouve`` group: global options (``--data-dir``, ``-v``, ``--version``) and logging.

The command modules define their commands apart; ``retrouve.cli`` adds them to this group, so
no command module imports another's and nothing here imports a command.

Exit codes: 0 success; 1 done but some files or units failed; 2 bad input (unknown camera,
malformed query, refused source…); 130 interrupted (Ctrl-C; the analysis resumes next time).
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from retrouve import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="retrouve")
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="RETROUVE_DATA_DIR",
              help="Where the index, thumbnails and logs live [default: ./retrouve-data].")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, verbose: int) -> None:
    """Retrouve: search recorded CCTV footage by object type and colour.

    \b
    Typical session:
      retrouve cameras add cam-12 --name "Place de la Gare" --timezone Europe/Paris
      retrouve ingest /exports/cam-12/ --camera cam-12
      retrouve analyse
      retrouve search --camera cam-12 --object car --colour white

    Recorded footage only: live streams (rtsp://, http://, devices) are refused.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(logging.DEBUG, level),
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
