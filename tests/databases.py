"""Which database the tests' stores use: SQLite in the test's folder (default), or a fresh
PostgreSQL database per test when ``TEST_DATABASE_URL`` names a server
(``scripts/pg_test_server run`` sets it; ``make test`` runs the store, search, legal,
migrations and web tests that way after the SQLite run).

A fresh PostgreSQL database is a copy of a template migrated once per test process
(``CREATE DATABASE … TEMPLATE``: a file copy, ~20 ms with the test server's fsync off),
not a migration per test; :func:`empty_database` is for the migration tests, which start
from nothing. Each database is dropped when its test (or module) is done.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

ENV = "TEST_DATABASE_URL"

_template: str | None = None


def server_url() -> str | None:
    """The PostgreSQL server's URL (its maintenance database), or None for SQLite."""
    return os.environ.get(ENV) or None


def on_postgres() -> bool:
    return server_url() is not None


def _admin() -> Engine:
    url = server_url()
    assert url is not None
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _url_of(name: str) -> str:
    url = server_url()
    assert url is not None
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _create(name: str, template: str) -> None:
    engine = _admin()
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        engine.dispose()


def _drop(name: str) -> None:
    engine = _admin()
    try:
        with engine.connect() as conn:
            # FORCE: a test that failed may have left a connection open.
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _migrated_template() -> str:
    """A database at the newest schema, made once per test process."""
    global _template
    if _template is None:
        from retrouve.store.db import Store

        name = f"tpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _create(name, "template0")
        with tempfile.TemporaryDirectory() as blobs:
            Store(_url_of(name), Path(blobs)).close()
        _template = name
    return _template


@contextmanager
def _fresh(template: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    _create(name, template)
    try:
        yield _url_of(name)
    finally:
        _drop(name)


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str | None]:
    """The ``database_url`` for one store: None (SQLite in the data folder) without a test
    server, else a new PostgreSQL database at the newest schema, dropped afterwards."""
    if not on_postgres():
        yield None
        return
    with _fresh(_migrated_template()) as url:
        yield url


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database (no tables): SQLite file in ``tmp_path`` or a new
    PostgreSQL database."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with _fresh("template0") as url:
        yield url
