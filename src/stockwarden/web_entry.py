"""The ASGI application ``stockwarden serve`` runs: the API, plus the web app when it is installed."""

from __future__ import annotations

from typing import Any

from stockwarden.services.context import AppContext

RULES_FILE_ENV = "STOCKWARDEN_RULES_FILE"


def app_from_environment() -> Any:
    """The app of one server worker process (``stockwarden serve --workers N``): the context is built from
    the environment the command set (``STOCKWARDEN_DATABASE_URL``, ``STOCKWARDEN_RULES_FILE``)."""
    import os
    from pathlib import Path

    from stockwarden.services import build_context

    rules_file = os.environ.get(RULES_FILE_ENV) or None
    ctx = build_context(rules_file=Path(rules_file) if rules_file else None, migrate=False)
    return create_asgi_app(ctx)


def create_asgi_app(ctx: AppContext) -> Any:
    """The API app; ``stockwarden.web.mount(app, ctx)`` adds the web pages when the web package exists."""
    from stockwarden.api import create_app

    app = create_app(ctx)
    try:
        from stockwarden.web import mount  # type: ignore[attr-defined]
    except (ModuleNotFoundError, ImportError):
        return app
    mount(app, ctx)
    return app
