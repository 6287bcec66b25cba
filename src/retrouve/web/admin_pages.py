"""The admin pages: accounts (create, change role, reset password, disable or enable) and
cameras (register, edit name, zone, position, address), for the ``admin`` role only.

Every action calls the function the CLI calls (``Accounts.add`` / ``set_role`` /
``set_password`` / ``set_disabled`` of :mod:`retrouve.legal.accounts`, and
:class:`~retrouve.legal.camera_register.CameraRegister` for cameras), with ``by`` the admin
of the session: the rules and the journal entry (``user-add``, ``user-change``,
``camera-change``, naming the admin) are theirs, in the change's own transaction. The one
rule added here is :func:`~retrouve.legal.admin_guard.check_admin_change` (no disabling or
demoting oneself, never the last enabled admin).

Disabling an account or resetting its password also deletes its web sessions from the
database (``web_sessions``, shared by every server process): its open pages are logged out at
their next request, whichever process answers. (The account is re-read on every request too,
so a disabled account's session would be refused anyway.)

Refusals are keyed errors worded in the interface language and shown beside the field they
are about (``FIELD_OF``), the form kept as typed (never the passwords); status 400 (403 for
:class:`~retrouve.errors.NotPermitted`), never a 500. Assigning accounts to cases is a
supervisor's right (``permissions.Right.ASSIGN_CASE``) done on the case page: the overview
says so and links there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from retrouve.domain import Camera, Role
from retrouve.errors import CatalogueError, InputError
from retrouve.errors_i18n import error_text
from retrouve.legal.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, ROLES, Accounts
from retrouve.legal.admin_guard import check_admin_change
from retrouve.legal.camera_register import CameraRegister
from retrouve.services import Services
from retrouve.web.auth import AdminCtx, RequestContext, SessionStore
from retrouve.web.case_form import form_text
from retrouve.web.case_pages import Form
from retrouve.web.i18n import translator
from retrouve.web.templating import render

router = APIRouter(include_in_schema=False)

#: Error key → the form field it is shown beside (others go above the form).
FIELD_OF: dict[str, str] = {
    "account.bad_name": "username", "account.exists": "username",
    "account.bad_role": "role",
    "account.password_short": "password", "account.password_long": "password",
    "account.self_disable": "disabled", "account.self_demote": "role",
    "account.last_admin": "role",
    "camera.bad_id": "camera_id", "camera.bad_id_hint": "camera_id",
    "camera.case_clash": "camera_id", "camera.exists": "camera_id",
    "camera.bad_name": "name", "time.unknown_zone": "timezone",
    "camera.zone_locked": "timezone", "camera.bad_latitude": "latitude",
    "camera.bad_longitude": "longitude", "camera.half_position": "latitude",
}
#: ``?msg=`` of a redirect after an action → catalogue key of the line shown.
FLASH_KEYS = {k: f"admin.msg.{k}" for k in (
    "user_added", "role", "password", "disabled", "enabled", "camera_added", "camera_saved",
    "unchanged")}
#: Bounds of what a field may hold before the rules see it (the rules bound it again).
MAX_TEXT = 256
MAX_ADDRESS = 2000


def _text(form: FormData, name: str, limit: int = MAX_TEXT) -> str:
    """:func:`form_text` with the admin forms' own default bound."""
    return form_text(form, name, limit)


def _secret(form: FormData, name: str) -> str:
    """A password as typed (never stripped: spaces count), cut past the longest allowed so
    that the length rule still refuses it."""
    value = form.get(name)
    return value[:MAX_PASSWORD_LENGTH + 1] if isinstance(value, str) else ""


