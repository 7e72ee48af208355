"""Database fixtures for storage tests, on SQLite and on PostgreSQL.

Use them from a ``conftest.py`` (``from tests.dbfixtures import db_url, engine  # noqa: F401``):

* ``db_url``: parametrised over ``sqlite`` (a file in ``tmp_path``) and ``postgresql`` (a fresh database
  created for the test on the server named by ``STOCKWARDEN_TEST_PG_URL``, default the CI server on
  127.0.0.1:55432, dropped afterwards). Every test gets its own database, so tests run in parallel.
  The PostgreSQL variant skips with the reason when no server is reachable, unless ``CI`` is set:
  then it fails, so CI cannot silently lose the PostgreSQL run.
* ``engine``: an engine on ``db_url`` with the schema upgraded to the newest migration.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"


def pg_admin_url() -> str:
    """The PostgreSQL server used by tests (``STOCKWARDEN_TEST_PG_URL`` or the CI default)."""
    return os.environ.get("STOCKWARDEN_TEST_PG_URL", "").strip() or DEFAULT_PG_URL


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required under CI but not reachable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not reachable ({reason}); set STOCKWARDEN_TEST_PG_URL to run these tests")


def _psycopg_dsn(url: str) -> str:
    u = make_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped at the end)."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a test dependency
        _pg_unavailable(f"psycopg not installed: {exc}")
        raise
    admin = pg_admin_url()
    name = f"sw_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(_psycopg_dsn(admin), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    yield url
    with psycopg.connect(_psycopg_dsn(admin), autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'stockwarden.db'}"
    return str(request.getfixturevalue("pg_database_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url`` with every migration applied."""
    from stockwarden.store.db import make_engine, upgrade_database

    eng = make_engine(db_url)
    upgrade_database(eng)
    yield eng
    eng.dispose()
