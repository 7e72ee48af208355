"""Tokens (hashed at rest, shown once, expiry, revocation, read-only, last use), password sign-in with
throttling, browser sessions with CSRF, and the CLI's user administration."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.factories_app import AppWorld
from typer.testing import CliRunner

from stockwarden.api import create_app
from stockwarden.cli import app as cli_app
from stockwarden.services import auth


def _client(world: AppWorld) -> TestClient:
    return TestClient(create_app(world.ctx), raise_server_exceptions=False)


def test_tokens_are_stored_only_as_hashes(fresh_world: AppWorld) -> None:
    with fresh_world.ctx.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(sa.text("SELECT token_hash, prefix, name FROM api_tokens"))]
    secrets = set(fresh_world.tokens.values())
    assert stored
    for row in stored:
        assert not any(s in str(value) for s in secrets for value in row)
    assert all(len(r[0]) == 64 for r in stored)


def test_revoked_and_expired_tokens_are_refused(fresh_world: AppWorld) -> None:
    c = _client(fresh_world)
    admin = fresh_world.actors["admin"]
    new = auth.create_token(fresh_world.ctx, "viewer", actor=admin)
    h = {"Authorization": f"Bearer {new.secret}"}
    assert c.get("/api/v1/me", headers=h).status_code == 200
    auth.revoke_token(fresh_world.ctx, new.token.id, actor=admin)
    r = c.get("/api/v1/me", headers=h)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    short = auth.create_token(fresh_world.ctx, "viewer", expires_days=1, actor=admin)
    hs = {"Authorization": f"Bearer {short.secret}"}
    assert c.get("/api/v1/me", headers=hs).status_code == 200
    fresh_world.ctx.clock = lambda: dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
    assert c.get("/api/v1/me", headers=hs).status_code == 401
    assert c.get("/api/v1/me", headers={"Authorization": "Bearer sw_not-a-token"}).status_code == 401
    assert c.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_last_use_is_recorded_and_listing_never_shows_the_token(fresh_world: AppWorld) -> None:
    c = _client(fresh_world)
    h = {"Authorization": f"Bearer {fresh_world.tokens['viewer']}"}
    assert c.get("/api/v1/me", headers=h).status_code == 200
    listed = c.get("/api/v1/tokens?username=viewer", headers={"Authorization": f"Bearer {fresh_world.tokens['admin']}"})
    body = listed.json()
    assert body["total"] >= 1
    assert body["items"][0]["last_used_at"] is not None
    assert fresh_world.tokens["viewer"] not in listed.text


def test_a_read_only_token_cannot_change_anything(fresh_world: AppWorld) -> None:
    c = _client(fresh_world)
    ro = auth.create_token(fresh_world.ctx, "admin", read_only=True, actor=fresh_world.actors["admin"])
    h = {"Authorization": f"Bearer {ro.secret}"}
    assert c.get("/api/v1/users", headers=h).status_code == 403  # users.admin is a write permission
    assert c.get("/api/v1/rules", headers=h).status_code == 200
    r = c.put("/api/v1/rules", headers=h, json={"toml": "[run]\nforecast_mode = 'fast'\n"})
    assert r.status_code == 403


def test_a_disabled_user_is_refused_at_once(fresh_world: AppWorld) -> None:
    c = _client(fresh_world)
    admin = {"Authorization": f"Bearer {fresh_world.tokens['admin']}"}
    h = {"Authorization": f"Bearer {fresh_world.tokens['buyer']}"}
    assert c.get("/api/v1/me", headers=h).status_code == 200
    assert c.patch("/api/v1/users/buyer", headers=admin, json={"is_active": False}).status_code == 200
    assert c.get("/api/v1/me", headers=h).status_code == 401


def test_failed_logins_are_throttled_per_user_and_client(fresh_world: AppWorld) -> None:
    c = _client(fresh_world)
    for _ in range(5):
        r = c.post("/api/v1/auth/login", json={"username": "viewer", "password": "wrong-password"})
        assert r.status_code == 401
    r = c.post("/api/v1/auth/login", json={"username": "viewer", "password": "pw-viewer-123"})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    # another user from the same client is not blocked
    assert c.post("/api/v1/auth/login", json={"username": "buyer", "password": "pw-buyer-123"}).status_code == 200
    # after the window the right password works again
    fresh_world.ctx.clock = lambda: dt.datetime(2024, 4, 30, 7, 0, tzinfo=dt.UTC)
    assert c.post("/api/v1/auth/login", json={"username": "viewer", "password": "pw-viewer-123"}).status_code == 200
    admin = {"Authorization": f"Bearer {fresh_world.tokens['admin']}"}
    actions = [e["action"] for e in c.get("/api/v1/audit?object=user&limit=100", headers=admin).json()["items"]]
    assert actions.count("login.failure") == 5
    assert actions.count("login.success") == 2


def test_cookie_sessions_need_the_csrf_token_on_changes(fresh_world: AppWorld) -> None:
    c = _client(fresh_world)
    r = c.post("/api/v1/auth/login", json={"username": "admin", "password": "pw-admin-123"})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    csrf = r.json()["csrf_token"]
    assert c.get("/api/v1/me").json()["csrf_token"] == csrf
    body = {"username": "newbie", "roles": ["viewer"]}
    refused = c.post("/api/v1/users", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert c.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert c.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    # a forged cookie is refused
    c.cookies.set("sw_session", "forged.0000")
    assert c.get("/api/v1/me").status_code == 401
    # sign out ends the session at once
    good = _client(fresh_world)
    r = good.post("/api/v1/auth/login", json={"username": "viewer", "password": "pw-viewer-123"})
    token = r.json()["csrf_token"]
    assert good.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    stale = _client(fresh_world)
    stale.cookies.set("sw_session", r.cookies["sw_session"])
    assert stale.get("/api/v1/me").status_code == 401


def test_cli_creates_the_first_user_and_prints_a_token_once(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    r = runner.invoke(
        cli_app, ["users", "add", "alice", "--role", "admin", "--password-stdin", "--db", db], input="s3cret-pass\n"
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["users", "add", "bob", "--role", "warehouse", "--location", "WH1", "--db", db])
    assert r.exit_code == 0, r.output
    # bob may not administer users
    r = runner.invoke(cli_app, ["--as", "bob", "users", "add", "eve", "--role", "admin", "--db", db])
    assert r.exit_code == 2
    assert "users.admin" in r.output
    r = runner.invoke(cli_app, ["tokens", "create", "alice", "--name", "ci", "--expires-days", "30", "--db", db])
    assert r.exit_code == 0, r.output
    secret = r.output.strip().splitlines()[-1]
    assert secret.startswith("sw_") and " " not in secret
    listed = runner.invoke(cli_app, ["tokens", "list", "--db", db])
    assert secret not in listed.output
    r = runner.invoke(cli_app, ["--as", "nobody", "users", "list", "--db", db])
    assert r.exit_code == 2 and "no such user" in r.output
    audit = runner.invoke(cli_app, ["audit", "list", "--user", "bob", "--db", db])
    assert audit.exit_code == 0
    r = runner.invoke(cli_app, ["audit", "list", "--object", "token", "--db", db])
    assert "audit trail (1 of 1)" in r.output  # the one token created


def test_serve_refuses_a_network_address_while_no_user_exists(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    r = runner.invoke(cli_app, ["serve", "--db", db, "--host", "0.0.0.0", "--port", "18999"])
    assert r.exit_code == 2
    assert "no user exists" in r.output
