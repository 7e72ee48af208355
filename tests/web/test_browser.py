"""End to end in Debian's Chromium: sign in and out, charts without console errors or outside requests,
risk list filter/sort/download, SKU charts, acknowledge from the inbox, language switch, phone layout,
edit a rule / preview / save / diff / roll back, upload a folder with bad rows and read the rejects,
admin (a user, a token shown once, the audit filter), start a run and watch it, the suppliers chart,
and screenshots of every page in both languages (``tests/web/artifacts``)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from tests.web.conftest import USERS

pytestmark = pytest.mark.slow
PAGES = {
    "overview": "/",
    "risk": "/risk",
    "inbox": "/inbox",
    "proposals": "/proposals",
    "suppliers": "/suppliers",
    "runs": "/runs",
    "data": "/data",
    "rules": "/rules",
    "rules-versions": "/rules/versions",
}
PHONE = {"width": 390, "height": 844}


def _shot(page, *, path: str) -> None:  # type: ignore[no-untyped-def]
    """A full-page screenshot; the rules form's sticky action bar is drawn where it sits in the page (a
    full-page capture keeps the viewport's height, so a sticky bar would cover the middle of the form)."""
    page.add_style_tag(content=".sticky-actions, .approve-bar { position: static !important; }")
    page.screenshot(path=path, full_page=True)


