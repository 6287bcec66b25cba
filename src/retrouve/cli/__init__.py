"""Command line: thin commands that parse, make one service call, and print text or JSON.

``cli`` is the click group (``root.py``); each command group lives in its own module and is
added here, so the modules import ``root``/``io`` and never each other's commands.

Exit codes: 0 success; 1 done but some files or units failed; 2 bad input (unknown camera,
malformed query, refused source…); 3 an export request recorded that waits for a second
person's approval (``export create``); 130 interrupted (Ctrl-C; the analysis resumes next
time).
"""

from __future__ import annotations

from retrouve.cli import (
    analyse,
    backup,
    cameras,
    cases,
    demo,
    evaluate,
    export,
    footage,
    journal,
    models,
    parse,
    retention,
    search,
    serve,
    users,
)
from retrouve.cli.root import cli

for _command in (cameras.cameras, footage.ingest, footage.recordings, analyse.analyse,
                 search.search, evaluate.eval_, demo.demo, models.models, parse.parse,
                 serve.serve, users.users, cases.cases, journal.journal,
                 retention.retention, export.export, backup.backup, backup.restore):
    cli.add_command(_command)

#: The modules that define commands, for the tests that walk the group.
COMMAND_MODULES = (analyse, backup, cameras, cases, demo, evaluate, export, footage, journal,
                   models, parse, retention, search, serve, users)

__all__ = ["COMMAND_MODULES", "cli", "main"]


def main() -> None:
    """Console-script entry point (``retrouve``)."""
    cli(prog_name="retrouve")
