"""The ASGI application ``stockwarden serve`` runs: the API, plus the web app when it is installed."""

from __future__ import annotations

from typing import Any

from stockwarden.services.context import AppContext


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
