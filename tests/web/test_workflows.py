"""Runs, data, rules, suppliers and admin pages through the ASGI app (no browser): start a run and follow
it, upload bad rows and read the rejects, edit a rule / preview / save / diff / roll back, the supplier
delays and anomalies, users / tokens / audit, and the language remembered per user."""

from __future__ import annotations

import io
import re
import threading
import time
import urllib.parse
import zipfile

import pandas as pd
import pytest

from tests.web.conftest import csrf_of, form_fields, html_table, login

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")
NEW_PAGES = ["/runs", "/data", "/rules", "/rules/versions", "/suppliers", "/admin"]


@pytest.fixture
def client(web_app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    web_app.state.web.preview_options = {"weeks": 3}  # the page's logic, on fewer checkpoints (speed)
    with TestClient(web_app) as c:
        yield c


def _english(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/runs").text
    client.post("/language", data={"csrf": csrf_of(page), "lang": "en", "next": "/"})


def _post_form(client, path: str, fields: list[tuple[str, str]], **changes: str):  # type: ignore[no-untyped-def]
    out = [(k, changes.pop(k) if k in changes else v) for k, v in fields] + list(changes.items())
    return client.post(
        path,
        content=urllib.parse.urlencode(out),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("path", NEW_PAGES)
def test_every_new_page_renders_in_both_languages(client, path: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    page = client.get("/runs").text
    client.post("/language", data={"csrf": csrf_of(page), "lang": lang, "next": "/"})
    r = client.get(path)
    assert r.status_code == 200, r.text[:1000]
    assert ('<html lang="zh-CN">' in r.text) == (lang == "zh_CN")
    assert "Traceback" not in r.text
    _english(client)


def test_roles_see_only_their_buttons_and_the_server_refuses_the_rest(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "viewer")
    runs = client.get("/runs").text
    assert 'id="start-run"' not in runs
    assert client.post("/runs/start", data={"csrf": csrf_of(runs)}).status_code == 403
    assert 'id="upload-button"' not in client.get("/data").text
    rules = client.get("/rules").text
    assert 'id="save-rules"' not in rules and "<fieldset disabled" in rules
    assert client.get("/admin").status_code == 403


def test_start_a_run_and_follow_it_to_the_history(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    _english(client)
    page = client.get("/runs").text
    r = client.post("/runs/start", data={"csrf": csrf_of(page), "as_of": ""}, follow_redirects=False)
    assert r.status_code == 303 and "job=" in r.headers["location"]
    job = r.headers["location"].split("job=")[1]
    for _ in range(600):
        status = client.get(f"/runs/status?job={job}").text
        if "every 1s" not in status:
            break
        time.sleep(0.5)
    assert "every 1s" not in status, "the run did not finish"
    assert 'hx-swap-oob="true"' in status  # the history is refreshed with the run
    history = client.get("/runs").text
    assert ("risk assessment" in history and "demand forecast" in history) or "escalations and snoozes" in history
    bad = client.post("/runs/start", data={"csrf": csrf_of(page), "as_of": "26/10/2025"})
    assert bad.status_code == 400 and "is not a date" in bad.text


def _bad_zip(web_db: str) -> bytes:
    """The sample company's folder as a zip, its sales file with two bad rows appended (lines 2 from the end)."""
    from pathlib import Path

    folder = Path(web_db.removeprefix("sqlite:///")).parent / "company"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            data = path.read_text(encoding="utf-8")
            if path.name == "sales.csv":
                header = data.splitlines()[0].split(",")
                first = dict(zip(header, data.splitlines()[1].split(","), strict=True))
                bad_date = {**first, "date": "2025-13-40"}
                bad_qty = {**first, "qty": "abc"}
                data = data.rstrip("\n") + "\n" + ",".join(bad_date.values()) + "\n" + ",".join(bad_qty.values()) + "\n"
            z.writestr(path.name, data)
    return buf.getvalue()


def test_upload_a_zip_with_bad_rows_and_read_the_rejects(client, web_db) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    _english(client)
    page = client.get("/data").text
    r = client.post(
        "/data/upload",
        data={"csrf": csrf_of(page)},
        files={"files": ("company.zip", _bad_zip(web_db), "application/zip")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:800]
    report = client.get(r.headers["location"])
    text = report.text
    assert "Import report" in text and 'id="rejects-table"' in text
    table = html_table(text, "rejects-table")
    assert len(table) == 2
    assert {r["Column"] for r in table} == {"date", "qty"}
    assert {r["Value"] for r in table} == {"2025-13-40", "abc"}
    assert all(r["File"] == "sales.csv" and r["Line"].isdigit() and r["Reason"] for r in table)
    batch = r.headers["location"].split("batch=")[1]
    only_qty = client.get(f"/data?batch={batch}&q=abc").text
    assert "2025-13-40" not in only_qty and "abc" in only_qty
    csv = client.get(f"/data/rejects.csv?batch={batch}").content.decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(csv))
    assert list(frame.columns) == ["batch_id", "table", "file", "line", "column", "value", "reason"]
    assert len(frame) >= 2 and frame["reason"].notna().all()
    assert (
        "data health" in client.get("/data/health").text.lower() or "as of" in client.get("/data/health").text.lower()
    )
    empty = client.post("/data/upload", data={"csrf": csrf_of(page)}, follow_redirects=True)
    assert "Choose at least one file" in empty.text
    wrong = client.post(
        "/data/upload",
        data={"csrf": csrf_of(page)},
        files={"files": ("notes.txt", b"hello", "text/plain")},
        follow_redirects=True,
    )
    assert "not a dataset file" in wrong.text and "Traceback" not in wrong.text


def test_edit_a_rule_preview_save_diff_and_roll_back(client, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.services.rules import current_rules

    login(client, "planner")
    page = client.get("/rules").text
    fields = form_fields(page, "rules-form")
    before, rules_before = current_rules(web_ctx)
    # a value that is not a number is refused on its field, in the user's language
    client.post("/language", data={"csrf": csrf_of(page), "lang": "zh_CN", "next": "/"})
    bad = _post_form(client, "/rules", fields, action="check", **{"f:risk.service_level": "9５x"})
    assert bad.status_code == 422 and "不是数字" in bad.text
    _english(client)
    out_of_range = _post_form(client, "/rules", fields, action="check", **{"f:risk.service_level": "150"})
    assert out_of_range.status_code == 422 and "risk.service_level" in out_of_range.text
    # a bound is said in the unit the form shows (percent), not in the stored fraction
    assert "Must be below 100 %" in out_of_range.text and "less than 1" not in out_of_range.text
    threshold = _post_form(client, "/rules", fields, action="check", **{"f:risk.thresholds.warning_probability": "120"})
    assert threshold.status_code == 422 and "Must be at most 100 %" in threshold.text
    assert 'value="120"' in threshold.text  # the typed value is kept on the form
    # preview: the draft and the rules in force side by side
    r = _post_form(client, "/rules", fields, action="preview", **{"f:alerts.open_level": "critical"})
    assert r.status_code == 200 and "alerts.open_level" in r.text
    job = re.search(r"/rules/preview/(\w+)", r.text).group(1)  # type: ignore[union-attr]
    for _ in range(900):
        view = client.get(f"/rules/preview/{job}").text
        if "every 1s" not in view:
            break
        time.sleep(0.5)
    assert 'id="preview-table"' in view, view[:2000]
    table = {r["Measure"]: r for r in html_table(view, "preview-table")}
    per_week = table["Alerts per week (SKU-locations at the alert level)"]
    assert float(per_week["Draft"].replace(",", "")) <= float(per_week["Rules in force"].replace(",", ""))
    # save needs a reason, then makes a new version with who and when
    nowhy = _post_form(client, "/rules", fields, action="save", **{"f:alerts.open_level": "critical"})
    assert nowhy.status_code == 422 and "why the rules change" in nowhy.text
    saved = _post_form(
        client, "/rules", fields, action="save", comment="fewer alerts", **{"f:alerts.open_level": "critical"}
    )
    assert saved.status_code == 303, saved.text[:1000]
    diff = client.get(saved.headers["location"]).text
    assert "alerts.open_level" in diff and "critical" in diff and "fewer alerts" in diff
    version, rules = current_rules(web_ctx)
    assert rules.alerts.open_level == "critical" and version.created_by == "pat"
    assert rules.risk == rules_before.risk  # settings not on the form, or not changed, are kept
    # a form opened on an older version cannot overwrite the newer one silently
    stale = _post_form(client, "/rules", fields, action="save", comment="x", **{"f:risk.review_period_days": "9"})
    assert stale.status_code == 409
    # roll back to the version before
    versions = client.get("/rules/versions").text
    assert "fewer alerts" in versions and "pat" in versions
    back = client.post(
        f"/rules/versions/{before.id}/rollback",
        data={"csrf": csrf_of(versions), "comment": "test"},
        follow_redirects=False,
    )
    assert back.status_code == 303
    _version, after = current_rules(web_ctx)
    assert after.alerts.open_level == rules_before.alerts.open_level


def test_a_proposed_version_waits_for_approval_and_is_approved_or_rejected_from_the_versions_page(
    client,  # type: ignore[no-untyped-def]
    web_ctx,
) -> None:
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.rules import current_rules, propose_rules, rules_to_toml

    before, rules_before = current_rules(web_ctx)
    orders = rules_before.orders.model_copy(update={"ordering_cost": rules_before.orders.ordering_cost + 1})
    changed = rules_to_toml(rules_before.model_copy(update={"orders": orders}))
    proposal, _ = propose_rules(web_ctx, changed, actor=SYSTEM_ACTOR, comment="from tune")
    login(client, "viewer")
    _english(client)
    seen = client.get("/rules/versions").text
    assert "Awaiting approval" in seen and "from tune" in seen and f'id="approve-{proposal.id}"' not in seen
    assert client.post(f"/rules/versions/{proposal.id}/approve", data={"csrf": csrf_of(seen)}).status_code == 403
    assert current_rules(web_ctx)[0].id == before.id
    login(client, "planner")
    _english(client)
    page = client.get("/rules/versions").text
    assert f'id="approve-{proposal.id}"' in page and f'id="reject-{proposal.id}"' in page
    r = client.post(
        f"/rules/versions/{proposal.id}/approve", data={"csrf": csrf_of(page), "comment": "ok"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert current_rules(web_ctx)[0].id == proposal.id
    assert current_rules(web_ctx)[1].orders.ordering_cost == rules_before.orders.ordering_cost + 1
    # a proposal to go back, rejected: the approved version stays in force
    back, _ = propose_rules(web_ctx, before.toml_text, actor=SYSTEM_ACTOR)
    page = client.get("/rules/versions").text
    r = client.post(f"/rules/versions/{back.id}/reject", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and current_rules(web_ctx)[0].id == proposal.id
    page = client.get("/rules/versions").text
    assert "rejected" in page and "Awaiting approval" not in page
    client.post(f"/rules/versions/{before.id}/rollback", data={"csrf": csrf_of(page), "comment": "test"})
    assert current_rules(web_ctx)[1] == rules_before  # the other tests see the rules they started with


def test_preview_service_compares_the_same_rules_equal_and_a_stricter_draft_lower(web_ctx) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.preview import preview_rules
    from stockwarden.services.rules import current_rules, rules_to_toml

    _version, rules = current_rules(web_ctx)
    seen: list[int] = []
    same = preview_rules(
        web_ctx, rules_to_toml(rules), actor=SYSTEM_ACTOR, weeks=2, progress=lambda d, t, w: seen.append(d)
    )
    assert seen == [1, 2]
    assert same.current == same.draft and len(same.checkpoints) == 2
    strict = rules.model_copy(update={"alerts": rules.alerts.model_copy(update={"open_level": "critical"})})
    result = preview_rules(web_ctx, rules_to_toml(strict), actor=SYSTEM_ACTOR, weeks=2)
    assert result.draft_total.alerts <= result.current_total.alerts
    assert result.draft_total.missed >= result.current_total.missed
    assert result.current_total.stockouts == result.draft_total.stockouts


def test_a_draft_of_thresholds_only_is_relevelled_exactly_as_a_full_assessment(web_ctx) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.services.preview import compare_rules, levels_only
    from stockwarden.services.rules import current_rules
    from stockwarden.store.repo import load_dataset_from_db

    _version, rules = current_rules(web_ctx)
    th = rules.risk.thresholds.model_copy(update={"warning_probability": 0.3, "watch_probability": 0.1})
    spread = {"thresholds": th, "service_level": 0.99, "service_allocation": "stockout_days"}
    draft = rules.model_copy(update={"risk": rules.risk.model_copy(update=spread)})
    assert levels_only(rules, draft)
    longer = rules.model_copy(update={"risk": rules.risk.model_copy(update={"review_period_days": 14})})
    assert not levels_only(rules, longer)
    ds = load_dataset_from_db(web_ctx.engine)
    fast = compare_rules(ds, rules, draft, weeks=2)
    full = compare_rules(ds, rules, draft, weeks=2, shortcut=False)
    assert fast.draft == full.draft and fast.current == full.current
    assert "relevel_draft" in fast.timings and "assess_draft" not in fast.timings
    assert fast.draft_total.alerts >= fast.current_total.alerts  # a lower warning threshold warns more


def test_the_rules_in_force_are_replayed_ahead_so_a_threshold_draft_only_relevels(web_ctx) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.preview import preview_rules, warm_preview
    from stockwarden.services.rules import current_rules, rules_to_toml

    web_ctx.cache.pop("rules_preview_warm", None)
    assert warm_preview(web_ctx, actor=SYSTEM_ACTOR, weeks=2)
    assert not warm_preview(web_ctx, actor=SYSTEM_ACTOR, weeks=2)  # once per data and rules version
    for thread in threading.enumerate():
        if thread.name == "preview-warm":
            thread.join(timeout=600)
    _version, rules = current_rules(web_ctx)
    th = rules.risk.thresholds.model_copy(update={"watch_probability": 0.05})
    draft = rules.model_copy(update={"risk": rules.risk.model_copy(update={"thresholds": th})})
    result = preview_rules(web_ctx, rules_to_toml(draft), actor=SYSTEM_ACTOR, weeks=2)  # waits for the warm-up
    assert set(result.timings) <= {"relevel_draft", "compare"}, result.timings  # nothing forecast or assessed


def test_the_preview_is_prepared_ahead_kept_on_disk_and_stale_after_an_import(web_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services import preview
    from stockwarden.services.context import build_context
    from stockwarden.services.rules import current_rules, rules_to_toml
    from stockwarden.store.repo import load_dataset_from_db

    disk = tmp_path / "prepared"
    monkeypatch.setenv("STOCKWARDEN_PREVIEW_DIR", str(disk))
    assert preview.preview_status(web_ctx, weeks=2).state == "none"
    seen: list[tuple[int, int]] = []
    status = preview.prepare_preview(web_ctx, weeks=2, progress=lambda done, total, _day: seen.append((done, total)))
    assert status.state == "ready" and seen == [(1, 2), (2, 2)]
    assert preview.preview_status(web_ctx, weeks=2) == preview.PrepareStatus("ready", 2, 2, status.seconds)
    assert len(list(disk.glob("*.side.pkl"))) == 2
    # a restarted server (a new process: nothing in memory) reads the rules in force from disk
    fresh = build_context(database_url=web_ctx.engine.url.render_as_string(hide_password=False))
    _version, rules = current_rules(web_ctx)
    th = rules.risk.thresholds.model_copy(update={"watch_probability": 0.05})
    draft = rules.model_copy(update={"risk": rules.risk.model_copy(update={"thresholds": th})})
    result = preview.preview_rules(fresh, rules_to_toml(draft), actor=SYSTEM_ACTOR, weeks=2)
    assert "read_prepared" in result.timings, result.timings
    assert not {"history", "forecast", "assess_current", "assess_draft"} & set(result.timings), result.timings
    plain = preview.compare_rules(load_dataset_from_db(web_ctx.engine), rules, draft, weeks=2)
    assert (result.current, result.draft) == (plain.current, plain.draft)
    # a new import changes the data's key: the prepared files are stale, and dropped at the next preparation
    monkeypatch.setattr(preview, "_dataset_key", lambda ctx: "999:999")
    assert preview.preview_status(web_ctx, weeks=2).state == "stale"
    preview.prepare_preview(web_ctx, weeks=2)
    assert len(list(disk.glob("*.side.pkl"))) == 2  # only the new data's checkpoints are left


def test_the_command_line_prepares_the_preview_and_says_so(web_db, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from stockwarden.cli import app

    monkeypatch.setenv("STOCKWARDEN_PREVIEW_DIR", str(tmp_path / "prepared"))
    before = CliRunner().invoke(app, ["preview", "status", "--db", web_db, "--weeks", "2"])
    assert before.exit_code == 0 and "preview: none" in before.output, before.output
    r = CliRunner().invoke(app, ["preview", "prepare", "--db", web_db, "--weeks", "2"])
    assert r.exit_code == 0, r.output
    assert "preparing preview: 2 of 2 checkpoints" in r.output and "preview prepared: 2 checkpoints" in r.output
    after = CliRunner().invoke(app, ["preview", "status", "--db", web_db, "--weeks", "2"])
    assert "preview: ready" in after.output, after.output


def test_the_rules_page_says_how_far_the_preview_is_prepared(client, web_ctx, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.services import preview

    monkeypatch.setenv("STOCKWARDEN_PREVIEW_DIR", str(tmp_path / "prepared"))
    login(client, "planner")
    _english(client)
    assert "The preview is not prepared for the latest data yet" in client.get("/rules").text
    preview._write_status(
        tmp_path / "prepared", key=preview._prepare_key(web_ctx, {"weeks": 3}), state="running", done=4, total=13
    )
    part = client.get("/rules/preview-prep").text
    assert "Preparing the preview: 4 of 13 checkpoints" in part and 'hx-trigger="every 2s"' in part


def test_suppliers_page_shows_delays_and_anomalies(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "planner")
    _english(client)
    page = client.get("/suppliers").text
    assert "Delivery delays and detected changes" in page
    assert page.count('data-chart="sup-chart-') >= 1
    assert "Anomalies of the latest run" in page
    only = client.get("/suppliers?kind=overdue_po").text
    assert "Short deliveries</strong>" not in only


def test_admin_users_tokens_shown_once_and_the_audit_trail(client) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    _english(client)
    page = client.get("/admin").text
    r = client.post(
        "/admin/users",
        data={
            "csrf": csrf_of(page),
            "username": "sam",
            "password": "sam-pass-12",
            "roles": "warehouse",
            "locations": "ST-BJ",
        },
        follow_redirects=True,
    )
    assert "User sam added." in r.text
    dup = client.post(
        "/admin/users", data={"csrf": csrf_of(page), "username": "sam", "roles": "viewer"}, follow_redirects=True
    )
    assert "already exists" in dup.text
    t = client.post(
        "/admin/tokens", data={"csrf": csrf_of(page), "username": "sam", "name": "scanner"}, follow_redirects=False
    )
    shown = client.get(t.headers["location"]).text
    secret = re.search(r'id="token-secret" readonly value="([^"]+)"', shown).group(1)  # type: ignore[union-attr]
    assert len(secret) > 20
    assert secret not in client.get(t.headers["location"]).text  # shown once
    token_id = re.findall(r"/admin/tokens/(\d+)/revoke", shown)[-1]
    revoked = client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf": csrf_of(page)}, follow_redirects=True)
    assert "Token revoked." in revoked.text
    off = client.post("/admin/users/sam", data={"csrf": csrf_of(page), "do": "disable"}, follow_redirects=True)
    assert "sam disabled." in off.text
    audit = client.get("/admin?user=ada&action=user.create").text
    actions = {r["Action"] for r in html_table(audit, "audit-table")}
    assert actions == {"created a user"}  # the code user.create, named in the reader's language
    csv = client.get("/admin/audit.csv?action=user.create").content.decode("utf-8-sig")
    frame = pd.read_csv(io.StringIO(csv))
    assert set(frame["action"]) == {"user.create"} and "sam" in set(frame["object_id"].astype(str))
    assert client.get("/admin?since=yesterday").status_code == 400


def test_the_language_is_remembered_per_user_not_only_per_browser(web_app) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(web_app) as first:
        login(first, "buyer")
        page = first.get("/inbox").text
        first.post("/language", data={"csrf": csrf_of(page), "lang": "zh_CN", "next": "/"})
    with TestClient(web_app) as second:  # another browser, English, no language cookie
        login(second, "buyer", lang=None)
        r = second.get("/inbox", headers={"Accept-Language": "en-US,en;q=0.9"})
        assert '<html lang="zh-CN">' in r.text
        second.post("/language", data={"csrf": csrf_of(r.text), "lang": "en", "next": "/"})
        assert '<html lang="en">' in second.get("/inbox").text