def _session(chromium, live_server: str, role: str, *, lang: str = "en", phone: bool = False):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        viewport=PHONE if phone else {"width": 1366, "height": 900},
        locale="zh-CN" if lang == "zh_CN" else "en-US",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if lang == "zh_CN" else "en-US,en;q=0.9"},
    )
    context.set_default_navigation_timeout(120_000)  # a shared, loaded CI machine: slow, not broken
    page = context.new_page()
    page.errors, page.outside = [], []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    host = urllib.parse.urlparse(live_server).hostname

    def record(request) -> None:  # type: ignore[no-untyped-def]
        if urllib.parse.urlparse(request.url).hostname not in (host, None) and not request.url.startswith("data:"):
            page.outside.append(request.url)  # type: ignore[attr-defined]

    page.on("request", record)
    name, password, _ = USERS[role]
    page.goto(f"{live_server}/login")
    page.get_by_label("User name" if lang == "en" else "用户名").fill(name)
    page.get_by_label("Password" if lang == "en" else "密码").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    # the user's own language choice wins over the browser's; other tests may have left one: choose it here
    page.request.post(f"{live_server}/language", form={"lang": lang, "next": "/"})
    return context, page


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_page_renders_without_errors_and_is_screenshotted(chromium, live_server, artifacts, lang) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "planner", lang=lang)
    for name, path in PAGES.items():
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        if name == "overview":
            page.wait_for_selector("[data-chart][data-rendered] canvas", timeout=10_000)
            assert page.locator("[data-chart][data-rendered]").count() == 3
            assert page.locator("#alert-effectiveness").count() == 1  # the demo's single run: not enough yet
            assert page.locator("#quality-empty").is_visible()
        if name == "suppliers":  # every supplier's delay chart is drawn
            page.wait_for_selector("[data-chart^='sup-chart-'][data-rendered] canvas", timeout=10_000)
            charts = page.locator("[data-chart^='sup-chart-']")
            assert charts.count() >= 1
            assert page.locator("[data-chart^='sup-chart-'][data-rendered]").count() == charts.count()
        _shot(page, path=str(artifacts / f"{name}-{lang}-desktop.png"))
    page.goto(live_server + "/risk")
    first = page.locator("#risk-table tbody a").first
    first.click()
    page.wait_for_selector("#charts [data-chart][data-rendered] canvas", timeout=60_000)
    _shot(page, path=str(artifacts / f"detail-{lang}-desktop.png"))
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    assert page.outside == [], page.outside  # type: ignore[attr-defined]
    context.close()
    # the admin page (administrators only) and the sign-in page
    context, page = _session(chromium, live_server, "admin", lang=lang)
    page.goto(live_server + "/admin")
    page.wait_for_load_state("networkidle")
    _shot(page, path=str(artifacts / f"admin-{lang}-desktop.png"))
    assert page.errors == [] and page.outside == [], (page.errors, page.outside)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign out" if lang == "en" else "退出登录").click()
    page.wait_for_url("**/login")
    _shot(page, path=str(artifacts / f"login-{lang}-desktop.png"))
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_phone_inbox_detail_and_proposals(chromium, live_server, artifacts, lang) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "buyer", lang=lang, phone=True)
    for name in ("inbox", "proposals"):
        page.goto(live_server + PAGES[name])
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{name} scrolls sideways on a phone ({width}px)"
        _shot(page, path=str(artifacts / f"{name}-{lang}-phone.png"))
    page.goto(live_server + "/inbox")
    page.locator("details.group summary").first.click()
    page.locator("details.group[open] tbody a").first.click()
    page.wait_for_selector("#charts [data-chart][data-rendered]", timeout=60_000)
    _shot(page, path=str(artifacts / f"detail-{lang}-phone.png"))
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_phone_approval_folds_suppliers_and_approves_the_pos_ticked(chromium, live_server, artifacts, lang) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "buyer", lang=lang, phone=True)
    page.goto(live_server + "/proposals")
    page.wait_for_load_state("networkidle")
    suppliers = page.locator("details.supplier")
    assert suppliers.count() >= 3
    # folded: one summary line per supplier, the whole page within two screens
    assert page.locator("details.supplier[open]").count() == 0
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 2 * PHONE["height"], f"the proposals page is {height}px tall on a phone"
    bar = page.locator("#approve-bar")
    assert bar.is_visible() and page.locator("#approve-selected-button").is_disabled()
    card = page.locator("article.po-card").filter(has_not=page.locator("[role=note]")).first  # within the limit
    card.locator("xpath=ancestor::details[contains(@class, 'supplier')]/summary").click()
    card.locator("input.po-pick").check()
    count = page.locator("#approve-count").inner_text()
    assert count.startswith("1 selected") if lang == "en" else count.startswith("已选 1 张"), count
    card.locator("details.po-lines > summary").click()
    page.wait_for_timeout(200)
    assert card.locator("table.lines tbody tr").first.is_visible()
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"] + 1, "the approve bar is off screen"
    page.screenshot(path=str(artifacts / f"proposals-open-{lang}-phone.png"))  # what the buyer sees: the bar stays
    if lang == "en":
        po_id = card.locator("h3").inner_text()
        page.locator("#approve-selected-button").click()
        page.wait_for_load_state("networkidle")
        assert page.get_by_role("status").filter(has_text="lines approved").count() == 1
        page.goto(live_server + "/proposals?status=approved")
        page.wait_for_load_state("networkidle")
        assert page.locator(f'article[id="po-{po_id}"]').count() == 1
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    context.close()


def test_sign_in_filter_download_acknowledge_switch_language_sign_out(chromium, live_server, artifacts) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "planner")
    page.goto(live_server + "/risk")
    page.get_by_label("Critical").check()
    page.wait_for_url("**level=critical**")
    page.get_by_label("Sort by").select_option("probability")
    page.wait_for_url("**sort=probability**")
    levels = page.locator("#risk-table tbody td:nth-child(2)").all_inner_texts()
    assert levels and set(levels) == {"Critical"}
    with page.expect_download() as dl:
        page.locator("#download-csv").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("sku,location_id") and "warning" not in text
    # acknowledge from the inbox; it shows in the SKU's handling log
    page.goto(live_server + "/inbox?view=all&state=open")
    page.locator("details.group summary").first.click()
    row = page.locator("details.group[open] tbody tr").first
    sku = row.locator("td:nth-child(2) a").inner_text()
    row.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").filter(has_text="Alert acknowledged").count() == 1
    page.goto(live_server + "/risk?q=" + sku)
    page.locator("#risk-table tbody a").first.click()
    assert "acknowledged" in page.locator("#handling-log").inner_text()
    # keyboard: the skip link is the first stop and is visible when focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    # switch language: remembered on the next page
    with page.expect_navigation():  # the switch posts its form: wait for the page it leads to
        page.get_by_label("Language").select_option("zh_CN")
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "总览" in page.locator("h1").inner_text()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    page.goto(live_server + "/risk")
    assert "/login" in page.url
    context.close()
    # the choice is remembered for the user: another browser (English) shows Chinese after sign-in
    other, page = _session(chromium, live_server, "planner")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    with page.expect_navigation():
        page.get_by_label("语言").select_option("en")  # back to English for the next tests
    assert page.locator("html").get_attribute("lang") == "en"
    other.close()


