"""The error tree's contract: input errors are the caller's (HTTP 400 / exit 2, or the web's own
401/403/429), everything else is our failure (HTTP 500 with a generic message / exit 1)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi.testclient import TestClient

import retrouve.errors as errors_module
from conftest import make_services
from retrouve.cli import cli
from retrouve.config import Settings, WebSettings
from retrouve.domain import Camera
from retrouve.errors import (
    AccessError,
    AccountError,
    AnalysisError,
    AuthError,
    BackupError,
    CaseError,
    CatalogueError,
    ClaimLost,
    ConfigError,
    CorruptStill,
    CsrfRejected,
    DiskFull,
    DuplicateCameraError,
    EvaluationError,
    ExportError,
    FootageChanged,
    Forbidden,
    ImageTooLarge,
    InputError,
    JournalError,
    LiveSourceRefused,
    LoginThrottled,
    MediaError,
    MissingExtraError,
    ModelError,
    NoCaseError,
    NotAuthenticated,
    NotPermitted,
    OutOfScope,
    PackError,
    PackRefused,
    QueryError,
    QueryTooLong,
    RangeNotSatisfiable,
    RecordingTimeError,
    RetrouveError,
    SourceChanged,
    StoreError,
    UnknownCameraError,
)
from retrouve.legal.accounts import Accounts
from retrouve.search.engine import Searcher
from retrouve.services import Services
from retrouve.store.db import Store
from retrouve.web import create_app
from web.conftest import case_over_everything, token_headers

#: Every project error class, one instance each, with its HTTP status and CLI exit code.
CASES: list[tuple[RetrouveError, int, int]] = [
    (RetrouveError("x"), 500, 1),
    (StoreError("database is locked"), 500, 1),
    (ModelError("weights missing"), 500, 1),
    (PackError("model pack 'yolo': cannot load graph model"), 500, 1),
    (AnalysisError("unit failed"), 500, 1),
    (JournalError("cannot load or create the journal key"), 500, 1),
    (InputError("x"), 400, 2),
    (ConfigError("unknown setting"), 400, 2),
    (MissingExtraError("gpu", "the detector"), 400, 2),
    (CatalogueError("x"), 400, 2),
    (LiveSourceRefused("rtsp://cam"), 400, 2),
    (UnknownCameraError("cam-99"), 400, 2),
    (DuplicateCameraError("cam-12"), 400, 2),
    (RecordingTimeError("no start"), 400, 2),
    (MediaError("cannot decode cam-12/x (x.mp4)"), 400, 2),
    (CorruptStill("cannot use x.jpg: the decoder reported corrupt image data"), 400, 2),
    (ImageTooLarge("cannot use x.png: png image of 16000×16000"), 400, 2),
    (QueryError("bad colour"), 400, 2),
    (QueryTooLong("plate pattern of 400 characters: at most 32"), 400, 2),
    (EvaluationError("bad dataset"), 400, 2),
    (AccountError("unknown user 'bob'"), 400, 2),
    (AuthError("unknown user or wrong password"), 400, 2),
    (CaseError("unknown case 'PV-1'"), 400, 2),
    (NoCaseError("search needs a case"), 409, 2),
    (SourceChanged("cam.mp4 changed since ingest"), 400, 2),
    (ExportError("export 3 waits for a supervisor's approval"), 400, 2),
    (BackupError("/b: blobs/x was altered (SHA-256 differs)"), 400, 2),
    (FootageChanged("cam.mp4 changed since ingest: not analysed"), 400, 2),
    (DiskFull("no space left on /data"), 500, 1),
    (ClaimLost("unit r@0 is held by analysis run 7"), 500, 1),
    (OutOfScope("track 12 is not in case PV-1"), 404, 2),
    (NotPermitted("user 'bob' (operator) may not create-case"), 403, 2),
    (PackRefused("model pack archive x.zip: sha256 mismatch"), 400, 2),
    (RangeNotSatisfiable("bytes=9-", 4, "range starts past the end"), 416, 2),
    (AccessError("x"), 400, 2),
    (NotAuthenticated(), 401, 2),
    (Forbidden(("admin",)), 403, 2),
    (CsrfRejected("missing or wrong CSRF token"), 403, 2),
    (LoginThrottled(30), 429, 2),
]


def test_every_error_class_is_in_the_table() -> None:
    defined = {cls for _, cls in inspect.getmembers(errors_module, inspect.isclass)
               if issubclass(cls, RetrouveError)}
    assert defined == {type(exc) for exc, _, _ in CASES}


def test_every_error_class_is_drawn_in_the_tree() -> None:
    drawn = errors_module.__doc__ or ""
    for exc, _, _ in CASES:
        assert f" {type(exc).__name__} " in drawn, type(exc).__name__


@pytest.mark.parametrize(("exc", "status", "code"), CASES, ids=lambda v: type(v).__name__)
def test_class_attributes(exc: RetrouveError, status: int, code: int) -> None:
    assert (exc.http_status, exc.exit_code) == (status, code)
    assert isinstance(exc, InputError) == (code == 2)


def test_pack_refused_is_still_a_pack_error() -> None:
    assert issubclass(PackRefused, PackError) and issubclass(PackRefused, ModelError)


@pytest.fixture(scope="module")
def raising_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The real application (its handlers), plus one route raising ``CASES[i]``."""
    services = make_services(Settings(data_dir=tmp_path_factory.mktemp("err"), workers=1,
                                      executor="inline"))
    accounts = Accounts(services.store, services.clock, PasswordHasher(1, 8, 1))
    app = create_app(services, WebSettings(secure_cookies=False), accounts=accounts)

    def boom(i: int) -> None:
        raise CASES[i][0]

    app.add_api_route("/api/test-raise/{i}", boom)
    try:
        yield TestClient(app, follow_redirects=False)
    finally:
        services.close()


