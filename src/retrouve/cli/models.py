"""``retrouve models …``: the catalogue of recommended packs; install (from a pack, or a
catalogue pack from a folder or by download), list, verify and remove model packs.

Packs live in ``DATA_DIR/models`` (see ``docs/model-packs.md``). Exit codes as everywhere:
0 success; 1 ``verify`` found damaged files; 2 bad input (unreadable or refused pack, bad
checksum, unknown name, failed or interrupted download).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from retrouve.cli.io import (
    check_data_dir,
    console,
    counted,
    emit,
    err,
    fail,
    open_services,
    shell_user,
    styled,
)
from retrouve.config import load_settings
from retrouve.errors import RetrouveError
from retrouve.legal import journal as j
from retrouve.vision.packs.catalogue import load_catalogue
from retrouve.vision.packs.catalogue_install import fetch_pack, install_from_folder
from retrouve.vision.packs.registry import (
    InstalledPack,
    PackRegistry,
    contributes,
    packs_dir,
    verify,
)


@contextmanager
def _registry(ctx: click.Context, *, create: bool = False,
              missing_ok: bool = False) -> Iterator[PackRegistry]:
    # Mirrors io.open_services, without opening the database: packs are files only. Only
    # installing a pack may create a missing data folder (and says so); listing, verifying
    # or removing packs of a folder that does not exist is the wrong --data-dir. The
    # catalogue (``missing_ok``) reads it only to say what is installed: none, there.
    try:
        settings = load_settings(data_dir=(ctx.obj or {}).get("data_dir"))
        if not (missing_ok and not settings.data_dir.exists()):
            check_data_dir(settings, create=create)
        yield PackRegistry(packs_dir(settings))
    except RetrouveError as exc:
        fail(str(exc), exc.exit_code)


@click.group()
def models() -> None:
    """Install and manage model packs (stronger detectors, classifiers, CLIP embedders).

    A pack is a folder, .zip or .tar.gz holding ONNX files and a manifest.json that pins each
    file's SHA-256; nothing is installed unless every checksum matches. See
    docs/model-packs.md for the format.

    \b
    Examples:
      retrouve models catalogue
      retrouve models install person-vehicle-bike-detection-2004 --from /media/usb
      retrouve models fetch person-vehicle-bike-detection-2004 --mirror https://mirror.lan/omz
      retrouve models install /media/usb/yolov8s-coco-1.0.zip
      retrouve models list
      retrouve models verify yolov8s-coco
    """


@models.command("catalogue")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_catalogue(ctx: click.Context, as_json: bool) -> None:
    """The recommended packs: what each is, its role, runtime and format, where its files come
    from, and whether it is installed."""
    with _registry(ctx, missing_ok=True) as reg:
        entries = load_catalogue().packs
        installed: dict[str, list[str]] = {}
        for p in reg.list():
            installed.setdefault(p.name, []).append(p.version)

        def text() -> None:
            t = Table("name", "role", "runtime/format", "sources (version)", "installed")
            for e in entries:
                t.add_row(e.name, e.role, f"{e.runtime}/{e.format}",
                          ", ".join(f"{s.id} ({s.version})" for s in e.sources),
                          ", ".join(installed.get(e.name, [])))
            console.print(t)
            console.print("install: retrouve models install NAME --from DIR, or "
                          "retrouve models fetch NAME [--mirror URL]", highlight=False)

        emit(as_json, [{**e.to_json(), "runtime": e.runtime, "format": e.format,
                        "installed": installed.get(e.name, [])} for e in entries], text)


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_list(ctx: click.Context, as_json: bool) -> None:
    """List installed packs, the role each plays and what it contributes; 'active' marks the
    pack serving each role (one per role, several roles at once)."""
    with _registry(ctx) as reg:
        listed = reg.listing()

        def text() -> None:
            if not listed:
                console.print("no model packs installed (retrouve models install PATH_OR_URL)")
                return
            t = Table("name", "version", "role", "format", "contributes", "licence", "active")
            for entry in listed:
                m = entry.pack.manifest
                t.add_row(m.name, m.version, entry.pack.role or f"({m.task})", m.format,
                          ", ".join(contributes(m)), m.licence, "yes" if entry.active else "")
            console.print(t)

        emit(as_json, [{**e.pack.to_json(), "active": e.active} for e in listed], text)


def _journal(ctx: click.Context, change: str, pack: InstalledPack) -> None:
    """Journal a pack installed or removed, with every file's SHA-256. The files are on
    disk, outside the database's transaction: the entry is written right after the change
    and a failure to write it fails the command (the change is then reported, not hidden)."""
    with open_services(ctx) as svc:
        user, role = shell_user(ctx, svc)
        event = j.PackChanged(change=change, pack=pack.name, version=pack.version,
                              task=pack.task, source=pack.source,
                              files=tuple(sorted(pack.manifest.files.items())))
        with svc.journal.action_as(user, role, event, f"journal the pack {pack.name}"):
            pass


def _installed(ctx: click.Context, as_json: bool, pack: InstalledPack) -> None:
    _journal(ctx, "install", pack)
    emit(as_json, pack.to_json(), lambda: console.print(
        f"installed {pack.name} {pack.version} ({pack.task}/{pack.manifest.format}) "
        f"into {pack.path}", highlight=False))


@models.command("install")
@click.argument("source", metavar="PATH_OR_URL_OR_NAME")
@click.option("--from", "from_dir", type=click.Path(path_type=Path),
              help="Install the catalogue pack NAME from the files in this folder (USB stick).")
@click.option("--source", "source_id", help="With --from: only this catalogue source.")
@click.option("--replace", is_flag=True, help="Reinstall a pack of the same name and version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_install(ctx: click.Context, source: str, from_dir: Path | None,
                   source_id: str | None, replace: bool, as_json: bool) -> None:
    """Install a pack from a folder, a .zip/.tar.gz file or an http(s):// URL; or, with
    --from DIR, the catalogue pack NAME from its files found by name in DIR.

    Every file is checked (the manifest's SHA-256, or the catalogue's digest) before the pack
    becomes visible; a pack that fails a check leaves nothing installed.
    """
    if source_id is not None and from_dir is None:
        fail("--source needs --from (or use retrouve models fetch NAME --source ID)", 2)
    with _registry(ctx, create=True) as reg:
        # The CLI is the edge where the wall clock is read (rules of the house).
        if from_dir is not None:
            pack = install_from_folder(reg, load_catalogue().get(source), from_dir,
                                       source_id=source_id, replace=replace,
                                       now=datetime.now(UTC))
        else:
            pack = reg.install(source, replace=replace, now=datetime.now(UTC))
        _installed(ctx, as_json, pack)


@models.command("fetch")
@click.argument("name")
@click.option("--mirror", help="Base URL of a site mirror with the same layout as the "
              "OMZ downloader output (intel/MODEL/PRECISION/FILE).")
@click.option("--source", "source_id", help="Only this catalogue source.")
@click.option("--replace", is_flag=True, help="Reinstall a pack of the same name and version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_fetch(ctx: click.Context, name: str, mirror: str | None, source_id: str | None,
                 replace: bool, as_json: bool) -> None:
    """Download the catalogue pack NAME (upstream URLs, or --mirror), verify every file and
    install it. An interrupted download resumes on the next fetch; nothing is installed until
    every file verifies."""
    with _registry(ctx, create=True) as reg:
        pack = fetch_pack(reg, load_catalogue().get(name), mirror=mirror,
                          source_id=source_id, replace=replace, now=datetime.now(UTC))
        _installed(ctx, as_json, pack)


@models.command("remove")
@click.argument("name")
@click.option("--version", "version", help="Only this version [default: every version].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_remove(ctx: click.Context, name: str, version: str | None, as_json: bool) -> None:
    """Delete the installed pack NAME."""
    with _registry(ctx) as reg:
        gone = reg.remove(name, version)
    for p in gone:
        _journal(ctx, "remove", p)
    emit(as_json, {"removed": [{"name": p.name, "version": p.version} for p in gone]},
         lambda: console.print("removed " + ", ".join(f"{p.name} {p.version}"
                                                      for p in gone), highlight=False))


@models.command("verify")
@click.argument("name")
@click.option("--version", "version", help="This version [default: the latest installed].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_verify(ctx: click.Context, name: str, version: str | None, as_json: bool) -> None:
    """Re-hash every file of pack NAME against its manifest (exit 1 if any differs)."""
    with _registry(ctx) as reg:
        pack = reg.get(name, version)
        problems = verify(pack)

        def text() -> None:
            if not problems:
                console.print(f"{pack.name} {pack.version}: "
                              f"{counted(len(pack.manifest.files), 'file', 'files')} intact",
                              highlight=False)
            for p in problems:
                err.print(styled(("damaged", "red"), f" {pack.name} {pack.version}: {p}"),
                          highlight=False)

        emit(as_json, {"name": pack.name, "version": pack.version, "ok": not problems,
                        "problems": problems}, text)
    if problems:
        sys.exit(1)
