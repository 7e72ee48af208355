"""The application context and the acting user of a CLI command (``--db``, ``--config``, ``--as``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stockwarden.cli.app import ACTING_USER
from stockwarden.cli.common import resolve_db_url
from stockwarden.domain.actor import Actor
from stockwarden.services import AppContext, build_context
from stockwarden.services.auth import cli_actor


@contextmanager
def cli_context(
    db: str | None, *, config: Path | None = None, user: str | None = None
) -> Iterator[tuple[AppContext, Actor]]:
    """The context (engine disposed at the end) and the actor: ``user`` (a command's ``--user``), else the
    global ``--as``, else the OS user."""
    ctx = build_context(database_url=resolve_db_url(db), rules_file=config)
    try:
        yield ctx, cli_actor(ctx, user or ACTING_USER["name"])
    finally:
        ctx.engine.dispose()


__all__ = ["cli_context"]
