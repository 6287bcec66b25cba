"""The admin pages in a real headless Chromium (issue 13):

1. the admin follows the header's Administration link, creates an operator account through
   the form (a mismatched confirmation first: the message under its field), and that operator
   logs in in another browser;
2. the admin's own page offers neither disabling nor demotion and says why; the admin
   disables the operator: the operator's open page is logged out at its next request;
3. the admin resets the operator's password and enables the account again: the old password
   is refused, the new one logs in;
4. the admin registers a camera (a bad id first: the error under the id field, with a valid
   suggestion) and edits its position; the journal holds each change in the admin's name.

Each refused form is scanned with axe-core (WCAG 2 A/AA) in its error state. A screenshot of
each step goes to ``test-artifacts/admin-NN-*.png`` (ignored by git).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import ARTIFACTS, LiveServer, logged_in_context
from .test_accessibility import WCAG_TAGS, _report

NEW_USER = "lucie"
NEW_PASSWORD = "un tout autre mot de passe"
NEW_CAMERA = "cam-quai-2"


class Shots:
    """Numbered full-page screenshots of one test, in ``test-artifacts/``."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.n = 0
        ARTIFACTS.mkdir(exist_ok=True)
        for old in ARTIFACTS.glob("admin-*.png"):
            old.unlink()

    def __call__(self, name: str, page: Any = None) -> Path:
        """Screenshot ``page`` (the admin's by default) as the next step."""
        self.n += 1
        path = ARTIFACTS / f"admin-{self.n:02d}-{name}.png"
        (page or self.page).screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        return path


