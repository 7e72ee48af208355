"""Server-side rendering: the Jinja2 environment, the per-request template context, and the navigation.

Every page is a Jinja2 template under ``web/templates`` extending ``base.html``. Text goes through
``_()`` (the request's :class:`~stockwarden.web.i18n.Translator`), so a template never holds a string
that a catalogue lacks (``tests/web/test_i18n.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from stockwarden.web import engine_text, labels
from stockwarden.web.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, lazy

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the main navigation."""

    path: str
    label: str
    permission: str
    active: bool = False


NAV: tuple[tuple[str, str, str], ...] = (
    ("/", lazy("Overview"), "data.read"),
    ("/risk", lazy("Risk list"), "data.read"),
    ("/inbox", lazy("Alerts"), "data.read"),
    ("/proposals", lazy("Proposals"), "data.read"),
    ("/suppliers", lazy("Suppliers"), "data.read"),
    ("/rules", lazy("Rules"), "rules.read"),
    ("/data", lazy("Data"), "data.read"),
    ("/runs", lazy("Runs"), "data.read"),
    ("/admin", lazy("Admin"), "users.admin"),
)


def _tojson_script(value: Any) -> Markup:
    """JSON safe to embed inside ``<script type="application/json">``."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def build_environment(static_version: str) -> Environment:
    """The Jinja2 environment (autoescaped HTML; ``static_url`` adds a cache-busting version)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["json_script"] = _tojson_script
    env.globals["languages"] = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    env.globals["static_version"] = static_version
    return env


class Renderer:
    """Renders a page for a request with the user, the language and the navigation filled in."""

    def __init__(self, *, root_path: str = "", static_version: str = "1") -> None:
        self.env = build_environment(static_version)
        self.root_path = root_path.rstrip("/")
        self.static_version = static_version

    def url(self, path: str) -> str:
        """An absolute path of the web app (the app may be mounted under a prefix)."""
        return f"{self.root_path}{path}" if path.startswith("/") else path

    def page(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        """An HTML response of ``template`` for ``request`` (``request.state`` holds user, translator)."""
        html = self.render(request, template, **values)
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def render(self, request: Request, template: str, **values: Any) -> str:
        """The HTML of ``template`` for ``request``."""
        t: Translator = request.state.t
        user = getattr(request.state, "user", None)
        permissions: frozenset[str] = frozenset(str(p) for p in getattr(user, "permissions", frozenset()))
        path = request.url.path
        nav = [
            NavItem(p, label, perm, active=(p == "/" and path in ("/", "")) or (p != "/" and path.startswith(p)))
            for p, label, perm in NAV
            if perm in permissions
        ]
        context: dict[str, Any] = {
            "request": request,
            "request_path": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
            "t": t,
            "_": t.gettext,
            "gettext": t.gettext,
            "ngettext": t.ngettext,
            "user": user,
            "can": lambda perm: perm in permissions,
            "nav": nav,
            "url": self.url,
            "static_url": lambda p: f"{self.url('/static/' + p)}?v={self.static_version}",
            "csrf_token": getattr(request.state, "csrf", ""),
            "flashes": getattr(request.state, "flashes", []),
        }
        context.update(
            {
                "level_label": lambda c: t.gettext(labels.label(labels.LEVELS, c)),
                "choice_label": lambda c: t.gettext(labels.label(labels.CHOICES, c)),
                "state_label": lambda c: t.gettext(labels.label(labels.ALERT_STATES, c)),
                "action_label": lambda c: t.gettext(labels.label(labels.ALERT_ACTIONS, c)),
                "reason_label": lambda c: t.gettext(labels.label(labels.REASONS, c)),
                "status_label": lambda c: t.gettext(labels.label(labels.PROPOSAL_STATUSES, c)),
                "run_status_label": lambda c: t.gettext(labels.label(labels.RUN_STATUSES, c)),
                "verdict_label": lambda c: t.gettext(labels.label(labels.VERDICTS, c)),
                "role_label": lambda c: t.gettext(labels.label(labels.ROLES, c)),
                "explain": lambda text: labels.explanation(text, t.gettext),
                "override_reasons": [(k, t.gettext(v)) for k, v in labels.OVERRIDE_REASONS.items()],
            }
        )
        context.update(engine_text.bind(t))
        context.update(values)
        return self.env.get_template(template).render(context)


__all__ = ["NAV", "STATIC_DIR", "TEMPLATES_DIR", "NavItem", "Renderer", "build_environment"]
