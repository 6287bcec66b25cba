"""Cameras as an administrative act: registering one and editing its details, each change
and its ``camera-change`` journal entry in one store transaction (both or neither).

The checks are the catalogue's (:func:`retrouve.catalogue.ingest.check_camera`: the strict
id syntax, the case clash, the IANA zone, the position's range), so the CLI's
``retrouve cameras add`` and the admin page refuse the same things with the same words.
Editing keeps the id (it names recordings and thumbnail folders) and refuses to change the
time zone of a camera with recordings: their start times were read in the old zone at ingest
and would not follow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from retrouve.catalogue.ingest import Catalogue, check_camera
from retrouve.domain import Camera, Role
from retrouve.errors import CatalogueError, UnknownCameraError
from retrouve.legal import journal as j
from retrouve.legal.accounts import By, Recorder
from retrouve.legal.permissions import Right, require
from retrouve.store.db import Store


def _event(change: str, cam: Camera) -> j.CameraChanged:
    return j.CameraChanged(change=change, camera=cam.id, label=cam.name,
                           timezone=cam.timezone, latitude=cam.latitude,
                           longitude=cam.longitude, address=cam.address)


def _may_manage(by: By) -> None:
    """An account acting must hold ``manage-cameras``; ``system`` is the shell's
    administrator without an account (it already holds the database file)."""
    if by[1] != "system":
        require(by[0], Role(by[1]), Right.MANAGE_CAMERAS)


class CameraRegister:
    """Register and edit cameras, journalled as ``by`` (user name, role). ``clock`` gives
    aware 'now' times (the catalogue's)."""

    def __init__(self, store: Store, catalogue: Catalogue, journal: Recorder,
                 clock: Callable[[], datetime]) -> None:
        self.store, self.catalogue, self.journal, self.clock = store, catalogue, journal, clock

    def add(self, camera: Camera, by: By) -> bool:
        """Register ``camera`` (``Catalogue.add_camera``'s checks); False, and nothing
        journalled, when it already exists with the same details."""
        _may_manage(by)
        check_camera(camera, self.store.list_cameras())
        if self.store.get_camera(camera.id) == camera:
            return False
        with self.journal.action_as(by[0], by[1], _event("add", camera),
                                    f"add camera {camera.id!r}") as tx:
            return self.catalogue.add_camera(camera, tx)

    def edit(self, camera: Camera, by: By) -> Camera:
        """Replace the name, zone, position and address of the registered ``camera.id``;
        the camera as saved. Unchanged details journal nothing."""
        _may_manage(by)
        old = self.store.get_camera(camera.id)
        if old is None:
            raise UnknownCameraError(f"unknown camera {camera.id!r}",
                                     key="camera.unknown", params={"id": camera.id})
        check_camera(camera, self.store.list_cameras())
        if camera == old:
            return old
        if camera.timezone != old.timezone and self.store.camera_recording_count(camera.id):
            raise CatalogueError(
                f"camera {camera.id!r} has recordings: its time zone stays {old.timezone} "
                "(their start times were read in it at ingest)", key="camera.zone_locked",
                params={"id": camera.id, "zone": old.timezone})
        with self.journal.action_as(by[0], by[1], _event("edit", camera),
                                    f"edit camera {camera.id!r}") as tx:
            self.store.update_camera(camera, tx)
        return camera
