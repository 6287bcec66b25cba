"""Security properties of the web application, checked over every route the app has.

Anonymous callers reach only the login page and the stylesheet; roles are enforced; every
POST needs the session's CSRF token; media routes cannot be turned into file reads; API
tokens work and stop working when revoked; failed logins are rate-limited.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from retrouve.config import WebSettings
from retrouve.services import Services
from retrouve.store import schema as s
from retrouve.store.db import Store
from retrouve.web import create_app
from web.conftest import CASE, PASSWORD, Web, csrf_of, login, token_headers

#: What an anonymous caller may reach: (method, path) → expected status.
PUBLIC = {("GET", "/login"): 200, ("GET", "/static/style.css"): 200}
#: Values for path parameters when enumerating routes.
PARAM_VALUES = {"name": "track.js"}


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PARAM_VALUES.get(m.group(1), "1"), path)


def every_route(web: Web) -> list[tuple[str, str]]:
    """(method, concrete path) of every route, included routers flattened."""
    try:  # FastAPI ≥ 0.16x includes routers lazily; this walks them.
        from fastapi.routing import iter_route_contexts
        routes: list[object] = list(iter_route_contexts(web.app.routes))
    except ImportError:
        routes = [r for r in web.app.routes if isinstance(r, APIRoute)]
    out = []
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods:
            out += [(method, _concrete(path)) for method in sorted(methods)]
    assert len(out) > 15, "the app's routes were not found"
    return out


def refused(resp: object) -> bool:
    status = resp.status_code  # type: ignore[attr-defined]
    location = resp.headers.get("location", "")  # type: ignore[attr-defined]
    return status in (401, 403) or (status == 303 and location.startswith("/login"))


def test_anonymous_is_refused_everywhere_but_login(web: Web) -> None:
    client = web.client()
    routes = every_route(web)
    for method, path in routes:
        resp = client.request(method, path)
        if (method, path) in PUBLIC:
            continue
        assert refused(resp), f"{method} {path} answered {resp.status_code} anonymously"
    assert client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer rtv_forged", "Bearer ", "Basic x"])
def test_bad_credentials_are_refused_everywhere(web: Web, header: str) -> None:
    client = web.client()
    for method, path in every_route(web):
        if (method, path) in PUBLIC:
            continue
        resp = client.request(method, path, headers={"Authorization": header})
        assert refused(resp), f"{method} {path} answered {resp.status_code} to {header!r}"


def test_pages_redirect_to_login_and_back(web: Web) -> None:
    client = web.client()
    resp = client.get("/search?object=car")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=%2Fsearch%3Fobject%3Dcar"
    assert login(client, "operator", next_url="/search?object=car").headers[  # type: ignore[attr-defined]
        "location"] == "/search?object=car"


def test_api_answers_401_with_bearer_challenge(web: Web) -> None:
    resp = web.client().get("/api/search")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil",
                                    "javascript:alert(1)", "/login", ""])
def test_login_never_redirects_off_site(web: Web, target: str) -> None:
    resp = login(web.client(), "operator", next_url=target)
    assert resp.headers["location"] == "/search"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------- roles
# (The analysis is not one: whoever may work in the case starts it, test_case_analysis.py.)
ADMIN_ONLY = [("GET", "/api/users"), ("GET", "/admin"), ("POST", "/admin/users"),
              ("GET", "/admin/users/operator"), ("POST", "/admin/users/operator/role"),
              ("POST", "/admin/users/operator/password"),
              ("POST", "/admin/users/operator/disabled"), ("POST", "/admin/cameras"),
              ("GET", "/admin/cameras/cam1"), ("POST", "/admin/cameras/cam1")]


@pytest.mark.parametrize("role", ["operator", "supervisor"])
@pytest.mark.parametrize(("method", "path"), ADMIN_ONLY)
def test_admin_routes_refuse_other_roles(web: Web, role: str, method: str, path: str) -> None:
    client = web.login(role)
    token = csrf_of(client.get("/search").text)
    resp = client.request(method, path, data={"csrf_token": token} if method == "POST" else None,
                          headers={"X-CSRF-Token": token})
    assert resp.status_code == 403


def test_admin_page_refusal_is_an_html_page(web: Web) -> None:
    client = web.login("operator")
    resp = client.get("/cases/new")  # a supervisor's page
    assert resp.status_code == 403
    assert "Accès refusé" in resp.text


def test_admin_reaches_admin_routes(web: Web) -> None:
    client = web.login("admin")
    assert client.get("/api/users").status_code == 200
    names = {u["name"] for u in client.get("/api/users").json()}
    assert {"admin", "supervisor", "operator", "gone"} <= names
    for user in client.get("/api/users").json():
        assert "password_hash" not in user
        assert not any(str(v).startswith("$argon2") for v in user.values())


# ----------------------------------------------------------------------------------- CSRF
def _post_routes(web: Web) -> list[str]:
    return [path for method, path in every_route(web) if method == "POST"]


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_every_post_needs_the_csrf_token(web: Web, token: str | None) -> None:
    client = web.login("admin")
    posts = _post_routes(web)
    assert {"/login", "/logout", "/footage/analyse", "/api/analysis"} <= set(posts)
    for path in posts:
        data = {} if token is None else {"csrf_token": token}
        resp = client.post(path, data=data)
        assert resp.status_code == 403, f"POST {path} without a valid CSRF token"
    # Still logged in: the refused logout did nothing.
    assert client.get("/api/me").status_code == 200


def test_csrf_header_is_accepted_for_json_posts(web: Web) -> None:
    client = web.login("admin")
    token = csrf_of(client.get("/search").text)
    body = {"recordings": ["no-such-recording"]}
    assert client.post("/api/analysis", json=body).status_code == 403
    resp = client.post("/api/analysis", json=body, headers={"X-CSRF-Token": token})
    assert resp.status_code == 200 and resp.json()["started"] is False


def test_login_form_needs_its_csrf_token(web: Web) -> None:
    client = web.client()
    client.get("/login")
    resp = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 403
    other = web.client()  # a token from another session does not work either
    token = csrf_of(other.get("/login").text)
    resp = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                       "csrf_token": token})
    assert resp.status_code == 403


def test_logout_ends_the_session(web: Web) -> None:
    client = web.login("operator")
    cookie = dict(client.cookies)
    token = csrf_of(client.get("/search").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = web.client()
    replay.cookies.update(cookie)
    assert replay.get("/api/me").status_code == 401


def test_session_id_changes_at_login(web: Web) -> None:
    client = web.client()
    client.get("/login")
    before = client.cookies.get("retrouve-session")
    login(client, "operator")
    after = client.cookies.get("retrouve-session")
    assert before and after and before != after


# ------------------------------------------------------------------------------- cookies
def test_session_cookie_flags(web: Web) -> None:
    resp = web.client().get("/login")
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # loopback over plain HTTP in these tests


def test_secure_cookies_use_the_host_prefix(populated: Services) -> None:
    app = create_app(populated, WebSettings(secure_cookies=True))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        cookie = client.get("/login").headers["set-cookie"]
        assert cookie.startswith("__Host-retrouve-session=")
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_sessions_expire_when_idle(web: Web) -> None:
    client = web.login("operator")
    assert client.get("/api/me").status_code == 200
    web.clock.now += 2 * 3600 + 1
    assert client.get("/api/me").status_code == 401


def test_security_headers(web: Web) -> None:
    client = web.login("operator")
    for path in ("/login", "/search", "/api/me", "/media/thumb/1"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    assert client.get("/search").headers["cache-control"] == "no-store"


def test_disabled_account_cannot_log_in_and_loses_its_session(web: Web) -> None:
    assert login(web.client(), "gone").status_code == 401  # type: ignore[attr-defined]
    web.accounts.add("temp", "operator", PASSWORD)
    client = web.login("temp", case=None)
    assert client.get("/api/me").status_code == 200
    web.accounts.set_disabled("temp", True)
    assert client.get("/api/me").status_code == 401


# --------------------------------------------------------------------------- path traversal
TRAVERSALS = ["..%2F..%2Fetc%2Fpasswd", "%2E%2E%2Fretrouve.db", "..", "1%2F..%2F..%2Fx",
              "-1", "0", "1e3", "99999999999999999999999", "%00", "1;rm"]


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_media_routes_take_no_paths(web: Web, bad: str) -> None:
    client = web.login("admin")
    media_paths = sorted({p for m, p in every_route(web)
                          if m == "GET" and p.startswith(("/media", "/static"))})
    assert "/media/thumb/1" in media_paths
    for path in media_paths:
        probe = re.sub(r"/1(?=/|$)", "/" + bad, path, count=1) if "/1" in path else (
            path.rsplit("/", 1)[0] + "/" + bad)
        resp = client.get(probe)
        # 303: the client normalised ``/static/..`` to ``/``, which redirects to the search.
        assert resp.status_code in (303, 404, 422), f"{probe} answered {resp.status_code}"
        for leak in (b"root:", b"SQLite format", b"import ", b"{% "):
            assert leak not in resp.content, f"{probe} leaked a file"


def test_static_serves_only_listed_files(web: Web) -> None:
    client = web.login("admin")
    for name in ("app.py", "..%2Fapp.py", "templates%2Fbase.html", "%2Fetc%2Fpasswd"):
        assert client.get(f"/static/{name}").status_code == 404


def test_tampered_thumbnail_key_cannot_escape_the_blob_folder(web: Web,
                                                              populated: Services) -> None:
    client = web.login("admin")
    t = s.tracks
    with populated.store.engine.begin() as conn:
        old = conn.execute(t.select().where(t.c.id == 5)).first()
        assert old is not None
        conn.execute(update(t).where(t.c.id == 5).values(thumbnail="../../../../etc/passwd"))
    try:
        resp = client.get("/media/thumb/5")
        assert resp.status_code == 404 and b"root:" not in resp.content
    finally:
        with populated.store.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id == 5).values(thumbnail=old.thumbnail))


# ---------------------------------------------------------------------------------- tokens
def test_bearer_token_authenticates_the_api(web: Web) -> None:
    token = web.accounts.issue_token("operator")
    client = web.client()
    auth = token_headers(token)
    me = client.get("/api/me", headers=auth)
    assert me.status_code == 200 and me.json() == {"name": "operator", "role": "operator",
                                                   "via": "token", "case": CASE}
    assert client.get("/api/search?object=car", headers=auth).status_code == 200
    assert client.get("/media/thumb/1", headers=auth).status_code == 200
    assert not client.cookies  # no session was made for a token call
    web.accounts.revoke_tokens("operator")
    assert client.get("/api/me", headers=auth).status_code == 401


def test_token_posts_need_no_csrf_but_still_need_the_role(web: Web) -> None:
    admin = token_headers(web.accounts.issue_token("admin"))
    if web.accounts.get("aud") is None:
        web.accounts.add("aud", "auditor", PASSWORD)
    auditor = token_headers(web.accounts.issue_token("aud"))
    client = web.client()
    body = {"recordings": ["no-such-recording"]}
    assert client.post("/api/analysis", json=body, headers=admin).status_code == 200
    # An auditor never works on footage, whatever case the token names.
    assert client.post("/api/analysis", json=body, headers=auditor).status_code == 403


def test_a_bad_token_is_not_rescued_by_a_session_cookie(web: Web) -> None:
    client = web.login("admin")
    assert client.get("/api/me").status_code == 200
    assert client.get("/api/me", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_only_the_token_digest_is_stored(web: Web, populated: Services) -> None:
    token = web.accounts.issue_token("supervisor")
    with populated.store.engine.connect() as conn:
        stored = [r.token_sha256 for r in conn.execute(s.api_tokens.select())]
    assert token not in stored
    assert all(len(d) == 64 for d in stored)


# ------------------------------------------------------------------------------ rate limit
def test_login_rate_limited_per_user(web: Web) -> None:
    for _ in range(5):
        assert login(web.client(), "supervisor", "wrong password!").status_code == 401  # type: ignore[attr-defined]
    locked = login(web.client(), "supervisor")  # right password, but locked
    assert locked.status_code == 429  # type: ignore[attr-defined]
    assert int(locked.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "Trop d'échecs" in locked.text or "Trop d&#39;échecs" in locked.text  # type: ignore[attr-defined]
    web.clock.now += 301
    assert login(web.client(), "supervisor").status_code == 303  # type: ignore[attr-defined]


def test_login_rate_limited_per_address(web: Web) -> None:
    # Spraying many names from one address also locks that address, even for a valid user.
    for i in range(WebSettings().login_address_max_failures):
        assert login(web.client(), f"nobody{i}", "wrong password!").status_code == 401  # type: ignore[attr-defined]
    assert login(web.client(), "admin").status_code == 429  # type: ignore[attr-defined]
    web.clock.now += 301
    assert login(web.client(), "admin").status_code == 303  # type: ignore[attr-defined]


# ------------------------------------------------------------- review fixes (sessions, limits)
def test_flood_of_login_page_sessions_never_ends_an_operator_session(store: Store) -> None:
    from retrouve.web.auth import SessionStore

    sessions = SessionStore(store, max_sessions=3)
    uid = store.add_user("op", "h", "operator", datetime(2026, 1, 5, tzinfo=UTC))
    operator = sessions.create(uid)
    for _ in range(50):  # cookie-less GET /login, each one an anonymous session
        sessions.create(None)
    assert sessions.get(operator.id) is not None
    others = [sessions.create(uid) for _ in range(3)]  # logged-in sessions are bounded too
    assert sessions.get(operator.id) is None and all(sessions.get(o.id) for o in others)


def test_parallel_guesses_are_counted_before_the_password_check(store: Store) -> None:
    from retrouve.errors import LoginThrottled
    from retrouve.web.auth import LoginLimiter

    limiter = LoginLimiter(store, clock=lambda: 100.0, max_failures=5)
    for _ in range(5):  # five guesses at one account in flight, none answered yet
        limiter.attempt("admin", "10.0.0.1")
    with pytest.raises(LoginThrottled):
        limiter.attempt("admin", "10.0.0.1")
    # Twenty operators of one control room logging in together are not throttled...
    room = LoginLimiter(store, clock=lambda: 100.0, max_failures=5)
    for n in range(20):
        room.attempt(f"op{n}", "10.0.0.2")
        room.succeeded(f"op{n}", "10.0.0.2")
    # ... but real failures from that address still count.
    for n in range(5):
        room.attempt(f"guess{n}", "10.0.0.2")
        room.failed(f"guess{n}", "10.0.0.2", counted=True)
    with pytest.raises(LoginThrottled):
        room.attempt("op0", "10.0.0.2")


def test_password_change_ends_sessions_and_revokes_tokens(web: Web) -> None:
    from datetime import timedelta

    name = "rotating"
    web.accounts.add(name, "operator", PASSWORD)
    client = web.login(name, case=None)
    token = web.accounts.issue_token(name)
    assert client.get("/api/me").status_code == 200
    assert web.client().get("/api/me", headers={"authorization": f"Bearer {token}"}
                            ).status_code == 200
    later = web.accounts.clock() + timedelta(minutes=5)
    web.accounts.clock = lambda: later
    web.accounts.set_password(name, "another long password")
    assert client.get("/api/me").status_code == 401
    assert web.client().get("/api/me", headers={"authorization": f"Bearer {token}"}
                            ).status_code == 401


@pytest.mark.parametrize("url", ["/search?like=%C2%B2", "/track/1?pos=%C2%B2",
                                 "/track/1?pos=99999999999999999999999",
                                 "/search?offset=999999999"])
def test_odd_numbers_in_urls_are_not_server_errors(web: Web, url: str) -> None:
    assert web.login("operator").get(url).status_code < 500


@pytest.mark.parametrize("query", ["like=99999999999999999999999", "offset=99999999999",
                                   "offset=10001"])
def test_api_refuses_out_of_range_numbers(web: Web, query: str) -> None:
    assert web.login("operator").get(f"/api/search?{query}").status_code == 422