@dataclass
class Problems:
    """What a refused form says: messages per field, and those about no field."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, exc: InputError, lang: str) -> None:
        text = error_text(exc, lang)
        # The catalogue's texts start lower-case (they are also quoted mid-sentence).
        text = text[:1].upper() + text[1:]
        where = FIELD_OF.get(exc.key or "")
        if where is None:
            self.general.append(text)
        else:
            self.fields.setdefault(where, text)

    def put(self, name: str, text: str) -> None:
        self.fields.setdefault(name, text)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def _svc(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def _accounts(request: Request) -> Accounts:
    """The accounts service that journals (``create_app`` sets it up)."""
    accounts: Accounts = request.app.state.admin_accounts
    return accounts


def _by(ctx: RequestContext) -> tuple[str, str]:
    return ctx.user.name, ctx.role.value


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ------------------------------------------------------------------------- overview
@dataclass
class UserForm:
    """The create-account form as typed (the passwords are never sent back)."""

    username: str = ""
    role: str = Role.OPERATOR.value


@dataclass
class CameraForm:
    """The camera form as typed (text, so that a refused value is shown as it was)."""

    camera_id: str = ""
    name: str = ""
    timezone: str = "Europe/Paris"
    latitude: str = ""
    longitude: str = ""
    address: str = ""

    @classmethod
    def read(cls, form: FormData) -> CameraForm:
        return cls(_text(form, "camera_id", 200), _text(form, "name"),
                   _text(form, "timezone", 64), _text(form, "latitude", 64),
                   _text(form, "longitude", 64), _text(form, "address", MAX_ADDRESS))

    @classmethod
    def of(cls, cam: Camera) -> CameraForm:
        def deg(v: float | None) -> str:
            return "" if v is None else repr(v)

        return cls(cam.id, cam.name, cam.timezone, deg(cam.latitude), deg(cam.longitude),
                   cam.address or "")

    def camera(self, problems: Problems, lang: str) -> Camera | None:
        """The camera typed, or None with ``problems`` filled (numbers, both or neither
        coordinate); the catalogue's rules check the rest."""
        lat = self._degrees("latitude", self.latitude, problems, lang)
        lon = self._degrees("longitude", self.longitude, problems, lang)
        if problems:
            return None
        if (lat is None) != (lon is None):
            problems.add(CatalogueError("give both latitude and longitude, or neither",
                                        key="camera.half_position"), lang)
            return None
        return Camera(self.camera_id, self.name or self.camera_id, self.timezone, lat, lon,
                      self.address or None)

    @staticmethod
    def _degrees(name: str, text: str, problems: Problems, lang: str) -> float | None:
        if not text:
            return None
        try:
            value = float(text.replace(",", "."))  # a French keyboard's decimal comma
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            problems.put(name, error_text(CatalogueError(
                f"{name} {text!r} is not a number (decimal degrees, e.g. 48.8566)",
                key="camera.not_number", params={"field": name, "text": text}), lang))
            return None
        return value


def _overview(request: Request, ctx: RequestContext, *, status: int = 200,
              user_form: UserForm | None = None, user_problems: Problems | None = None,
              camera_form: CameraForm | None = None,
              camera_problems: Problems | None = None) -> HTMLResponse:
    svc = _svc(request)
    cameras = svc.store.list_cameras()
    return render(
        request, "admin.html", ctx, status_code=status, users=_accounts(request).list(),
        cameras=[(c, svc.store.camera_recording_count(c.id)) for c in cameras],
        roles=ROLES, user_form=user_form or UserForm(), user_problems=user_problems
        or Problems(), camera_form=camera_form or CameraForm(),
        camera_problems=camera_problems or Problems(), zones=_zones(),
        min_password=MIN_PASSWORD_LENGTH, max_password=MAX_PASSWORD_LENGTH,
        flash=FLASH_KEYS.get(request.query_params.get("msg", "")))


