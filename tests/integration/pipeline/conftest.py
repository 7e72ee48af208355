"""Pipeline tests run on SQLite and PostgreSQL (see tests/dbfixtures.py)."""

from tests.dbfixtures import db_url, pg_database_url  # noqa: F401
