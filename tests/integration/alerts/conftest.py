"""Alert storage tests run on SQLite and PostgreSQL (see tests/dbfixtures.py)."""

from tests.dbfixtures import db_url, engine, pg_database_url  # noqa: F401