def _zones() -> list[str]:
    """The IANA zones the system knows, for the zone field's suggestions."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, ctx: AdminCtx) -> Response:
    return _overview(request, ctx)


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(request: Request, ctx: AdminCtx, data: Form) -> Response:
    typed = UserForm(_text(data, "username", 100), _text(data, "role", 32))
    password, confirm = _secret(data, "password"), _secret(data, "password_confirm")
    problems = Problems()
    if password != confirm:
        problems.put("password_confirm", translator(ctx.lang)("admin.password_mismatch"))
        return _overview(request, ctx, status=400, user_form=typed, user_problems=problems)
    try:
        _accounts(request).add(typed.username, typed.role, password, by=_by(ctx))
    except InputError as exc:
        problems.add(exc, ctx.lang)
        return _overview(request, ctx, status=exc.http_status, user_form=typed,
                         user_problems=problems)
    return _redirect(f"/admin/users/{typed.username}?msg=user_added")


@router.post("/admin/cameras", response_class=HTMLResponse)
def create_camera(request: Request, ctx: AdminCtx, data: Form) -> Response:
    typed = CameraForm.read(data)
    problems = Problems()
    cam = typed.camera(problems, ctx.lang)
    if cam is None:
        return _overview(request, ctx, status=400, camera_form=typed, camera_problems=problems)
    svc = _svc(request)
    register: CameraRegister = svc.cameras
    try:
        if svc.store.get_camera(cam.id) is not None:
            raise CatalogueError(f"camera {cam.id!r} already exists", key="camera.exists",
                                 params={"id": cam.id})
        register.add(cam, _by(ctx))
    except InputError as exc:
        problems.add(exc, ctx.lang)
        return _overview(request, ctx, status=exc.http_status, camera_form=typed,
                         camera_problems=problems)
    return _redirect(f"/admin?msg=camera_added#camera-{cam.id}")


# ----------------------------------------------------------------------------- users
def _user_page(request: Request, ctx: RequestContext, name: str, *, status: int = 200,
               problems: Problems | None = None) -> HTMLResponse:
    user = _accounts(request).get(name)
    if user is None:
        return render(request, "error.html", ctx, status_code=404, message_key="error.404",
                      code=404)
    return render(request, "admin_user.html", ctx, status_code=status, user=user,
                  roles=ROLES, problems=problems or Problems(),
                  is_self=user.name == ctx.user.name, min_password=MIN_PASSWORD_LENGTH,
                  max_password=MAX_PASSWORD_LENGTH,
                  flash=FLASH_KEYS.get(request.query_params.get("msg", "")))


@router.get("/admin/users/{name}", response_class=HTMLResponse)
def user_page(request: Request, ctx: AdminCtx, name: str) -> Response:
    return _user_page(request, ctx, name)


def _change(request: Request, ctx: RequestContext, name: str, msg: str,
            action: Any) -> Response:
    """Run ``action(accounts, user)``; back to the user's page with ``msg``, or the page
    with the refusal beside its field."""
    accounts = _accounts(request)
    user = accounts.get(name)
    if user is None:
        return _user_page(request, ctx, name)
    try:
        action(accounts, user)
    except InputError as exc:
        problems = Problems()
        problems.add(exc, ctx.lang)
        return _user_page(request, ctx, name, status=exc.http_status, problems=problems)
    return _redirect(f"/admin/users/{name}?msg={msg}")


@router.post("/admin/users/{name}/role", response_class=HTMLResponse)
def change_role(request: Request, ctx: AdminCtx, name: str, data: Form) -> Response:
    role = _text(data, "role", 32)

    def act(accounts: Accounts, user: Any) -> None:
        if role == user.role.value:
            return
        check_admin_change(ctx.user.name, user, accounts.list(), role=role)
        accounts.set_role(name, role, by=_by(ctx))

    return _change(request, ctx, name, "role", act)


@router.post("/admin/users/{name}/password", response_class=HTMLResponse)
def reset_password(request: Request, ctx: AdminCtx, name: str, data: Form) -> Response:
    password, confirm = _secret(data, "password"), _secret(data, "password_confirm")
    if password != confirm:
        problems = Problems()
        problems.put("password_confirm", translator(ctx.lang)("admin.password_mismatch"))
        return _user_page(request, ctx, name, status=400, problems=problems)
    sessions: SessionStore = request.app.state.sessions

    def act(accounts: Accounts, user: Any) -> None:
        accounts.set_password(name, password, by=_by(ctx))
        # A reset after a suspected compromise must cut the open sessions now, on every
        # process (they are rows of the shared database).
        sessions.drop_user(user.id)

    return _change(request, ctx, name, "password", act)


@router.post("/admin/users/{name}/disabled", response_class=HTMLResponse)
def set_disabled(request: Request, ctx: AdminCtx, name: str, data: Form) -> Response:
    disable = _text(data, "disabled", 8) == "1"
    sessions: SessionStore = request.app.state.sessions

    def act(accounts: Accounts, user: Any) -> None:
        if disable:
            check_admin_change(ctx.user.name, user, accounts.list(), disable=True)
        accounts.set_disabled(name, disable, by=_by(ctx))
        if disable:
            sessions.drop_user(user.id)

    return _change(request, ctx, name, "disabled" if disable else "enabled", act)


# --------------------------------------------------------------------------- cameras
def _camera_page(request: Request, ctx: RequestContext, camera_id: str, *,
                 status: int = 200, form: CameraForm | None = None,
                 problems: Problems | None = None) -> HTMLResponse:
    svc = _svc(request)
    cam = svc.store.get_camera(camera_id)
    if cam is None:
        return render(request, "error.html", ctx, status_code=404, message_key="error.404",
                      code=404)
    return render(request, "admin_camera.html", ctx, status_code=status, camera=cam,
                  form=form or CameraForm.of(cam), problems=problems or Problems(),
                  recordings=svc.store.camera_recording_count(cam.id), zones=_zones(),
                  flash=FLASH_KEYS.get(request.query_params.get("msg", "")))


@router.get("/admin/cameras/{camera_id}", response_class=HTMLResponse)
def camera_page(request: Request, ctx: AdminCtx, camera_id: str) -> Response:
    return _camera_page(request, ctx, camera_id)


@router.post("/admin/cameras/{camera_id}", response_class=HTMLResponse)
def edit_camera(request: Request, ctx: AdminCtx, camera_id: str, data: Form) -> Response:
    svc = _svc(request)
    old = svc.store.get_camera(camera_id)
    if old is None:
        return _camera_page(request, ctx, camera_id)
    typed = CameraForm.read(data)
    typed.camera_id = old.id  # the id never changes: it names recordings and folders
    problems = Problems()
    cam = typed.camera(problems, ctx.lang)
    if cam is None:
        return _camera_page(request, ctx, camera_id, status=400, form=typed,
                            problems=problems)
    try:
        svc.cameras.edit(cam, _by(ctx))
    except InputError as exc:
        problems.add(exc, ctx.lang)
        return _camera_page(request, ctx, camera_id, status=exc.http_status, form=typed,
                            problems=problems)
    return _redirect(f"/admin/cameras/{camera_id}?msg="
                     + ("unchanged" if cam == old else "camera_saved"))


__all__ = ["FIELD_OF", "router"]
