"""Rules proposals through the API: stored awaiting approval, in force only once a person approves them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.factories_app import AppWorld

from stockwarden.api import create_app


def _headers(world: AppWorld, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[name]}"}


def test_a_proposal_is_in_force_only_after_approval_and_a_viewer_cannot_approve(fresh_world: AppWorld) -> None:
    c = TestClient(create_app(fresh_world.ctx), raise_server_exceptions=False)
    admin, viewer = _headers(fresh_world, "admin"), _headers(fresh_world, "viewer")
    before = c.get("/api/v1/rules", headers=admin).json()
    text = before["toml"] + "\n[orders]\nbudget = 750.0\n"
    assert c.post("/api/v1/rules/proposals", json={"toml": text}, headers=viewer).status_code == 403
    r = c.post("/api/v1/rules/proposals", json={"toml": text, "comment": "tune"}, headers=admin)
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert proposal["status"] == "proposed" and [x["path"] for x in proposal["changes"]] == ["orders.budget"]
    assert c.get("/api/v1/rules", headers=admin).json()["version"] == before["version"]
    listed = {v["id"]: v["status"] for v in c.get("/api/v1/rules/versions", headers=viewer).json()["items"]}
    assert listed[proposal["version"]] == "proposed"

    url = f"/api/v1/rules/versions/{proposal['version']}"
    assert c.post(url + "/approve", json={}, headers=viewer).status_code == 403
    assert c.get("/api/v1/rules", headers=admin).json()["version"] == before["version"]
    r = c.post(url + "/approve", json={"comment": "checked"}, headers=admin)
    assert r.status_code == 200, r.text
    now = c.get("/api/v1/rules", headers=admin).json()
    assert now["version"] == proposal["version"] and now["rules"]["orders"]["budget"] == 750.0
    again = c.post(url + "/reject", json={}, headers=admin)
    assert again.status_code in (400, 409, 422) and "not awaiting approval" in again.text
    assert c.post("/api/v1/rules/versions/999999/approve", json={}, headers=admin).status_code == 404
