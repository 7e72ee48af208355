"""The application context and the acting user of a CLI command (``--db``, ``--config``, ``--as``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from stockwarden.cli.app import ACTING_USER
from stockwarden.cli.common import require_existing_database, resolve_db_url
from stockwarden.config import RulesConfig
from stockwarden.domain.actor import Actor
from stockwarden.services import AppContext, build_context
from stockwarden.services.auth import cli_actor
from stockwarden.services.common import MAX_LIMIT, Page

T = TypeVar("T")


@contextmanager
def cli_context(
    db: str | None, *, config: Path | None = None, user: str | None = None, read_only: bool = False
) -> Iterator[tuple[AppContext, Actor]]:
    """The context (engine disposed at the end) and the actor: ``user`` (a command's ``--user``), else the
    global ``--as``, else the OS user.

    ``read_only``: the command only reads, so a SQLite file that does not exist is refused (a mistyped
    ``--db`` must not create an empty database that looks like "no data").

    Raises:
        StoreError: ``read_only`` and ``--db`` names a SQLite file that does not exist.
    """
    url = resolve_db_url(db)
    if read_only:
        require_existing_database(url)
    ctx = build_context(database_url=url, rules_file=config)
    try:
        yield ctx, cli_actor(ctx, user or ACTING_USER["name"])
    finally:
        ctx.engine.dispose()


def use_rules_file(ctx: AppContext, actor: Actor, config: Path | None) -> None:
    """``--config FILE`` given: its rules are the ones the command runs with. When they differ from the
    rules in force (say the file was used before, then the rules were changed in the web editor), they
    become a new version in force, saved as the actor (permission and audit row like any rules change).

    Raises:
        ConfigError: the file cannot be read. FieldErrors: its rules are invalid.
        PermissionDenied: the actor may not change the rules.
    """
    from stockwarden.config import load_rules
    from stockwarden.services.rules import current_rules, save_rules

    if config is None:
        return
    load_rules(config)  # the file's own error messages (path, line) before anything is stored
    text = config.read_text(encoding="utf-8")
    version, _ = current_rules(ctx)
    if version.toml_text != text:
        save_rules(ctx, text, actor=actor, comment=f"--config {config}")


def every(page: Callable[..., Page[T]], ctx: AppContext, *, actor: Actor, **filters: Any) -> list[T]:
    """Every item of a paged service list (``page(ctx, actor=..., limit=..., offset=..., **filters)``)."""
    items: list[T] = []
    while True:
        got = page(ctx, actor=actor, limit=MAX_LIMIT, offset=len(items), **filters)
        items.extend(got.items)
        if not got.items or len(items) >= got.total:
            return items


def rules_in_force(db: str | None) -> RulesConfig:
    """The rules in force in the database (what ``run`` uses; seeded from ./stockwarden.toml)."""
    from stockwarden.services.rules import current_rules

    with cli_context(db, read_only=True) as (ctx, _actor):
        return current_rules(ctx)[1]


__all__ = ["cli_context", "every", "rules_in_force", "use_rules_file"]
