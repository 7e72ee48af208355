"""The application layer on SQLite and PostgreSQL alike: scope, audit, tokens, optimistic approval,
run lock and the append-only trail (the PostgreSQL variant runs in CI like the storage tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.factories_app import make_world

from stockwarden.api import create_app
from stockwarden.errors import Conflict
from stockwarden.services import runs


def test_the_api_behaves_the_same_on_each_database(tmp_path: Path, db_url: str) -> None:
    w = make_world(tmp_path, url=db_url)
    try:
        c = TestClient(create_app(w.ctx), raise_server_exceptions=False)
        h = {name: {"Authorization": f"Bearer {t}"} for name, t in w.tokens.items()}
        mine = c.get("/api/v1/assessments?limit=1000", headers=h["wh1"]).json()
        everything = c.get("/api/v1/assessments?limit=1000", headers=h["admin"]).json()
        assert {i["location_id"] for i in mine["items"]} == {"WH1"} and everything["total"] > mine["total"]
        other = c.get("/api/v1/alerts?location=WH2", headers=h["admin"]).json()["items"][0]["id"]
        assert c.get(f"/api/v1/alerts/{other}", headers=h["wh1"]).status_code == 404
        assert c.post(f"/api/v1/alerts/{other}/ack", headers=h["warehouse"]).status_code == 200
        assert c.post(f"/api/v1/alerts/{other}/ack", headers=h["warehouse"]).status_code == 409
        p = c.get("/api/v1/proposals?status=draft", headers=h["admin"]).json()["items"][0]
        body = {"version": p["version"]}
        assert c.post(f"/api/v1/proposals/{p['id']}/approve", headers=h["buyer"], json=body).status_code == 200
        assert c.post(f"/api/v1/proposals/{p['id']}/approve", headers=h["buyer"], json=body).status_code == 409
        audit = c.get("/api/v1/audit?limit=50", headers=h["admin"]).json()
        assert {"alert.ack", "proposal.approve", "run.start", "data.import"} <= {e["action"] for e in audit["items"]}
        runs.acquire_lock(w.ctx, holder="other", lease=dt.timedelta(minutes=1))
        with pytest.raises(Conflict):
            runs.acquire_lock(w.ctx, holder="me")
        runs.release_lock(w.ctx, holder="other")
        with w.ctx.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.execute(sa.text("DELETE FROM audit_log"))
    finally:
        w.ctx.engine.dispose()
