"""The application context, built once per process, and the one place that commits.

``build_context(settings)`` opens the engine (migrated to the newest schema) and keeps the settings,
the clock and the notifier; the rules in force are read from the stored versions
(:func:`stockwarden.services.rules.current_rules`). ``session_scope(ctx)`` opens a session and a
transaction, commits on success and rolls back on error: repositories take a session and never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from stockwarden.config import Settings


def utc_now() -> dt.datetime:
    """The wall clock, in UTC (the default ``AppContext.clock``)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class AppContext:
    """What every use-case needs: the database, the settings, the clock and the notifier.

    Attributes:
        engine: the database (at the newest schema).
        settings: infrastructure settings (read once, here).
        clock: returns the current time (timezone-aware); tests pass a fixed clock.
        notifier: how messages are sent (None: apprise, built when needed).
        rules_file: the TOML file that seeds the first rules version (default ``./stockwarden.toml``).
        cache: small per-process caches (the rules in force, keyed by their version id).
    """

    engine: Engine
    settings: Settings
    clock: Callable[[], dt.datetime] = utc_now
    notifier: Any = None
    rules_file: Path | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def now(self) -> dt.datetime:
        """The current time from the context's clock."""
        return self.clock()


DEFAULT_RULES_FILE = Path("stockwarden.toml")


def build_context(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    rules_file: Path | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    notifier: Any = None,
    migrate: bool = True,
) -> AppContext:
    """The application context of this process.

    Args:
        settings: infrastructure settings (default: from the environment).
        database_url: overrides ``settings.database_url`` (the ``--db`` option).
        rules_file: the TOML file that seeds the rules (default ``./stockwarden.toml`` when present).
        clock: the clock (tests pass a fixed one).
        notifier: the message sender (tests pass a mock).
        migrate: bring the schema to the newest migration first.

    Raises:
        StoreError: the database cannot be reached or migrated.
    """
    from stockwarden.store.db import make_engine, upgrade_database

    settings = settings or Settings()
    if database_url and database_url.strip():
        settings = settings.model_copy(update={"database_url": database_url.strip()})
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade_database(engine)
    if rules_file is None and DEFAULT_RULES_FILE.is_file():
        rules_file = DEFAULT_RULES_FILE
    return AppContext(engine=engine, settings=settings, clock=clock, notifier=notifier, rules_file=rules_file)


@contextmanager
def session_scope(ctx: AppContext) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on an exception."""
    with Session(ctx.engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_scope(ctx: AppContext) -> Iterator[Session]:
    """A session for reads only (nothing is committed)."""
    with Session(ctx.engine, expire_on_commit=False) as session:
        yield session


__all__ = ["DEFAULT_RULES_FILE", "AppContext", "build_context", "read_scope", "session_scope", "utc_now"]