def test_a_warehouse_user_sees_only_their_locations(chromium, live_server) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "warehouse")
    page.goto(live_server + "/risk")
    locations = set(page.locator("#risk-table tbody td:nth-child(5)").all_inner_texts())
    assert locations == {"ST-BJ"}
    assert page.get_by_role("link", name="Admin").count() == 0
    context.close()


def _clean(page) -> None:  # type: ignore[no-untyped-def]
    """No console error and no request that left 127.0.0.1 so far."""
    assert page.errors == [], page.errors
    assert page.outside == [], page.outside


def test_edit_a_rule_preview_save_diff_and_roll_back(chromium, live_server, web_app, artifacts) -> None:  # type: ignore[no-untyped-def]
    web_app.state.web.preview_options = {"weeks": 4}  # the page's logic on fewer checkpoints (speed)
    try:
        context, page = _session(chromium, live_server, "planner")
        page.goto(live_server + "/rules")
        assert "in force" in page.locator("main").inner_text()
        page.get_by_label("Open an alert from level").select_option("critical")
        page.locator("#preview-button").click()
        page.wait_for_selector("#preview progress, #preview-table", timeout=30_000)
        page.wait_for_selector("#preview-table", timeout=300_000)
        table = page.locator("#preview-table tbody tr")
        rows = {r.locator("td").nth(0).inner_text(): r.locator("td").all_inner_texts() for r in table.all()}
        per_week = rows["Alerts per week (SKU-locations at the alert level)"]
        assert float(per_week[2].replace(",", "")) <= float(per_week[1].replace(",", ""))
        assert page.locator("[data-chart='preview-chart'][data-rendered] canvas").count() == 1
        assert "alerts.open_level" in page.locator("#draft-diff").inner_text()
        _shot(page, path=str(artifacts / "rules-preview-en-desktop.png"))
        # save with a reason: the new version's differences are shown
        page.locator("#rules-comment").fill("fewer alerts (browser)")
        page.locator("#save-rules").click()
        page.wait_for_url("**/rules/diff**")
        body = page.locator("main").inner_text()
        assert "alerts.open_level" in body and "critical" in body and "fewer alerts (browser)" in body
        _shot(page, path=str(artifacts / "rules-diff-en-desktop.png"))
        # roll back to the version before: the form shows the old level again
        page.goto(live_server + "/rules/versions")
        second = page.locator("#versions-table tbody tr").nth(1)
        second.get_by_role("textbox").fill("back (browser)")
        second.get_by_role("button", name="Roll back").click()
        page.wait_for_load_state("networkidle")
        page.goto(live_server + "/rules")
        assert page.get_by_label("Open an alert from level").input_value() != "critical"
        page.goto(live_server + "/rules/versions")
        assert "back (browser)" in page.locator("#versions-table").inner_text()
        _clean(page)
        context.close()
    finally:
        web_app.state.web.preview_options = {"weeks": 13}