def no_violations(page: Any, what: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={
        "runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    assert not violations, f"{what}: {len(violations)} axe violations\n" + _report(violations)


def log_in(page: Any, name: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def test_admin_manages_accounts_and_cameras(browser: Any, live_server: LiveServer) -> None:
    admin_ctx = logged_in_context(browser, live_server, live_server.admin, choose_case=False)
    user_ctx = browser.new_context(base_url=live_server.url,
                                   viewport={"width": 1280, "height": 900})
    user_ctx.set_default_timeout(10_000)
    try:
        page = admin_ctx.new_page()
        shot = Shots(page)
        page.goto("/cases")
        page.click("header nav a[href='/admin']")
        page.wait_for_url("**/admin")
        assert page.locator("h1").inner_text() == "Administration"
        assert page.locator(f"#user-{live_server.admin}").count() == 1
        shot("overview")

        # 1. Create an account: the confirmation differs first, then it is right.
        form = page.locator("form[action^='/admin/users#']")
        form.get_by_label("Nom d'utilisateur").fill(NEW_USER)
        form.get_by_label("Rôle").select_option("operator")
        form.get_by_label("Mot de passe initial").fill(live_server.password)
        form.get_by_label("Confirmer le mot de passe").fill("pas le même mot de passe")
        form.get_by_role("button", name="Créer le compte").click()
        page.wait_for_load_state()
        error = page.locator("#nu-password_confirm-error")
        assert error.inner_text() == "Les deux mots de passe diffèrent."
        assert page.locator("#nu-password_confirm").get_attribute("aria-invalid") == "true"
        assert page.locator("#nu-username").input_value() == NEW_USER  # kept as typed
        no_violations(page, "create-user refused")
        shot("user-refused")
        form = page.locator("form[action^='/admin/users#']")
        form.get_by_label("Mot de passe initial").fill(live_server.password)
        form.get_by_label("Confirmer le mot de passe").fill(live_server.password)
        form.get_by_role("button", name="Créer le compte").click()
        page.wait_for_url(f"**/admin/users/{NEW_USER}?msg=user_added*")
        assert "Compte créé." in page.locator("p.notice").inner_text()
        shot("user-created")

        user_page = user_ctx.new_page()
        log_in(user_page, NEW_USER, live_server.password)
        user_page.goto("/cases")
        assert "/login" not in user_page.url

        # 2. One's own account offers no disabling nor demotion, and says why; disabling
        #    the operator logs them out.
        page.goto(f"/admin/users/{live_server.admin}")
        assert page.get_by_role("button", name="Désactiver le compte").count() == 0
        assert page.locator("form[action*='/role']").count() == 0
        assert "vous ne pouvez pas le désactiver" in \
            page.locator("section[aria-labelledby=admin-access]").inner_text()
        shot("own-account")
        page.goto(f"/admin/users/{NEW_USER}")
        page.get_by_role("button", name="Désactiver le compte").click()
        page.wait_for_url(f"**/admin/users/{NEW_USER}?msg=disabled*")
        assert page.locator("dl.metadata .badge").inner_text() == "désactivé"
        shot("user-disabled")
        user_page.reload()
        assert "/login?next=" in user_page.url, user_page.url
        shot("disabled-user-logged-out", user_page)

        # 3. Reset the password, enable the account again.
        form = page.locator(f"form[action^='/admin/users/{NEW_USER}/password']")
        form.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
        form.get_by_label("Confirmer le mot de passe").fill(NEW_PASSWORD)
        form.get_by_role("button", name="Réinitialiser").click()
        page.wait_for_url(f"**/admin/users/{NEW_USER}?msg=password*")
        page.get_by_role("button", name="Réactiver le compte").click()
        page.wait_for_url(f"**/admin/users/{NEW_USER}?msg=enabled*")
        assert page.locator("dl.metadata .badge").inner_text() == "actif"
        shot("user-reset-enabled")
        log_in(user_page, NEW_USER, live_server.password)
        assert "/login" in user_page.url  # the old password no longer works
        log_in(user_page, NEW_USER, NEW_PASSWORD)
        user_page.goto("/cases")
        assert "/login" not in user_page.url

        # 4. Register a camera (a bad id first), then edit its position.
        page.goto("/admin")
        form = page.locator("form[action^='/admin/cameras#']")
        form.get_by_label("Identifiant de la caméra").fill("cam quai 2")
        form.get_by_label("Nom", exact=True).fill("Quai n° 2")
        form.get_by_label("Latitude (degrés WGS84)").fill("43,2965")
        form.get_by_label("Longitude (degrés WGS84)").fill("5.3698")
        form.get_by_role("button", name="Enregistrer la caméra").click()
        page.wait_for_load_state()
        error = page.locator("#nc-camera_id-error").inner_text()
        assert error.startswith("Identifiant de caméra « cam quai 2 » invalide")
        assert "« cam_quai_2 »" in error
        # The answer scrolls to the refused form (its action's fragment).
        assert page.url.endswith("#admin-new-camera"), page.url
        assert page.evaluate("window.scrollY") > 0
        no_violations(page, "create-camera refused")
        shot("camera-refused")
        page.locator("#nc-camera_id").fill(NEW_CAMERA)
        page.locator("form[action^='/admin/cameras#'] button[type=submit]").click()
        page.wait_for_url("**/admin?msg=camera_added*")
        row = page.locator(f"#camera-{NEW_CAMERA}")
        assert "Quai n° 2" in row.inner_text() and "43.2965, 5.3698" in row.inner_text()
        shot("camera-created")
        row.get_by_role("link").click()
        page.wait_for_url(f"**/admin/cameras/{NEW_CAMERA}")
        page.get_by_label("Adresse ou description du lieu").fill("Quai du Port, Marseille")
        page.get_by_label("Fuseau horaire de l'horloge de la caméra").fill("Europe/Paris")
        page.get_by_role("button", name="Enregistrer les modifications").click()
        page.wait_for_url(f"**/admin/cameras/{NEW_CAMERA}?msg=camera_saved*")
        shot("camera-edited")
        page.close()
        user_page.close()
    finally:
        admin_ctx.close()
        user_ctx.close()

    # Every change is in the journal, in the admin's name.
    rows = [r for r in live_server.services.store.journal_entries()
            if r.action in ("user-add", "user-change", "camera-change")]
    got = [(r.user, r.role, r.action, json.loads(r.objects_json)[0],
            json.loads(r.details_json).get("change")) for r in rows]
    admin = live_server.admin
    assert got[-6:] == [
        (admin, "admin", "user-add", f"user:{NEW_USER}", None),
        (admin, "admin", "user-change", f"user:{NEW_USER}", "disabled"),
        (admin, "admin", "user-change", f"user:{NEW_USER}", "password"),
        (admin, "admin", "user-change", f"user:{NEW_USER}", "enabled"),
        (admin, "admin", "camera-change", f"camera:{NEW_CAMERA}", "add"),
        (admin, "admin", "camera-change", f"camera:{NEW_CAMERA}", "edit"),
    ]
