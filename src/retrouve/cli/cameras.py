"""``retrouve cameras …``: register and list cameras."""

from __future__ import annotations

import click
from rich.table import Table

from retrouve.cli.io import console, emit, open_services, shell_user
from retrouve.domain import Camera


@click.group()
def cameras() -> None:
    """Register and list cameras."""


@cameras.command("add")
@click.argument("camera_id")
@click.option("--name", help="Human name (defaults to the id).")
@click.option("--timezone", "tz", default="Europe/Paris", show_default=True,
              help="IANA time zone of the camera's clock.")
@click.option("--lat", type=float, help="Latitude (WGS84 degrees).")
@click.option("--lon", type=float, help="Longitude (WGS84 degrees).")
@click.option("--address", help="Postal address or description of the place.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def cameras_add(ctx: click.Context, camera_id: str, name: str | None, tz: str,
                lat: float | None, lon: float | None, address: str | None,
                as_json: bool) -> None:
    """Register CAMERA_ID (no-op if it exists with the same details). Journalled
    (``camera-change``) as the shell user, as the admin page's registrations are."""
    with open_services(ctx, create=True) as svc:
        cam = Camera(camera_id, name or camera_id, tz, lat, lon, address)
        created = svc.cameras.add(cam, by=shell_user(ctx, svc))
        emit(as_json, {"camera": cam.__dict__, "created": created},
              lambda: console.print(f"camera {camera_id} {'added' if created else 'unchanged'}"))


@cameras.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def cameras_list(ctx: click.Context, as_json: bool) -> None:
    """List registered cameras."""
    with open_services(ctx) as svc:
        cams = svc.store.list_cameras()

        def text() -> None:
            t = Table("id", "name", "time zone", "location")
            for c in cams:
                loc = c.address or (f"{c.latitude}, {c.longitude}" if c.latitude else "")
                t.add_row(c.id, c.name, c.timezone, loc)
            console.print(t)

        emit(as_json, [c.__dict__ for c in cams], text)