def test_upload_a_folder_with_bad_rows_and_read_the_rejects(chromium, live_server, web_db, tmp_path, artifacts) -> None:  # type: ignore[no-untyped-def]
    company = Path(web_db.removeprefix("sqlite:///")).parent / "company"
    folder = tmp_path / "upload"
    folder.mkdir()
    for path in sorted(company.iterdir()):
        if path.is_file() and path.suffix == ".csv":
            data = path.read_text(encoding="utf-8")
            if path.name == "sales.csv":
                lines = data.splitlines()
                header, first = lines[0].split(","), dict(zip(lines[0].split(","), lines[1].split(","), strict=True))
                bad = [{**first, "date": "2025-02-30"}, {**first, "qty": "seven"}]
                data = data.rstrip("\n") + "\n" + "\n".join(",".join(b[h] for h in header) for b in bad) + "\n"
            (folder / path.name).write_text(data, encoding="utf-8")
    context, page = _session(chromium, live_server, "planner")
    page.goto(live_server + "/data")
    page.locator("#upload-files").set_input_files(sorted(folder.iterdir()))
    page.locator("#upload-button").click()
    page.wait_for_selector("#import-report", timeout=300_000)
    rows = page.locator("#rejects-table tbody tr")
    found = {(r.locator("td").nth(4).inner_text(), r.locator("td").nth(5).inner_text()) for r in rows.all()}
    assert found == {("date", "2025-02-30"), ("qty", "seven")}
    for r in rows.all():
        cells = r.locator("td").all_inner_texts()
        assert cells[2] == "sales.csv" and cells[3].isdigit() and cells[6].strip()
    page.wait_for_selector("#health :not([role=status])", timeout=60_000)
    _shot(page, path=str(artifacts / "data-rejects-en-desktop.png"))
    page.get_by_label("Contains").fill("seven")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#rejects-table tbody tr").count() == 1
    with page.expect_download() as dl:
        page.locator("#rejects-download").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("batch_id,table,file,line,column,value,reason") and "seven" in text
    page.wait_for_selector("#health :not([role=status])", timeout=60_000)
    _clean(page)
    context.close()


def test_admin_adds_a_user_shows_a_token_once_and_filters_the_audit(chromium, live_server, artifacts) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "admin")
    page.goto(live_server + "/admin")
    page.locator("#nu-name").fill("tia")
    page.locator("#nu-pw").fill("tia-pass-123")
    page.locator("#add-user").get_by_label("buyer", exact=True).check()
    page.locator("#add-user").get_by_label("viewer", exact=True).uncheck()
    page.locator("#add-user").get_by_role("button", name="Add the user").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("status").filter(has_text="User tia added.").count() == 1
    tia = page.locator("#users-table tbody tr").filter(has_text="tia")
    assert tia.get_by_label("buyer", exact=True).is_checked()
    assert not tia.get_by_label("viewer", exact=True).is_checked()
    page.locator("#tk-user").select_option("tia")
    page.locator("#tk-name").fill("scanner")
    page.get_by_role("button", name="Create a token").click()
    page.wait_for_load_state("networkidle")
    secret = page.locator("#token-secret").input_value()
    assert len(secret) > 20
    _shot(page, path=str(artifacts / "admin-token-en-desktop.png"))
    page.reload()
    assert page.locator("#token-secret").count() == 0 and secret not in page.content()  # shown once
    page.locator("#au-action").select_option("user.create")
    page.locator("#audit").get_by_role("button", name="Filter").click()
    page.wait_for_load_state("networkidle")
    actions = set(page.locator("#audit-table tbody td:nth-child(4)").all_inner_texts())
    assert actions == {"created a user"}
    assert "tia" in page.locator("#audit-table").inner_text()
    _clean(page)
    context.close()