@pytest.mark.parametrize("i", range(len(CASES)), ids=[type(c[0]).__name__ for c in CASES])
def test_http_status(raising_client: TestClient, i: int,
                     caplog: pytest.LogCaptureFixture) -> None:
    exc, status, _ = CASES[i]
    with caplog.at_level(logging.ERROR, logger="retrouve.web.app"):
        resp = raising_client.get(f"/api/test-raise/{i}")
    assert resp.status_code == status
    detail = resp.json()["detail"]
    if status == 500:
        # Our failures: a generic answer (no internals to the client), the detail in the log.
        assert str(exc) not in detail
        assert str(exc) in caplog.text
    elif status in (400, 403, 409):
        assert detail in (str(exc), "CSRF token missing or wrong")
    if status == 401:
        assert resp.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("exc", "code"), [(e, c) for e, _, c in CASES],
                         ids=[type(c[0]).__name__ for c in CASES])
def test_cli_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: RetrouveError,
                       code: int) -> None:
    def fails(self: Store, *args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(Store, "list_recordings", fails)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "recordings"])
    assert result.exit_code == code, result.output
    assert str(exc).split()[0] in " ".join(result.output.split())


def test_a_database_failure_is_not_bad_input(tmp_path: Path, services: Services,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A real command and a real API call over a store whose database fails."""
    accounts = Accounts(services.store, services.clock, PasswordHasher(1, 8, 1))
    accounts.add("admin", "admin", "correct horse battery")
    token = accounts.issue_token("admin")

    def locked(self: Store, *args: object, **kwargs: object) -> None:
        raise StoreError("database /data/retrouve.db: database is locked")

    monkeypatch.setattr(Store, "list_cameras", locked)
    monkeypatch.setattr(Store, "list_recordings", locked)
    app = create_app(services, accounts=accounts)
    with TestClient(app, base_url="https://testserver") as client:
        resp = client.get("/api/cameras", headers={"authorization": f"Bearer {token}"})
    assert resp.status_code == 500
    assert "locked" not in resp.text
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "recordings"])
    assert result.exit_code == 1
    assert "database is locked" in result.output


def test_accounts_keep_store_failures(services: Services,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding an account over a failing database is a StoreError, not an AccountError."""
    accounts = Accounts(services.store, services.clock, PasswordHasher(1, 8, 1))

    def broken(self: Store, *args: object, **kwargs: object) -> None:
        raise StoreError("database is locked")

    monkeypatch.setattr(Store, "add_user", broken)
    with pytest.raises(StoreError) as info:
        accounts.add("alice", "operator", "correct horse battery")
    assert not isinstance(info.value, InputError)


@pytest.mark.parametrize(("failure", "status"), [
    (StoreError("database is locked"), 500),
    (QueryError("unknown colour 'mauve'"), 200),  # shown on the search form
])
def test_search_page_tells_bad_input_from_failure(services: Services,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  failure: RetrouveError, status: int) -> None:
    accounts = Accounts(services.store, services.clock, PasswordHasher(1, 8, 1))
    accounts.add("op", "operator", "correct horse battery")
    token = accounts.issue_token("op")
    services.catalogue.add_camera(Camera("cam1", "Rue", "Europe/Paris"))
    case_over_everything(services, ("op",))

    def fails(self: Searcher, *args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(Searcher, "search", fails)
    app = create_app(services, accounts=accounts)
    with TestClient(app, base_url="https://testserver") as client:
        resp = client.get("/search?object=car", headers=token_headers(token))
    assert resp.status_code == status
    assert ("mauve" in resp.text) == (status == 200)
    assert "locked" not in resp.text
