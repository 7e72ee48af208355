"""Every state-changing route writes an audit row (the test walks the permission table, so a new route
without a walk entry fails), the trail is append-only, and uploads give the CLI import's report."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.factories import write_table
from tests.factories_app import RULES_TOML, AppWorld
from typer.testing import CliRunner

from stockwarden.api.permissions import ROUTE_PERMISSIONS
from stockwarden.cli import app as cli_app

Call = Callable[[TestClient, AppWorld, Callable[[str], dict[str, str]]], str]
READ_ONLY_POSTS = {("POST", "/api/v1/rules/validate")}  # validates, changes nothing


def _first(client: TestClient, path: str, h: dict[str, str]) -> dict:
    items = client.get(path, headers=h).json()["items"]
    assert items, f"{path} is empty"
    return items[0]


def _ok(r, *codes: int) -> None:
    assert r.status_code in (codes or (200, 201, 202, 204)), r.text


def _alert(action: str, body: dict) -> Call:
    def call(c, w, h):
        a = _first(c, "/api/v1/alerts?state=open,escalated,snoozed", h("admin"))
        _ok(c.post(f"/api/v1/alerts/{a['id']}/{action}", headers=h("admin"), json=body))
        return f"alert.{action}"

    return call


def _upload(c, w, h):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(w.folder.iterdir()):
            z.write(f, f.name)
    _ok(c.post("/api/v1/imports", headers=h("admin"), files={"files": ("data.zip", buf.getvalue(), "application/zip")}))
    return "data.import"


def _ingest(c, w, h):
    rows = [{"date": "2024-03-30", "sku": "SKU-000", "location_id": "WH1", "on_hand": 7}]
    _ok(c.post("/api/v1/ingest/inventory", headers=h("wh1"), json=rows))
    return "data.import"


def _draft(c, h) -> dict:
    return _first(c, "/api/v1/proposals?status=draft", h("admin"))


def _approve(c, w, h):
    p = _draft(c, h)
    _ok(c.post(f"/api/v1/proposals/{p['id']}/approve", headers=h("buyer"), json={"version": p["version"]}))
    return "proposal.approve"


def _approve_po(c, w, h):
    p = _draft(c, h)
    _ok(c.post(f"/api/v1/purchase-orders/{p['po_id']}/approve", headers=h("admin")))
    return "proposal.approve"


def _reject(c, w, h):
    p = _draft(c, h)
    _ok(c.post(f"/api/v1/proposals/{p['id']}/reject", headers=h("buyer"), json={"reason": "overstock"}))
    return "proposal.reject"


def _change(c, w, h):
    p = _draft(c, h)
    body = {"qty": p["qty"] + p["pack_size"], "reason": "demand_knowledge"}
    _ok(c.post(f"/api/v1/proposals/{p['id']}/change", headers=h("planner"), json=body))
    return "proposal.change"


def _export(c, w, h):
    _ok(c.post("/api/v1/proposals/export", headers=h("buyer"), json={"format": "csv"}))
    return "proposal.export"


def _run(c, w, h):
    r = c.post("/api/v1/runs", headers=h("planner"), json={"as_of": "2024-03-30"})
    _ok(r, 202)
    job = w.ctx.cache["run_jobs"][r.json()["job_id"]]
    for _ in range(300):
        if job.state in ("completed", "already_completed", "failed"):
            break
        time.sleep(0.2)
    assert job.state != "failed", job.error
    return "run.start"


def _put_rules(c, w, h):
    # the rules in force plus one entry of the planner's own category
    text = RULES_TOML.replace(
        'learned_model = "never"', 'learned_model = "never"\nservice_level_by_category = {food = 0.97}'
    )
    _ok(c.put("/api/v1/rules", headers=h("planner_food"), json={"toml": text, "comment": "food to 97%"}))
    return "rules.save"


def _proposal(c, h, budget: float) -> int:
    text = RULES_TOML + f"\n[orders]\nbudget = {budget}\n"
    r = c.post("/api/v1/rules/proposals", headers=h("admin"), json={"toml": text, "comment": "tune"})
    _ok(r, 201)
    return int(r.json()["version"])


def _propose_rules(c, w, h):
    _proposal(c, h, 900.0)
    return "rules.propose"


def _approve_rules(c, w, h):
    version = _proposal(c, h, 800.0)
    _ok(c.post(f"/api/v1/rules/versions/{version}/approve", headers=h("admin"), json={"comment": "ok"}))
    return "rules.approve"


def _reject_rules(c, w, h):
    version = _proposal(c, h, 700.0)
    _ok(c.post(f"/api/v1/rules/versions/{version}/reject", headers=h("admin"), json={"comment": "no"}))
    return "rules.reject"


def _add_user(c, w, h):
    _ok(c.post("/api/v1/users", headers=h("admin"), json={"username": "walker", "roles": ["viewer"]}), 201)
    return "user.create"


def _patch_user(c, w, h):
    _ok(c.patch("/api/v1/users/viewer", headers=h("admin"), json={"roles": ["viewer", "buyer"]}))
    return "user.roles"


def _token(c, w, h):
    _ok(c.post("/api/v1/tokens", headers=h("admin"), json={"username": "viewer", "name": "walk"}), 201)
    return "token.create"


def _revoke(c, w, h):
    t = c.post("/api/v1/tokens", headers=h("admin"), json={"username": "viewer", "name": "to revoke"}).json()
    _ok(c.delete(f"/api/v1/tokens/{t['id']}", headers=h("admin")), 204)
    return "token.revoke"


def _login(c, w, h):
    _ok(c.post("/api/v1/auth/login", json={"username": "viewer", "password": "pw-viewer-123"}))
    return "login.success"


def _logout(c, w, h):
    session = TestClient(c.app)
    csrf = session.post("/api/v1/auth/login", json={"username": "buyer", "password": "pw-buyer-123"}).json()
    _ok(session.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf["csrf_token"]}), 204)
    return "logout"


V = "/api/v1"
WALK: dict[tuple[str, str], Call] = {
    ("POST", f"{V}/imports"): _upload,
    ("POST", f"{V}/ingest/{{table}}"): _ingest,
    ("POST", f"{V}/alerts/{{alert_id}}/comment"): _alert("comment", {"comment": "looking"}),
    ("POST", f"{V}/alerts/{{alert_id}}/feedback"): _alert("feedback", {"verdict": "useful"}),
    ("POST", f"{V}/alerts/{{alert_id}}/snooze"): _alert("snooze", {"until": "2024-05-10"}),
    ("POST", f"{V}/alerts/{{alert_id}}/ack"): _alert("ack", {}),
    ("POST", f"{V}/alerts/{{alert_id}}/resolve"): _alert("resolve", {"comment": "done"}),
    ("POST", f"{V}/proposals/{{proposal_id}}/change"): _change,
    ("POST", f"{V}/proposals/{{proposal_id}}/reject"): _reject,
    ("POST", f"{V}/proposals/{{proposal_id}}/approve"): _approve,
    ("POST", f"{V}/purchase-orders/{{po_id}}/approve"): _approve_po,
    ("POST", f"{V}/proposals/export"): _export,
    ("POST", f"{V}/runs"): _run,
    ("PUT", f"{V}/rules"): _put_rules,
    ("POST", f"{V}/rules/proposals"): _propose_rules,
    ("POST", f"{V}/rules/versions/{{version_id}}/approve"): _approve_rules,
    ("POST", f"{V}/rules/versions/{{version_id}}/reject"): _reject_rules,
    ("POST", f"{V}/users"): _add_user,
    ("PATCH", f"{V}/users/{{username}}"): _patch_user,
    ("POST", f"{V}/tokens"): _token,
    ("DELETE", f"{V}/tokens/{{token_id}}"): _revoke,
    ("POST", f"{V}/auth/login"): _login,
    ("POST", f"{V}/auth/logout"): _logout,
}


def test_every_state_changing_route_is_walked() -> None:
    changing = {k for k in ROUTE_PERMISSIONS if k[0] in ("POST", "PUT", "PATCH", "DELETE")} - READ_ONLY_POSTS
    assert changing == set(WALK), f"not walked: {sorted(changing - set(WALK))}; stale: {sorted(set(WALK) - changing)}"


def test_every_state_changing_route_writes_an_audit_row(client: TestClient, world: AppWorld, as_user) -> None:
    admin = as_user("admin")
    failures = []
    for (method, path), call in WALK.items():
        before = client.get("/api/v1/audit?limit=1", headers=admin).json()
        expected = call(client, world, as_user)
        after = client.get("/api/v1/audit?limit=200", headers=admin).json()
        new = [e for e in after["items"] if e["id"] > (before["items"][0]["id"] if before["items"] else 0)]
        actions = {e["action"] for e in new}
        if expected not in actions:
            failures.append(f"{method} {path}: expected {expected}, new rows {sorted(actions)}")
        for e in new:
            if e["via"] == "api":
                assert e["request_id"], e
                assert e["client"], e
    assert not failures, "\n".join(failures)


def test_the_audit_trail_cannot_be_edited_or_deleted(world: AppWorld) -> None:
    with world.ctx.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text("UPDATE audit_log SET username = 'someone else'"))
    with world.ctx.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        conn.execute(sa.text("DELETE FROM audit_log"))


def test_an_upload_with_bad_rows_gives_the_cli_import_report(tmp_path: Path, client: TestClient, as_user) -> None:
    folder = tmp_path / "bad"
    write_table(folder, "items", [{"sku": "X-1", "name": "x", "unit_cost": 1}, {"sku": "X-2", "unit_cost": "abc"}])
    write_table(
        folder,
        "sales",
        [
            {"date": "2024-03-01", "sku": "X-1", "qty": 3, "location_id": "WH1"},
            {"date": "2024-13-01", "sku": "X-1", "qty": 2, "location_id": "WH1"},
            {"date": "2024-03-02", "sku": "X-1", "qty": "lots", "location_id": "WH1"},
        ],
    )
    write_table(folder, "inventory", [{"date": "2024-03-02", "sku": "X-1", "on_hand": 5, "location_id": "WH1"}])
    files = [("files", (f.name, f.read_bytes(), "text/csv")) for f in sorted(folder.iterdir())]
    r = client.post("/api/v1/imports", headers=as_user("admin"), files=files)
    assert r.status_code == 201, r.text
    api = r.json()
    out = tmp_path / "report.json"
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    res = CliRunner().invoke(cli_app, ["import", str(folder), "--db", db, "--json", str(out)])
    assert res.exit_code == 0, res.output
    cli = json.loads(out.read_text())
    assert api["rejects"] == cli["rejects"]
    assert len(api["rejects"]) >= 3
    assert {t: c["rejected"] for t, c in api["tables"].items()} == {t: c["rejected"] for t, c in cli["tables"].items()}
    assert {t: c["read"] for t, c in api["tables"].items()} == {t: c["read"] for t, c in cli["tables"].items()}


def test_unsafe_or_oversized_archives_are_refused(client: TestClient, as_user, world: AppWorld) -> None:
    h = as_user("admin")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../etc/sales.csv", "date,sku,qty\n")
    r = client.post("/api/v1/imports", headers=h, files={"files": ("evil.zip", buf.getvalue(), "application/zip")})
    assert r.status_code == 422 and "unsafe path" in r.json()["detail"]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("sales.csv", b"0" * (world.ctx.settings.max_unzipped_bytes // 64))
    old = world.ctx.settings
    world.ctx.settings = old.model_copy(update={"max_unzipped_bytes": 10_000_000})
    try:
        r = client.post("/api/v1/imports", headers=h, files={"files": ("bomb.zip", bomb.getvalue(), "application/zip")})
        assert r.status_code == 413, r.text
        world.ctx.settings = old.model_copy(update={"max_upload_bytes": 1000})
        big = b"date,sku,qty\n" + b"2024-01-01,X,1\n" * 200
        r = client.post("/api/v1/imports", headers=h, files={"files": ("sales.csv", big, "text/csv")})
        assert r.status_code == 413
    finally:
        world.ctx.settings = old
    r = client.post("/api/v1/imports", headers=h, files={"files": ("notes.txt", b"hello", "text/plain")})
    assert r.status_code == 422
    r = client.post("/api/v1/ingest/nonsense", headers=h, json=[{"a": 1}])
    assert r.status_code == 422 and "unknown table" in r.json()["detail"]
    r = client.post(
        "/api/v1/ingest/sales",
        headers=h,
        content=b"{not json",
    )
    assert r.status_code == 422


def test_an_upload_reads_cells_as_strictly_as_the_cli_import(tmp_path: Path, client: TestClient, as_user) -> None:
    # issue 16 on the API's upload path: an ambiguous day/month date and a decimal comma are rejected
    # with their reason, never read as another value
    folder = tmp_path / "strict"
    write_table(folder, "items", [{"sku": "X-1", "name": "x", "unit_cost": 1}])
    write_table(
        folder,
        "sales",
        [
            {"date": "2024-03-01", "sku": "X-1", "qty": 3, "location_id": "WH1"},
            {"date": "05.03.2024", "sku": "X-1", "qty": 2, "location_id": "WH1"},
            {"date": "2024-03-02", "sku": "X-1", "qty": "1,5", "location_id": "WH1"},
        ],
    )
    write_table(folder, "inventory", [{"date": "2024-03-02", "sku": "X-1", "on_hand": 5, "location_id": "WH1"}])
    files = [("files", (f.name, f.read_bytes(), "text/csv")) for f in sorted(folder.iterdir())]
    r = client.post("/api/v1/imports", headers=as_user("admin"), files=files)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["tables"]["sales"]["rejected"] == 2
    reasons = " ".join(str(x.get("reason", "")) for x in body["rejects"])
    assert "ambiguous" in reasons.lower() and "decimal" in reasons.lower()