def test_start_a_run_watch_its_progress_and_find_it_in_the_history(chromium, live_server, web_ctx, artifacts) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.rules import current_rules, rules_to_toml, save_rules

    # new rules (a setting that changes no result: EOQ is off), so that the run is a full one, not
    # "already completed" for the same date, data and rules
    _version, rules = current_rules(web_ctx)
    cost = rules.orders.ordering_cost
    changed = rules.model_copy(update={"orders": rules.orders.model_copy(update={"ordering_cost": cost + 1})})
    save_rules(web_ctx, rules_to_toml(changed), actor=SYSTEM_ACTOR, comment="browser test: a full run")
    context, page = _session(chromium, live_server, "planner")
    page.goto(live_server + "/runs")
    before = page.locator("#run-history tbody tr").count()
    page.locator("#start-run").click()
    page.wait_for_selector("#run-status progress", timeout=30_000)
    page.wait_for_selector("#run-state .level-ok, #run-state .level-critical", timeout=600_000)
    assert page.locator("#run-state .level-ok").count() == 1, page.locator("#run-state").inner_text()
    assert page.locator("#run-status ol.steps li.done").count() >= 3
    assert page.locator("#run-history tbody tr").count() == before + 1
    _shot(page, path=str(artifacts / "runs-finished-en-desktop.png"))
    _clean(page)
    context.close()
    save_rules(web_ctx, rules_to_toml(rules), actor=SYSTEM_ACTOR, comment="browser test: back")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_overview_shows_how_the_alerts_did_once_there_is_a_history(  # type: ignore[no-untyped-def]
    chromium, live_server, artifacts, lang, monkeypatch
) -> None:
    from stockwarden.web.pages import overview
    from tests.web.test_pages import QUALITY

    # the measures themselves are tested on a real history (tests/integration/api/test_quality_api.py)
    monkeypatch.setattr(overview.quality_service, "alert_quality", lambda ctx, *, actor: QUALITY)
    context, page = _session(chromium, live_server, "planner", lang=lang)
    page.goto(live_server + "/")
    page.wait_for_load_state("networkidle")
    card = page.locator("#alert-effectiveness")
    card.scroll_into_view_if_needed()
    text = card.inner_text()
    assert "92.5%" in text and "26.0%" in text and ("9.5 days" in text if lang == "en" else "9.5 天" in text)
    assert page.locator("#alert-effectiveness .card").count() == 5
    card.screenshot(path=str(artifacts / f"overview-quality-{lang}-desktop.png"))
    _shot(page, path=str(artifacts / f"overview-with-quality-{lang}-desktop.png"))
    assert page.errors == [] and page.outside == [], (page.errors, page.outside)  # type: ignore[attr-defined]
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_pending_rules_proposal_is_approved_or_rejected_on_the_versions_page(  # type: ignore[no-untyped-def]
    chromium, live_server, web_ctx, artifacts, lang
) -> None:
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.rules import current_rules, propose_rules, rules_to_toml

    before, rules = current_rules(web_ctx)
    orders = rules.orders.model_copy(update={"ordering_cost": rules.orders.ordering_cost + 5})
    proposal, _ = propose_rules(
        web_ctx, rules_to_toml(rules.model_copy(update={"orders": orders})), actor=SYSTEM_ACTOR, comment="from tune"
    )
    context, page = _session(chromium, live_server, "viewer", lang=lang)
    page.goto(live_server + "/rules/versions")
    assert page.locator("#pending-proposals").is_visible() and page.locator(f"#approve-{proposal.id}").count() == 0
    context.close()
    context, page = _session(chromium, live_server, "planner", lang=lang)
    page.goto(live_server + "/rules/versions")
    page.wait_for_load_state("networkidle")
    _shot(page, path=str(artifacts / f"rules-versions-pending-{lang}-desktop.png"))
    page.locator(f"#reject-{proposal.id}").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#pending-proposals").count() == 0
    assert current_rules(web_ctx)[0].id == before.id  # rejected: the rules in force never changed
    assert page.errors == [] and page.outside == [], (page.errors, page.outside)  # type: ignore[attr-defined]
    context.close()
