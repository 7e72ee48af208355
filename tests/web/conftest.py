"""Fixtures of the web tests: a small sample company run once per session, users per role, a live server.

The browser tests drive Debian's Chromium (``/usr/lib/chromium/chromium``) through Playwright; outside
CI they skip when it is absent, under CI (``CI`` set) they fail. Screenshots go to
``tests/web/artifacts/`` (``STOCKWARDEN_WEB_ARTIFACTS`` overrides), in both languages.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("STOCKWARDEN_CHROMIUM", "/usr/lib/chromium/chromium"))
ARTIFACTS = Path(os.environ.get("STOCKWARDEN_WEB_ARTIFACTS", Path(__file__).parent / "artifacts"))
USERS = {
    "planner": ("pat", "planner-pass-1", {}),
    "buyer": ("bea", "buyer-pass-1", {}),
    "warehouse": ("wes", "warehouse-pass-1", {"locations": ["ST-BJ"]}),
    "admin": ("ada", "admin-pass-1", {}),
    "viewer": ("vic", "viewer-pass-1", {}),
}


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database holding a small sample company after one daily run (made once per session)."""
    pytest.importorskip("stockwarden.services.auth", reason="the application layer (services) is not merged yet")
    root = tmp_path_factory.mktemp("webdemo")
    url = f"sqlite:///{root / 'demo.db'}"
    exe = Path(sys.executable).with_name("stockwarden")
    cmd = [str(exe), "demo", "--dir", str(root / "company"), "--db", url, "--skus", "40", "--locations", "2"]
    cmd += ["--days", "240", "--forecast-mode", "stats", "--top", "1"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return url


@pytest.fixture(scope="session")
def web_ctx(web_db: str):  # type: ignore[no-untyped-def]
    """The application context over :func:`web_db` with one user per role."""
    pytest.importorskip("stockwarden.services.auth", reason="the application layer (services) is not merged yet")
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services import users
    from stockwarden.services.context import build_context

    ctx = build_context(database_url=web_db)
    existing = {u.username for u in users.list_users(ctx, actor=SYSTEM_ACTOR).items}
    for role, (name, password, extra) in USERS.items():
        if name not in existing:
            users.add_user(ctx, name, password=password, roles=[role], actor=SYSTEM_ACTOR, **extra)
    return ctx


@pytest.fixture(scope="session")
def web_app(web_ctx):  # type: ignore[no-untyped-def]
    from stockwarden.web import create_web_app

    app = create_web_app(web_ctx)
    app.state.web.preview_warm = False  # no background replay competing with the tests (tested on its own)
    return app


def login(client, role: str, *, lang: str | None = "en") -> None:  # type: ignore[no-untyped-def]
    """Sign ``client`` in as the user of ``role``, with ``lang`` as the user's language (None: keep theirs).

    The language is a per-user preference kept in the shared database, so another test (a browser test
    in Chinese, say) may have left a different one: every test starts from the language it states.
    """
    name, password, _ = USERS[role]
    r = client.post("/login", data={"username": name, "password": password, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    if lang is None:
        return
    csrf = csrf_of(client.get("/").text)
    r = client.post("/language", data={"csrf": csrf, "lang": lang, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered page."""
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(web_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The web app served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(web_app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """A headless Debian Chromium driven by Playwright (skips outside CI when absent)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs it (apt-get install chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def today() -> dt.date:
    return dt.date.today()


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """The fields a browser would post for the form ``form_id`` as rendered (checked boxes, selected options)."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = False
            self.fields: list[tuple[str, str]] = []
            self.select: str | None = None
            self.first_option: str | None = None
            self.chosen = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            if tag == "form" and a.get("id") == form_id:
                self.inside = True
            if not self.inside:
                return
            if tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
                if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                    return
                self.fields.append((a["name"], a.get("value", "")))
            elif tag == "select":
                self.select, self.first_option, self.chosen = a.get("name"), None, False
            elif tag == "option" and self.select:
                if self.first_option is None:
                    self.first_option = a.get("value", "")
                if "selected" in a:
                    self.fields.append((self.select, a.get("value", "")))
                    self.chosen = True

        def handle_endtag(self, tag: str) -> None:
            if tag == "select" and self.select:
                if not self.chosen and self.first_option is not None:
                    self.fields.append((self.select, self.first_option))
                self.select = None
            if tag == "form":
                self.inside = False

    p = Parser()
    p.feed(html)
    return p.fields


def html_table(html: str, table_id: str) -> list[dict[str, str]]:
    """The rows of the table ``table_id`` as dicts keyed by its header cells (text only)."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "table" and dict(attrs).get("id") == table_id:
                self.depth = 1
            elif self.depth and tag == "tr":
                self.rows.append([])
            elif self.depth and tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if self.depth and tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "table":
                self.depth = 0

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    p = Parser()
    p.feed(html)
    if not p.rows:
        return []
    header, *body = p.rows
    return [dict(zip(header, row, strict=False)) for row in body]
