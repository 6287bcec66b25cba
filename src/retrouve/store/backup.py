"""A consistent snapshot of an installation, taken while it runs, and its restoration.

A backup folder holds:

* ``retrouve.db`` — SQLite's online backup of the database (``sqlite3.Connection.backup``:
  a page-by-page copy that sees one committed state, whatever writers do meanwhile), or
  ``database.dump`` — ``pg_dump --format=custom`` for PostgreSQL (one transaction snapshot);
* ``blobs/`` — the blob folder (thumbnails, stills), copied *after* the database snapshot:
  a blob is written before the row that names it commits, so every blob the snapshot refers
  to is already there (a blob written later is an unreferenced extra, harmless);
* ``keys/`` — the installation's journal signing key (without it, the journal's checkpoints
  could not be extended after a restore);
* ``backup.json`` — what was taken, when, and the SHA-256 of every file, checked before any
  restore (a damaged backup is refused, naming the file).

Footage files are not copied: they are the site's originals (their SHA-256 is in the
database; the export re-checks them).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from retrouve.digest import sha256_file
from retrouve.errors import BackupError

MANIFEST = "backup.json"
SQLITE_FILE = "retrouve.db"
PG_DUMP = "database.dump"
FORMAT = 1


@dataclass(frozen=True)
class BackupResult:
    """A backup taken into ``path``: its files (relative POSIX paths) and their SHA-256."""

    path: Path
    database: str  # "sqlite" or "postgresql"
    files: dict[str, str]


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, None for another database (or an in-memory one)."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url.removeprefix("sqlite:///"))
    return None


def _pg_dsn(url: str) -> str:
    # libpq wants postgresql://…; SQLAlchemy's driver suffix (+psycopg) is not part of it.
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def _copy_tree(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p)
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != MANIFEST}


def take_backup(db_url: str, data_dir: Path, blob_dir: Path, dest: Path, now: datetime,
                version: str) -> BackupResult:
    """Snapshot the database behind ``db_url``, then ``blob_dir`` and ``data_dir/keys``, into
    the new folder ``dest`` (refused if it exists). On failure nothing is left at ``dest``."""
    if dest.exists():
        raise BackupError(f"backup destination {dest} already exists: give a new folder")
    staging = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        staging.mkdir(parents=True)
        sqlite_file = _sqlite_path(db_url)
        if sqlite_file is not None:
            if not sqlite_file.is_file():
                raise BackupError(f"no database at {sqlite_file}")
            kind = "sqlite"
            src = sqlite3.connect(sqlite_file)
            out = sqlite3.connect(staging / SQLITE_FILE)
            try:
                with out:
                    src.backup(out)
            finally:
                out.close()
                src.close()
        elif db_url.startswith("postgres"):
            kind = "postgresql"
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={staging / PG_DUMP}",
                  _pg_dsn(db_url)], "pg_dump")
        else:
            raise BackupError(f"cannot back up database {db_url.split('://', 1)[0]}: "
                              "SQLite and PostgreSQL only")
        _copy_tree(blob_dir, staging / "blobs")
        _copy_tree(data_dir / "keys", staging / "keys")
        files = _hashes(staging)
        (staging / MANIFEST).write_text(json.dumps(
            {"format": FORMAT, "taken_at": now.isoformat(), "software_version": version,
             "database": kind, "files": files}, indent=2), encoding="utf-8")
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupResult(dest, kind, files)


def check_backup(src: Path) -> dict[str, Any]:
    """The manifest of backup ``src`` once every file matches it; else :class:`BackupError`
    naming the missing, altered or unexpected file."""
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a Retrouve backup (no readable {MANIFEST}): {exc}"
                          ) from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src}: unknown backup format {manifest.get('format')!r}")
    found = _hashes(src)
    for name, digest in manifest["files"].items():
        if name not in found:
            raise BackupError(f"{src}: {name} is missing")
        if found[name] != digest:
            raise BackupError(f"{src}: {name} was altered (SHA-256 differs)")
    extra = sorted(set(found) - set(manifest["files"]))
    if extra:
        raise BackupError(f"{src}: {extra[0]} was added after the backup")
    return manifest


def restore_backup(src: Path, db_url: str, data_dir: Path, blob_dir: Path,
                   force: bool = False) -> dict[str, Any]:
    """Bring backup ``src`` back into this installation (checked first). Refused when the
    installation already has a database, unless ``force`` (the current one is then replaced;
    for SQLite it is kept beside as ``retrouve.db.before-restore``). The server must be
    stopped. Returns the backup's manifest."""
    manifest = check_backup(src)
    kind = manifest["database"]
    sqlite_file = _sqlite_path(db_url)
    if kind == "sqlite":
        if sqlite_file is None:
            raise BackupError("this backup holds a SQLite database; the installation uses "
                              "another database (restore it into a SQLite installation)")
        if sqlite_file.exists():
            if not force:
                raise BackupError(f"{sqlite_file} exists: stop the server and pass --force "
                                  "to replace it")
            sqlite_file.replace(sqlite_file.with_name(sqlite_file.name + ".before-restore"))
            for side in ("-wal", "-shm"):
                Path(f"{sqlite_file}{side}").unlink(missing_ok=True)
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / SQLITE_FILE, sqlite_file)
    else:
        if not db_url.startswith("postgres"):
            raise BackupError("this backup holds a PostgreSQL dump; the installation uses "
                              "another database")
        if not force:
            raise BackupError("restoring a PostgreSQL dump replaces the database's content: "
                              "stop the server and pass --force")
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner",
              f"--dbname={_pg_dsn(db_url)}", str(src / PG_DUMP)], "pg_restore")
    _copy_tree(src / "blobs", blob_dir)
    _copy_tree(src / "keys", data_dir / "keys")
    return manifest


def _run(argv: list[str], tool: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{tool} not found: install PostgreSQL's client tools") from exc
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[:500]}")
