"""Database engines and schema upgrades (SQLite by default, PostgreSQL by URL).

``make_engine(url)`` builds an engine with the right settings for each database: SQLite gets WAL
journaling, ``synchronous=NORMAL`` and enforced foreign keys on every connection; PostgreSQL URLs
are normalised to the psycopg 3 driver. ``upgrade_database(engine)`` brings the schema to the newest
Alembic revision (the migrations are packaged in ``stockwarden/store/migrations``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from stockwarden.errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs (``postgresql://`` and ``postgres://``).

    Example:
        >>> normalise_url("postgresql://u@localhost/db")
        'postgresql+psycopg://u@localhost/db'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` (SQLite file or memory, or PostgreSQL through psycopg 3).

    The engine is lazy: nothing connects until first use (see :func:`check_connection`).

    Raises:
        StoreError: when the URL is malformed or names a database driver that is not installed.
    """
    url = normalise_url(url.strip())
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"database URL {url!r} is not valid (expected e.g. sqlite:///stockwarden.db)") from exc
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"database URL {parsed.render_as_string()!r}: driver not available ({exc})") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA cache_size=-65536")  # up to 64 MiB of page cache: bulk loads stay in memory
    finally:
        cursor.close()


def describe(engine: Engine) -> str:
    """The engine's URL without password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def check_connection(engine: Engine) -> None:
    """Connect once to make sure the database can be reached.

    Raises:
        StoreError: with a one-line reason when it cannot.
    """
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as exc:
        raise StoreError(f"cannot reach the database {describe(engine)}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return lines[0] if lines else type(orig).__name__


def alembic_config(engine: Engine | None = None) -> Any:
    """An Alembic ``Config`` pointing at the packaged migrations (and at ``engine`` when given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade_database(engine: Engine, revision: str = "heads") -> None:
    """Bring the database schema to the newest migration (``alembic upgrade heads``).

    Raises:
        StoreError: when the database cannot be reached or a migration fails.
    """
    from alembic import command
    from alembic.util import CommandError

    check_connection(engine)
    cfg = alembic_config(engine)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except (OperationalError, DBAPIError) as exc:
        raise StoreError(f"cannot upgrade the database {describe(engine)}: {_first_line(exc)}") from exc
    except CommandError as exc:
        raise StoreError(f"cannot upgrade the database {describe(engine)}: {exc}") from exc


def current_revisions(engine: Engine) -> set[str]:
    """The Alembic revisions the database is at (empty for a fresh database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "check_connection",
    "current_revisions",
    "describe",
    "make_engine",
    "normalise_url",
    "upgrade_database",
]
