"""The admin pages: admins only (403 for the other roles), CSRF on every POST, each account
and camera action done by the same function as the CLI and journalled in the admin's name, a
disabled (or reset) account's open sessions ending at once on every process, no admin
disabling or demoting themselves nor the last admin, and bad input answered in the page's
language beside its field (400, never a 500)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from itertools import count

import pytest
from fastapi.testclient import TestClient

from retrouve.config import WebSettings
from retrouve.domain import Camera, Role
from retrouve.errors import AccountError
from retrouve.legal.accounts import User
from retrouve.legal.admin_guard import check_admin_change
from retrouve.services import Services
from retrouve.store.journal import JournalRow
from retrouve.web import create_app
from web.conftest import PASSWORD, Web, csrf_of, login

NEW_PASSWORD = "another long passphrase"
_names = count(1)


def fresh(prefix: str = "agent") -> str:
    """A user or camera name no other test of the module uses (the store is shared)."""
    return f"{prefix}{next(_names)}"


@pytest.fixture
def admin(web: Web) -> TestClient:
    return web.login("admin", case=None)


def last_entry(services: Services) -> JournalRow:
    return list(services.store.journal_entries())[-1]


def entry_facts(row: JournalRow) -> tuple[str, str, str, list[str], dict[str, object]]:
    return (row.user, row.role, row.action, json.loads(row.objects_json),
            json.loads(row.details_json))


def post(client: TestClient, url: str, data: dict[str, str], page: str = "/admin",
         lang: str | None = None) -> object:
    """POST ``data`` with the CSRF token of ``page`` (as a browser would)."""
    token = csrf_of(client.get(page).text)
    suffix = f"?lang={lang}" if lang else ""
    return client.post(url + suffix, data={**data, "csrf_token": token})


def add_user(client: TestClient, name: str, role: str = "operator",
             password: str = PASSWORD) -> object:
    return post(client, "/admin/users", {"username": name, "role": role,
                                         "password": password, "password_confirm": password})


def html_text(html: str) -> str:
    return html.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")


def field_error(html: str, field_id: str) -> str:
    """The message shown under the field ``field_id`` (its ``…-error`` element), unescaped."""
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    assert found, f"no error under {field_id}"
    return html_text(found.group(1))


# ---------------------------------------------------------------------------- access
@pytest.mark.parametrize("role", ["supervisor", "operator"])
@pytest.mark.parametrize("url", ["/admin", "/admin/users/operator", "/admin/cameras/cam1"])
def test_other_roles_get_the_403_page(web: Web, role: str, url: str) -> None:
    client = web.login(role, case=None)
    resp = client.get(url)
    assert resp.status_code == 403
    assert "Accès refusé" in resp.text  # the usual error page, in French by default


@pytest.mark.parametrize("role", ["supervisor", "operator"])
def test_other_roles_cannot_post(web: Web, populated: Services, role: str) -> None:
    client = web.login(role, case=None)
    name = fresh()
    resp = post(client, "/admin/users", {"username": name, "role": "admin",
                                         "password": PASSWORD, "password_confirm": PASSWORD},
                page="/cases")
    assert resp.status_code == 403
    assert populated.store.get_user(name=name) is None


def test_anonymous_goes_to_the_login_page(web: Web) -> None:
    resp = web.client().get("/admin")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


def test_post_without_the_csrf_token_is_refused(admin: TestClient,
                                                populated: Services) -> None:
    name = fresh()
    resp = admin.post("/admin/users", data={"username": name, "role": "operator",
                                            "password": PASSWORD,
                                            "password_confirm": PASSWORD})
    assert resp.status_code == 403
    resp = admin.post("/admin/users", data={"username": name, "role": "operator",
                                            "password": PASSWORD, "password_confirm": PASSWORD,
                                            "csrf_token": "forged"})
    assert resp.status_code == 403
    assert populated.store.get_user(name=name) is None


def test_the_nav_links_to_admin_for_admins_only(web: Web, admin: TestClient) -> None:
    assert 'href="/admin"' in admin.get("/cases").text
    assert 'href="/admin"' not in web.login("operator").get("/cases").text


def test_overview_lists_users_and_cameras(admin: TestClient) -> None:
    html = html_text(admin.get("/admin?lang=en").text)
    for name in ("admin", "supervisor", "operator", "gone"):
        assert f'href="/admin/users/{name}"' in html
    for cam in ("cam1", "cam2", "idle"):
        assert f'href="/admin/cameras/{cam}"' in html
    assert "Place de la Gare" in html and "Europe/Paris" in html
    # Case assignment is the supervisor's, on the case page: said and linked.
    assert "Assigning accounts to cases is a supervisor's act" in html
    assert 'href="/cases"' in html


# ----------------------------------------------------------------------------- users
def test_create_user_is_journalled_and_can_log_in(web: Web, admin: TestClient,
                                                  populated: Services) -> None:
    name = fresh()
    resp = add_user(admin, name, "supervisor")
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/admin/users/{name}?msg=user_added"
    user = populated.store.get_user(name=name)
    assert user is not None and user.role is Role.SUPERVISOR and not user.disabled
    assert entry_facts(last_entry(populated)) == (
        "admin", "admin", "user-add", [f"user:{name}"], {"role": "supervisor"})
    assert PASSWORD not in last_entry(populated).details_json
    assert login(web.client(), name).status_code == 303
    assert "Compte créé." in admin.get(resp.headers["location"]).text


@pytest.mark.parametrize(("data", "field", "fr", "en"), [
    ({"username": "bad name"}, "nu-username", "nom d'utilisateur « bad name » invalide",
     "invalid user name 'bad name'"),
    ({"username": "admin"}, "nu-username", "l'utilisateur « admin » existe déjà",
     "user 'admin' already exists"),
    ({"password": "short", "password_confirm": "short"}, "nu-password",
     "mot de passe trop court : au moins 10 caractères",
     "password too short: at least 10 characters"),
    ({"password_confirm": "something else entirely"}, "nu-password_confirm",
     "Les deux mots de passe diffèrent.", "The two passwords differ."),
    ({"role": "god"}, "nu-role", "rôle « god » inconnu", "unknown role 'god'"),
])
def test_bad_user_input_is_shown_beside_its_field(
        admin: TestClient, populated: Services, data: dict[str, str], field: str, fr: str,
        en: str) -> None:
    typed = {"username": fresh(), "role": "operator", "password": PASSWORD,
             "password_confirm": PASSWORD, **data}
    before = len(list(populated.store.journal_entries()))
    for lang, text in (("fr", fr), ("en", en)):
        resp = post(admin, "/admin/users", typed, lang=lang)
        assert resp.status_code == 400, resp.text
        assert field_error(resp.text, field).startswith(text[:1].upper() + text[1:])
        assert 'aria-invalid="true"' in resp.text
        # A creation refused is not called a modification (the banner fits both).
        assert ("Demande refusée" if lang == "fr" else "Refused:") in resp.text
        assert "Modification refusée" not in resp.text
        # The form is kept as typed, never the passwords.
        assert f'value="{typed["username"]}"' in resp.text
        assert PASSWORD not in resp.text
    assert len(list(populated.store.journal_entries())) == before


def test_change_role_is_journalled_and_immediate(web: Web, admin: TestClient,
                                                 populated: Services) -> None:
    name = fresh()
    add_user(admin, name)
    theirs = web.login(name, case=None)
    assert theirs.get("/journal").status_code == 403  # an operator may not read it
    resp = post(admin, f"/admin/users/{name}/role", {"role": "supervisor"},
                page=f"/admin/users/{name}")
    assert resp.status_code == 303
    assert entry_facts(last_entry(populated)) == (
        "admin", "admin", "user-change", [f"user:{name}"],
        {"change": "role", "value": "supervisor"})
    assert theirs.get("/journal").status_code == 200  # the same session, the new role


def test_reset_password_ends_the_sessions_and_is_journalled(web: Web, admin: TestClient,
                                                            populated: Services) -> None:
    name = fresh()
    add_user(admin, name)
    theirs = web.login(name, case=None)
    assert theirs.get("/cases").status_code == 200
    resp = post(admin, f"/admin/users/{name}/password",
                {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
                page=f"/admin/users/{name}")
    assert resp.status_code == 303
    assert entry_facts(last_entry(populated)) == (
        "admin", "admin", "user-change", [f"user:{name}"], {"change": "password"})
    assert NEW_PASSWORD not in last_entry(populated).details_json
    resp = theirs.get("/cases")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert login(web.client(), name).status_code == 401
    assert login(web.client(), name, NEW_PASSWORD).status_code == 303


def test_reset_password_refuses_a_short_one(admin: TestClient) -> None:
    resp = post(admin, "/admin/users/operator/password?lang=en",
                {"password": "tiny", "password_confirm": "tiny"},
                page="/admin/users/operator")
    assert resp.status_code == 400
    assert field_error(resp.text, "up-password") == \
        "Password too short: at least 10 characters"


def _second_app(web: Web, populated: Services) -> TestClient:
    """Another app over the same store: another server process."""
    app = create_app(populated, WebSettings(secure_cookies=False), accounts=web.accounts,
                     clock=web.clock)
    client = TestClient(app, follow_redirects=False)
    web.clients.append(client)
    return client


def test_disabling_ends_the_sessions_on_every_process(web: Web, admin: TestClient,
                                                      populated: Services) -> None:
    name = fresh()
    add_user(admin, name)
    theirs = web.login(name, case=None)
    other_process = _second_app(web, populated)
    cookie = web.app.state.config.cookie_name
    other_process.cookies.set(cookie, theirs.cookies[cookie])
    assert other_process.get("/cases").status_code == 200  # the session is shared
    user = populated.store.get_user(name=name)
    assert user is not None
    resp = post(admin, f"/admin/users/{name}/disabled", {"disabled": "1"},
                page=f"/admin/users/{name}")
    assert resp.status_code == 303
    assert entry_facts(last_entry(populated)) == (
        "admin", "admin", "user-change", [f"user:{name}"], {"change": "disabled"})
    # The session rows are gone from the shared database: both processes refuse them.
    for client in (theirs, other_process):
        resp = client.get("/cases")
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    assert login(web.client(), name).status_code == 401
    # Enabled again: journalled, and the account logs in with its password.
    resp = post(admin, f"/admin/users/{name}/disabled", {"disabled": "0"},
                page=f"/admin/users/{name}")
    assert resp.status_code == 303
    assert entry_facts(last_entry(populated))[2:4] == ("user-change", [f"user:{name}"])
    assert json.loads(last_entry(populated).details_json) == {"change": "enabled"}
    assert login(web.client(), name).status_code == 303


def test_an_admin_cannot_disable_or_demote_themselves(admin: TestClient,
                                                      populated: Services) -> None:
    before = len(list(populated.store.journal_entries()))
    resp = post(admin, "/admin/users/admin/disabled", {"disabled": "1"},
                page="/admin/users/admin")
    assert resp.status_code == 400
    assert field_error(resp.text, "admin-access") == (
        "Vous ne pouvez pas désactiver votre propre compte : un autre administrateur doit le "
        "faire")
    assert "Désactiver le compte" not in resp.text  # never offered on one's own page
    resp = post(admin, "/admin/users/admin/role?lang=en", {"role": "operator"},
                page="/admin/users/admin")
    assert resp.status_code == 400
    assert field_error(resp.text, "ur-role") == \
        "You cannot take away your own admin role: another admin must"
    user = populated.store.get_user(name="admin")
    assert user is not None and user.role is Role.ADMIN and not user.disabled
    assert len(list(populated.store.journal_entries())) == before
    assert admin.get("/admin").status_code == 200  # still in


def _user(name: str, role: Role, disabled: bool = False) -> User:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    return User(0, name, role, disabled, t, t)


@pytest.mark.parametrize(("users", "target", "change", "key"), [
    # The only enabled admin (the actor acts from the shell's side, or was disabled since).
    ((_user("ada", Role.ADMIN), _user("bob", Role.ADMIN, disabled=True)), "ada",
     {"disable": True}, "account.last_admin"),
    ((_user("ada", Role.ADMIN),), "ada", {"role": "supervisor"}, "account.last_admin"),
    ((_user("bob", Role.ADMIN), _user("ada", Role.ADMIN)), "bob", {"disable": True},
     "account.self_disable"),
    ((_user("bob", Role.ADMIN), _user("ada", Role.ADMIN)), "bob", {"role": "operator"},
     "account.self_demote"),
])
def test_the_last_admin_is_kept(users: tuple[User, ...], target: str,
                                change: dict[str, object], key: str) -> None:
    by_name = {u.name: u for u in users}
    with pytest.raises(AccountError) as info:
        check_admin_change("bob", by_name[target], users, **change)  # type: ignore[arg-type]
    assert info.value.key == key


def test_demoting_another_admin_is_allowed_while_one_remains() -> None:
    users = (_user("bob", Role.ADMIN), _user("ada", Role.ADMIN))
    check_admin_change("bob", users[1], users, role="supervisor")
    check_admin_change("bob", users[1], users, disable=True)
    check_admin_change("bob", _user("op", Role.OPERATOR), users, disable=True)


def test_unknown_user_page_is_404(admin: TestClient) -> None:
    assert admin.get("/admin/users/nobody-here").status_code == 404
    resp = post(admin, "/admin/users/nobody-here/disabled", {"disabled": "1"})
    assert resp.status_code == 404


# --------------------------------------------------------------------------- cameras
def add_camera(client: TestClient, data: dict[str, str], lang: str | None = None) -> object:
    typed = {"camera_id": "", "name": "", "timezone": "Europe/Paris", "latitude": "",
             "longitude": "", "address": "", **data}
    return post(client, "/admin/cameras", typed, lang=lang)


def test_create_camera_is_journalled(admin: TestClient, populated: Services) -> None:
    cam = fresh("cam-new-")
    resp = add_camera(admin, {"camera_id": cam, "name": "Rue Neuve", "latitude": "48,8566",
                              "longitude": "2.3522", "address": "1 rue Neuve"})
    assert resp.status_code == 303, resp.text
    assert populated.store.get_camera(cam) == Camera(cam, "Rue Neuve", "Europe/Paris",
                                                     48.8566, 2.3522, "1 rue Neuve")
    assert entry_facts(last_entry(populated)) == (
        "admin", "admin", "camera-change", [f"camera:{cam}"],
        {"change": "add", "name": "Rue Neuve", "timezone": "Europe/Paris",
         "latitude": 48.8566, "longitude": 2.3522, "address": "1 rue Neuve"})
    html = admin.get("/admin").text
    assert f'id="camera-{cam}"' in html and "48.8566, 2.3522" in html


@pytest.mark.parametrize(("data", "field", "fr", "en"), [
    ({"camera_id": "cam 9"}, "nc-camera_id",
     "identifiant de caméra « cam 9 » invalide", "bad camera id 'cam 9'"),
    ({"camera_id": "CAM1"}, "nc-camera_id",
     "l'identifiant « CAM1 » ne diffère de la caméra enregistrée « cam1 »",
     "camera id 'CAM1' differs from the registered 'cam1' by case only"),
    ({"camera_id": "cam1"}, "nc-camera_id", "la caméra « cam1 » existe déjà",
     "camera 'cam1' already exists"),
    ({"timezone": "Mars/Olympus"}, "nc-timezone", "fuseau horaire inconnu « Mars/Olympus »",
     "unknown time zone 'Mars/Olympus'"),
    ({"latitude": "abc", "longitude": "2"}, "nc-latitude",
     "la latitude « abc » n'est pas un nombre", "latitude 'abc' is not a number"),
    ({"latitude": "95", "longitude": "2"}, "nc-latitude",
     "la latitude 95.0 est hors de -90..90 degrés", "latitude 95.0 is outside -90..90"),
    ({"latitude": "45"}, "nc-latitude", "donnez la latitude et la longitude ensemble",
     "give both latitude and longitude"),
])
def test_bad_camera_input_is_shown_beside_its_field(
        admin: TestClient, populated: Services, data: dict[str, str], field: str, fr: str,
        en: str) -> None:
    typed = {"camera_id": fresh("cam-bad-"), **data}
    for lang, text in (("fr", fr), ("en", en)):
        resp = add_camera(admin, typed, lang=lang)
        assert resp.status_code == 400, resp.text
        shown = field_error(resp.text, field)
        assert text.lower() in shown.lower(), shown
    assert all(c.id != typed["camera_id"] or c.id == "cam1"
               for c in populated.store.list_cameras())


def test_the_camera_id_hint_is_a_valid_id(admin: TestClient) -> None:
    resp = add_camera(admin, {"camera_id": "cam 9"}, lang="en")
    assert "(e.g. 'cam_9')" in field_error(resp.text, "nc-camera_id")


def test_edit_camera_is_journalled(admin: TestClient, populated: Services) -> None:
    cam = fresh("cam-edit-")
    add_camera(admin, {"camera_id": cam})
    resp = post(admin, f"/admin/cameras/{cam}", {
        "name": "Quai Sud", "timezone": "UTC", "latitude": "43.3", "longitude": "5.37",
        "address": "Quai"}, page=f"/admin/cameras/{cam}")
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/admin/cameras/{cam}?msg=camera_saved"
    assert populated.store.get_camera(cam) == Camera(cam, "Quai Sud", "UTC", 43.3, 5.37,
                                                     "Quai")
    assert entry_facts(last_entry(populated))[:4] == (
        "admin", "admin", "camera-change", [f"camera:{cam}"])
    assert json.loads(last_entry(populated).details_json)["change"] == "edit"
    # Sending it again changes nothing and journals nothing.
    before = len(list(populated.store.journal_entries()))
    resp = post(admin, f"/admin/cameras/{cam}", {
        "name": "Quai Sud", "timezone": "UTC", "latitude": "43.3", "longitude": "5.37",
        "address": "Quai"}, page=f"/admin/cameras/{cam}")
    assert resp.headers["location"] == f"/admin/cameras/{cam}?msg=unchanged"
    assert len(list(populated.store.journal_entries())) == before


def test_a_camera_with_recordings_keeps_its_zone(admin: TestClient,
                                                 populated: Services) -> None:
    resp = post(admin, "/admin/cameras/cam1?lang=en", {
        "name": "Place de la Gare", "timezone": "UTC"}, page="/admin/cameras/cam1")
    assert resp.status_code == 400
    assert field_error(resp.text, "ec-timezone").startswith(
        "Camera 'cam1' has recordings: its time zone stays Europe/Paris")
    cam = populated.store.get_camera("cam1")
    assert cam is not None and cam.timezone == "Europe/Paris"
    page = admin.get("/admin/cameras/cam1").text
    assert "readonly" in page


def test_unknown_camera_page_is_404(admin: TestClient) -> None:
    assert admin.get("/admin/cameras/no-such-cam").status_code == 404


def test_oversized_form_is_refused_before_reading(admin: TestClient) -> None:
    token = csrf_of(admin.get("/admin").text)
    resp = admin.post("/admin/cameras", data={"csrf_token": token, "camera_id": "x",
                                              "address": "a" * 2_000_000})
    assert resp.status_code == 413

