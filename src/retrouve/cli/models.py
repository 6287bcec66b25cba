"""``retrouve models …``: install, list, verify and remove model packs.

Packs live in ``DATA_DIR/models`` (see ``docs/model-packs.md``). Exit codes as everywhere:
0 success; 1 ``verify`` found damaged files; 2 bad input (unreadable or refused pack, bad
checksum, unknown name).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from rich.table import Table

from retrouve.cli.io import console, emit, err, fail
from retrouve.config import load_settings
from retrouve.errors import RetrouveError
from retrouve.vision.packs.registry import PackRegistry, packs_dir, verify


@contextmanager
def _registry(ctx: click.Context) -> Iterator[PackRegistry]:
    # Mirrors io.open_services, without opening the database: packs are files only.
    try:
        settings = load_settings(data_dir=(ctx.obj or {}).get("data_dir"))
        yield PackRegistry(packs_dir(settings))
    except RetrouveError as exc:
        fail(str(exc))


@click.group()
def models() -> None:
    """Install and manage model packs (stronger detectors, classifiers, CLIP embedders).

    A pack is a folder, .zip or .tar.gz holding ONNX files and a manifest.json that pins each
    file's SHA-256; nothing is installed unless every checksum matches. See
    docs/model-packs.md for the format.

    \b
    Examples:
      retrouve models install /media/usb/yolov8s-coco-1.0.zip
      retrouve models list
      retrouve models verify yolov8s-coco
    """


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_list(ctx: click.Context, as_json: bool) -> None:
    """List installed packs; 'active' marks the pack that serves each task."""
    with _registry(ctx) as reg:
        listed = reg.listing()

        def text() -> None:
            if not listed:
                console.print("no model packs installed (retrouve models install PATH_OR_URL)")
                return
            t = Table("name", "version", "task", "format", "attribute", "licence", "active")
            for entry in listed:
                m = entry.pack.manifest
                t.add_row(m.name, m.version, m.task, m.format, m.attribute or "", m.licence,
                          "yes" if entry.active else "")
            console.print(t)

        emit(as_json, [{**e.pack.to_json(), "active": e.active} for e in listed], text)


@models.command("install")
@click.argument("source", metavar="PATH_OR_URL")
@click.option("--replace", is_flag=True, help="Reinstall a pack of the same name and version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_install(ctx: click.Context, source: str, replace: bool, as_json: bool) -> None:
    """Install a pack from a folder, a .zip/.tar.gz file or an http(s):// URL.

    Every file is checked against the manifest's SHA-256 before the pack becomes visible;
    a pack that fails a check leaves nothing installed.
    """
    with _registry(ctx) as reg:
        # The CLI is the edge where the wall clock is read (rules of the house).
        pack = reg.install(source, replace=replace, now=datetime.now(UTC))
        emit(as_json, pack.to_json(), lambda: console.print(
            f"installed {pack.name} {pack.version} ({pack.task}/{pack.manifest.format}) "
            f"into {pack.path}", highlight=False))


@models.command("remove")
@click.argument("name")
@click.option("--version", "version", help="Only this version [default: every version].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def models_remove(ctx: click.Context, name: str, version: str | None, as_json: bool) -> None:
    """Delete the installed pack NAME."""
    with _registry(ctx) as reg:
        gone = reg.remove(name, version)
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
                console.print(f"{pack.name} {pack.version}: {len(pack.manifest.files)} files "
                              "intact", highlight=False)
            for p in problems:
                err.print(f"[red]damaged[/] {pack.name} {pack.version}: {p}", highlight=False)

        emit(as_json, {"name": pack.name, "version": pack.version, "ok": not problems,
                        "problems": problems}, text)
    if problems:
        sys.exit(1)
