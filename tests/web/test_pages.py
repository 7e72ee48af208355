"""The pages through the ASGI app (no browser): sign-in, scope, permissions, CSRF, actions, downloads."""

from __future__ import annotations

import io
import urllib.parse

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.web.conftest import csrf_of, login

PAGES = ["/", "/risk", "/inbox", "/proposals"]
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")


@pytest.fixture
def client(web_app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(web_app) as c:
        yield c


def test_pages_need_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/risk?level=critical", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=" + urllib.parse.quote("/risk?level=critical")


def test_wrong_password_says_so_in_the_browsers_language(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post(
        "/login", data={"username": "pat", "password": "nope"}, headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert "Traceback" not in r.text


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_in_both_languages(client, path: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    client.post("/language", data={"lang": lang, "next": path})  # the user's switch (remembered per user)
    r = client.get(path)
    assert r.status_code == 200, r.text[:1000]
    assert ('<html lang="zh-CN">' in r.text) == (lang == "zh_CN")
    if lang == "zh_CN":
        assert "退出登录" in r.text and "Sign out" not in r.text


def test_language_switch_is_remembered(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    r = client.post("/language", data={"lang": "zh-CN", "next": "/risk"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/risk"
    assert "风险清单" in client.get("/risk").text


def test_a_viewer_sees_no_action_button_and_the_server_refuses_it(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "viewer")
    page = client.get("/risk").text
    assert 'value="ack"' not in page and "Approve PO" not in client.get("/inbox").text
    r = client.post("/risk/bulk", data={"csrf": csrf_of(page), "action": "ack", "alert_id": "1"})
    assert r.status_code == 403
    assert "Your role does not allow this" in r.text


def test_a_form_post_without_the_csrf_token_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    r = client.post("/risk/bulk", data={"action": "ack", "alert_id": "1"})
    assert r.status_code == 403


def test_a_warehouse_user_sees_only_their_locations(client, web_ctx) -> None:  # type: ignore[no-untyped-def]
    login(client, "warehouse")
    page = client.get("/risk").text
    with web_ctx.engine.connect() as conn:
        other = conn.execute(sa.text("SELECT sku, location_id FROM alerts WHERE location_id <> 'ST-BJ' LIMIT 1")).one()
    assert f"/sku/{other.sku}/{other.location_id}" not in page
    assert client.get(f"/sku/{other.sku}/{other.location_id}").status_code == 404
    csv = client.get("/risk/export?format=csv").content.decode("utf-8-sig")
    assert set(pd.read_csv(io.StringIO(csv))["location_id"]) <= {"ST-BJ"}


def test_risk_list_filters_sorts_and_downloads(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    r = client.get("/risk/export?format=csv&level=critical&sort=probability")
    frame = pd.read_csv(io.StringIO(r.content.decode("utf-8-sig")))
    assert len(frame) > 0 and set(frame["level"]) == {"critical"}
    assert frame["stockout_probability"].is_monotonic_decreasing
    x = client.get("/risk/export?format=xlsx&level=warning")
    assert pd.read_excel(io.BytesIO(x.content))["level"].eq("warning").all()
    assert client.get("/risk/export?format=pdf").status_code == 400


def test_acknowledge_and_snooze_land_in_the_handling_log_and_the_audit_trail(client, web_ctx, today) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    with web_ctx.engine.connect() as conn:
        a, b = conn.execute(sa.text("SELECT id, sku, location_id FROM alerts WHERE state = 'open' LIMIT 2")).all()
    page = client.get(f"/sku/{a.sku}/{a.location_id}").text
    r = client.post(
        f"/alerts/{a.id}/act",
        data={"csrf": csrf_of(page), "action": "ack", "comment": "ordering today", "back": "/inbox"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    until = (today + pd.Timedelta(days=7)).isoformat()
    client.post(f"/alerts/{b.id}/act", data={"csrf": csrf_of(page), "action": "snooze", "until": until})
    detail = client.get(f"/sku/{a.sku}/{a.location_id}").text
    assert "ordering today" in detail
    with web_ctx.engine.connect() as conn:
        states = dict(
            conn.execute(sa.text("SELECT id, state FROM alerts WHERE id IN (:a, :b)"), {"a": a.id, "b": b.id}).all()
        )
        audit = conn.execute(sa.text("SELECT action, username FROM audit_log WHERE object_type = 'alert'")).all()
    assert states == {a.id: "acknowledged", b.id: "snoozed"}
    assert ("alert.ack", "pat") in [tuple(x) for x in audit]


def test_the_approve_bar_approves_every_po_ticked(client, web_ctx) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")  # an administrator approves up to the highest limit
    client.post("/language", data={"lang": "en", "next": "/proposals"})
    with web_ctx.engine.connect() as conn:
        pos = pd.read_sql_query(
            sa.text(
                "SELECT po_id, MAX(qty * unit_cost) AS top FROM order_proposal_lines WHERE status = 'draft' "
                "GROUP BY po_id ORDER BY top"
            ),
            conn,
        )
    picked = list(pos["po_id"].head(2))
    assert len(picked) == 2
    page = client.get("/proposals").text
    assert 'form="approve-selected"' in page and 'id="approve-selected-button"' in page
    r = client.post("/proposals/approve", data={"csrf": csrf_of(page), "po_id": picked})
    assert r.status_code == 200 and "lines approved" in r.text
    with web_ctx.engine.connect() as conn:
        left = conn.execute(
            sa.text("SELECT COUNT(*) FROM order_proposal_lines WHERE status = 'draft' AND po_id IN (:a, :b)"),
            {"a": picked[0], "b": picked[1]},
        ).scalar()
    assert left == 0


def test_approval_within_and_over_the_limit(client, web_ctx) -> None:  # type: ignore[no-untyped-def]
    login(client, "buyer")
    with web_ctx.engine.connect() as conn:
        lines = pd.read_sql_query(
            sa.text("SELECT id, po_id, qty * unit_cost AS value FROM order_proposal_lines WHERE status = 'draft'"), conn
        )
    page = client.get("/proposals").text
    small = lines[lines["value"] <= 5000].iloc[0]
    r = client.post("/proposals/approve", data={"csrf": csrf_of(page), "line_id": str(small["id"])})
    assert "1 lines approved" in r.text
    big = lines[lines["value"] > 5000]
    if len(big):
        r = client.post("/proposals/approve", data={"csrf": csrf_of(page), "line_id": str(big.iloc[0]["id"])})
        assert "above your limit" in r.text
        with web_ctx.engine.connect() as conn:
            status = conn.execute(
                sa.text("SELECT status FROM order_proposal_lines WHERE id = :i"), {"i": int(big.iloc[0]["id"])}
            ).scalar()
        assert status == "draft"


def test_a_web_export_is_the_services_export_same_layout_and_audit_as_the_api(client, web_ctx) -> None:  # type: ignore[no-untyped-def]
    login(client, "buyer")
    with web_ctx.engine.connect() as conn:
        lines = pd.read_sql_query(
            sa.text("SELECT id, qty * unit_cost AS value FROM order_proposal_lines WHERE status = 'draft'"), conn
        )
    page = client.get("/proposals").text
    small = lines[lines["value"] <= 5000].iloc[0]
    r = client.post("/proposals/approve", data={"csrf": csrf_of(page), "line_id": str(int(small["id"]))})
    assert "1 lines approved" in r.text
    login(client, "admin")
    page = client.get("/proposals").text
    r = client.post("/proposals/export", data={"csrf": csrf_of(page), "format": "csv"})
    assert r.status_code == 200
    assert 'filename="' in r.headers["content-disposition"]
    exported = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig")
    assert len(exported) >= 1
    with web_ctx.engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM order_proposal_lines WHERE id = :i"), {"i": int(small["id"])}
        ).scalar()
        audit = conn.execute(sa.text("SELECT action, via FROM audit_log WHERE action LIKE 'proposal.export%'")).all()
    assert status == "exported"
    assert [tuple(x) for x in audit] == [("proposal.export", "web")]


QUALITY = {
    "period": {"since": "2024-01-01", "until": "2024-03-30"},
    "enough_history": True,
    "overall": {
        "episodes": 40,
        "warned_in_time": 0.625,
        "warned_1d": 0.925,
        "median_warning_lead_days": 9.5,
        "alerts": 120,
        "effective": 0.74,
        "false_alarms": 0.26,
        "alerts_per_week": 9.3,
        "alerts_per_planner_per_week": 9.3,
        "feedback_useful": 3,
        "feedback_false_alarm": 1,
    },
    "groups": [],
    "unlabelled_alerts": 5,
}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["Alert effectiveness", "92.5%", "62.5%", "74.0%", "26.0%", "9.5 days", "40 stockouts", "120 alerts"]),
        ("zh_CN", ["预警效果", "92.5%", "62.5%", "74.0%", "26.0%", "9.5 天", "共 40 次断货", "共开启 120 条预警"]),
    ],
)
def test_the_overview_card_shows_how_the_alerts_did(client, monkeypatch, lang: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.web.pages import overview

    seen = []
    monkeypatch.setattr(
        overview.quality_service, "alert_quality", lambda ctx, *, actor: seen.append(actor.scope) or QUALITY
    )
    login(client, "planner")
    client.post("/language", data={"lang": lang, "next": "/"}, follow_redirects=False)
    card = client.get("/").text.split('id="alert-effectiveness"')[1].split("</section>")[0]
    assert all(x in card for x in expected), card
    assert seen  # computed for the signed-in user (their scope)


def test_the_overview_card_says_when_there_is_not_enough_history(client) -> None:  # type: ignore[no-untyped-def]
    # the demo company has a single run: no stockout or alert can be judged against what happened yet
    login(client, "planner")
    client.post("/language", data={"lang": "en", "next": "/"}, follow_redirects=False)
    assert 'id="quality-empty"' in client.get("/").text and "Not enough history yet" in client.get("/").text
    client.post("/language", data={"lang": "zh_CN", "next": "/"}, follow_redirects=False)
    assert "历史数据尚不足" in client.get("/").text
