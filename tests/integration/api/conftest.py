"""API tests: one world (two locations, two categories, a real run, one user per role) per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.dbfixtures import db_url, engine, pg_database_url  # noqa: F401
from tests.factories_app import AppWorld, make_world

from stockwarden.api import create_app


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppWorld]:
    """The shared world of a test module (SQLite)."""
    w = make_world(tmp_path_factory.mktemp("world"))
    yield w
    w.ctx.engine.dispose()


@pytest.fixture(scope="module")
def client(world: AppWorld) -> TestClient:
    """A test client of the API over the world's context (server errors surface as 500 responses)."""
    return TestClient(create_app(world.ctx), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def as_user(world: AppWorld) -> Callable[[str], dict[str, str]]:
    """``as_user("buyer")`` -> the Authorization header of that user's token."""
    return lambda name: {"Authorization": f"Bearer {world.tokens[name]}"}


@pytest.fixture
def fresh_world(tmp_path: Path) -> Iterator[AppWorld]:
    """A world of its own for tests that change shared state (SQLite, no run)."""
    w = make_world(tmp_path, run=False)
    yield w
    w.ctx.engine.dispose()
