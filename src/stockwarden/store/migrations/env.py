"""Alembic environment: runs the packaged migrations against a given connection or URL.

``stockwarden.store.db.upgrade_database`` passes its connection in ``config.attributes["connection"]``;
the ``alembic`` command line can be used too with ``-x url=...`` or ``sqlalchemy.url``.
Every table module of the project is imported so ``target_metadata`` is the whole schema.
"""

from __future__ import annotations

from alembic import context

from stockwarden.store import load_table_modules
from stockwarden.store.base import Base

load_table_modules()
target_metadata = Base.metadata
config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL without a database (``alembic upgrade --sql``)."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the connection given by stockwarden, or a new engine from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from stockwarden.store.db import make_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url or "sqlite:///stockwarden.db")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
