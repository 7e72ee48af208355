"""The ASGI application ``stockwarden serve`` runs: the API and the web app."""

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
    """The API app, with the web pages mounted on it (``stockwarden.web.mount``)."""
    from stockwarden.api import create_app
    from stockwarden.web import mount

    app = create_app(ctx)
    mount(app, ctx)
    return app
