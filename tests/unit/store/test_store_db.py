"""Engine creation and connection errors."""

from __future__ import annotations

import pytest

from stockwarden.errors import StoreError
from stockwarden.store.db import make_engine, normalise_url, upgrade_database


def test_postgresql_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


def test_an_unreachable_database_is_a_store_error_with_one_line(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'a.db'}")
    with pytest.raises(StoreError) as err:
        upgrade_database(engine)
    assert "cannot reach the database" in str(err.value)
    assert "\n" not in str(err.value)


def test_an_unreachable_postgresql_server_is_a_store_error() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot reach the database"):
        upgrade_database(engine)


def test_a_malformed_url_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        make_engine("not a url at all")
