"""Accounts (hashing, roles, tokens) and the ``retrouve users`` / ``serve`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from retrouve.cli import cli
from retrouve.errors import AccountError, AuthError
from retrouve.legal.accounts import Accounts, token_digest
from retrouve.services import Services
from web.conftest import PASSWORD, cheap_hasher, fixed_clock


@pytest.fixture
def accounts(services: Services) -> Accounts:
    return Accounts(services.store, fixed_clock, cheap_hasher())


def test_add_authenticate_and_hash(accounts: Accounts, services: Services) -> None:
    user = accounts.add("marie", "supervisor", PASSWORD)
    assert (user.name, user.role, user.disabled) == ("marie", "supervisor", False)
    stored = services.store.get_user(name="marie")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert accounts.authenticate("marie", PASSWORD).id == user.id
    with pytest.raises(AuthError):
        accounts.authenticate("marie", PASSWORD + "x")
    with pytest.raises(AuthError):
        accounts.authenticate("nobody", PASSWORD)


@pytest.mark.parametrize(
    ("name", "role", "password", "fragment"),
    [
        ("bad name", "operator", PASSWORD, "invalid user name"),
        ("", "operator", PASSWORD, "invalid user name"),
        ("x" * 65, "operator", PASSWORD, "invalid user name"),
        ("ok", "god", PASSWORD, "unknown role"),
        ("ok", "operator", "short", "too short"),
    ],
)
def test_add_refuses(accounts: Accounts, name: str, role: str, password: str,
                     fragment: str) -> None:
    with pytest.raises(AccountError, match=fragment):
        accounts.add(name, role, password)


def test_duplicate_name(accounts: Accounts) -> None:
    accounts.add("paul", "operator", PASSWORD)
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("paul", "admin", PASSWORD)


def test_password_change_and_disable(accounts: Accounts) -> None:
    accounts.add("lea", "operator", PASSWORD)
    accounts.set_password("lea", "another good password")
    with pytest.raises(AuthError):
        accounts.authenticate("lea", PASSWORD)
    assert accounts.authenticate("lea", "another good password").name == "lea"
    token = accounts.issue_token("lea")
    accounts.set_disabled("lea", True)
    with pytest.raises(AuthError):
        accounts.authenticate("lea", "another good password")
    assert accounts.user_for_token(token) is None  # disabling revoked it
    with pytest.raises(AccountError, match="disabled"):
        accounts.issue_token("lea")
    accounts.set_disabled("lea", False)
    assert accounts.authenticate("lea", "another good password").name == "lea"


def test_tokens(accounts: Accounts, services: Services) -> None:
    accounts.add("bot", "operator", PASSWORD)
    token = accounts.issue_token("bot")
    assert token.startswith("rtv_") and len(token) > 40
    user = accounts.user_for_token(token)
    assert user is not None and user.name == "bot"
    assert accounts.user_for_token(token + "x") is None
    assert accounts.user_for_token("not-a-token") is None
    assert services.store.use_api_token(token_digest(token), fixed_clock()) == user.id
    assert accounts.revoke_tokens("bot") == 1
    assert accounts.user_for_token(token) is None


# ------------------------------------------------------------------------------------ CLI
def run(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], input=stdin)


def test_users_commands(tmp_path: Path) -> None:
    added = run(tmp_path, "users", "add", "admin", "--role", "admin", "--password-stdin",
                "--json", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["role"] == "admin"
    prompted = run(tmp_path, "users", "add", "op", "--role", "operator",
                   stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output  # hidden input is not echoed

    listed = run(tmp_path, "users", "list", "--json")
    assert [(u["name"], u["role"]) for u in json.loads(listed.output)] == [
        ("admin", "admin"), ("op", "operator")]

    token = run(tmp_path, "users", "token", "op")
    assert token.exit_code == 0 and token.output.strip().startswith("rtv_")
    revoked = run(tmp_path, "users", "token", "op", "--revoke", "--json")
    assert json.loads(revoked.output) == {"user": "op", "revoked": 1}

    assert run(tmp_path, "users", "passwd", "op", "--password-stdin",
               stdin="a brand new password\n").exit_code == 0
    assert run(tmp_path, "users", "disable", "op").exit_code == 0
    states = {u["name"]: u["disabled"] for u in json.loads(
        run(tmp_path, "users", "list", "--json").output)}
    assert states == {"admin": False, "op": True}
    assert run(tmp_path, "users", "disable", "op", "--enable").exit_code == 0


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (("users", "add", "x", "--role", "operator", "--password-stdin"), "short\n",
         "too short"),
        (("users", "passwd", "ghost", "--password-stdin"), PASSWORD + "\n", "unknown user"),
        (("users", "token", "ghost"), None, "unknown user"),
        (("users", "disable", "ghost"), None, "unknown user"),
    ],
)
def test_users_errors_exit_2(tmp_path: Path, args: tuple[str, ...], stdin: str | None,
                             fragment: str) -> None:
    result = run(tmp_path, *args, stdin=stdin)
    assert result.exit_code == 2
    assert fragment in " ".join(result.output.split())


def test_users_add_needs_a_known_role(tmp_path: Path) -> None:
    result = run(tmp_path, "users", "add", "x", "--role", "god", "--password-stdin",
                 stdin=PASSWORD + "\n")
    assert result.exit_code == 2 and "god" in result.output


@pytest.mark.parametrize("command", [("serve",), ("users",), ("users", "add"),
                                     ("users", "token")])
def test_help(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_serve_builds_the_app_and_runs_uvicorn(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, object] = {}

    def fake_run(app: object, **options: object) -> None:
        seen.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = run(tmp_path, "serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert seen["app"].state.config.secure_cookies is False  # type: ignore[attr-defined]
    assert "no account yet" in " ".join(result.output.split())
    result = run(tmp_path, "serve", "--host", "0.0.0.0")
    assert seen["app"].state.config.secure_cookies is True  # type: ignore[attr-defined]
