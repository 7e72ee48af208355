"""CLI tests may use a fresh PostgreSQL database (skipped with a reason when none is reachable)."""

from tests.dbfixtures import pg_database_url  # noqa: F401
