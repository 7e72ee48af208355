"""The bilingual (zh-CN / English) web app served by ``stockwarden serve`` at ``/`` (the API is under ``/api``).

Server-rendered Jinja2 pages with a little HTMX / Alpine.js and ECharts, all shipped inside the package
(``static/vendor``, refreshed by ``scripts/refresh_vendor.py``); text from gettext catalogues
(``locales``); every action goes through the application layer (``stockwarden.services``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stockwarden.services.context import AppContext


def create_web_app(ctx: AppContext, *, root_path: str = "") -> FastAPI:
    """The web app over ``ctx`` (see :func:`stockwarden.web.app.create_web_app`)."""
    from stockwarden.web.app import create_web_app as create

    return create(ctx, root_path=root_path)


def mount_web(api: FastAPI, ctx: AppContext) -> FastAPI:
    """Mount the web app at ``/`` of the API application (see :func:`stockwarden.web.app.mount_web`)."""
    from stockwarden.web.app import mount_web as mount

    return mount(api, ctx)


mount = mount_web
"""The name ``stockwarden.web_entry`` calls: mount the web app on the API application."""

__all__ = ["create_web_app", "mount", "mount_web"]
