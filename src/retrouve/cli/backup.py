"""``retrouve backup DEST`` and ``retrouve restore SRC``: a consistent snapshot of the
database, blobs and signing key taken while the server runs, and its restoration (see
``store/backup.py``). Both are journalled."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from retrouve import __version__
from retrouve.cli.io import (
    check_data_dir,
    console,
    counted,
    emit,
    fail,
    open_services,
    shell_user,
)
from retrouve.config import load_settings
from retrouve.errors import RetrouveError
from retrouve.legal import journal as j
from retrouve.store.backup import restore_backup, take_backup


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def backup(ctx: click.Context, dest: Path, as_json: bool) -> None:
    """Snapshot the database (SQLite online backup, or pg_dump), the blob folder and the
    journal key into the new folder DEST, while the server may run. Footage files are not
    copied (they are the site's originals)."""
    with open_services(ctx) as svc:
        s = svc.settings
        result = take_backup(s.db_url, s.data_dir, s.blob_dir, dest, svc.clock(), __version__)
        user, role = shell_user(ctx, svc)
        event = j.BackupChanged(change="taken", where=str(dest), database=result.database,
                                files=len(result.files), taken_at=svc.clock().isoformat())
        with svc.journal.action_as(user, role, event, "journal the backup"):
            pass
        emit(as_json, {"path": str(dest), "database": result.database,
                       "files": len(result.files)},
             lambda: console.print(f"backup of the {result.database} database, "
                                   f"{counted(len(result.files), 'file', 'files')}, in {dest}",
                                   highlight=False))


@click.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace the installation's database (stop the "
              "server first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def restore(ctx: click.Context, src: Path, force: bool, as_json: bool) -> None:
    """Check the backup SRC (every file against its manifest), then bring it back into this
    installation's data folder and database. The server must be stopped."""
    try:
        s = load_settings(data_dir=(ctx.obj or {}).get("data_dir"))
        check_data_dir(s, create=True)
        manifest = restore_backup(src, s.db_url, s.data_dir, s.blob_dir, force=force)
    except RetrouveError as exc:
        fail(str(exc), exc.exit_code)
    with open_services(ctx) as svc:
        user, role = shell_user(ctx, svc)
        event = j.BackupChanged(change="restored", where=str(src),
                                database=manifest["database"], files=len(manifest["files"]),
                                taken_at=str(manifest["taken_at"]))
        with svc.journal.action_as(user, role, event, "journal the restore"):
            pass
    emit(as_json, {"restored": str(src), "taken_at": manifest["taken_at"],
                   "database": manifest["database"], "files": len(manifest["files"]),
                   "at": datetime.now(UTC).isoformat()},
         lambda: console.print(f"restored the backup of {manifest['taken_at']} from {src}",
                               highlight=False))
