"""Every route of the API declares its permission in the one table, and the table names no dead route."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stockwarden.api.main import api_routes
from stockwarden.api.permissions import ROUTE_PERMISSIONS


def test_every_route_has_a_permission_and_every_permission_a_route(client: TestClient) -> None:
    routes = set(api_routes(client.app))  # type: ignore[arg-type]
    missing = sorted(routes - set(ROUTE_PERMISSIONS))
    dead = sorted(set(ROUTE_PERMISSIONS) - routes)
    assert not missing, f"routes without a permission in api/permissions.py: {missing}"
    assert not dead, f"permissions for routes that do not exist: {dead}"


def test_a_route_missing_from_the_table_is_refused(client: TestClient, monkeypatch) -> None:
    from stockwarden.api import permissions

    monkeypatch.delitem(permissions.ROUTE_PERMISSIONS, ("GET", "/api/v1/health"))
    r = client.get("/api/v1/health")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")


def test_openapi_and_docs_are_served_from_the_package(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/assessments" in schema["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/static/swagger/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/api/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/static/swagger/swagger-ui.css").status_code == 200
