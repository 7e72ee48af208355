"""End to end in Debian's Chromium: sign in and out, charts without console errors or outside requests,
risk list filter/sort/download, SKU charts, acknowledge from the inbox, language switch, phone layout,
and screenshots of every page in both languages (``tests/web/artifacts``)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from tests.web.conftest import USERS

pytestmark = pytest.mark.slow
PAGES = {"overview": "/", "risk": "/risk", "inbox": "/inbox", "proposals": "/proposals"}
PHONE = {"width": 390, "height": 844}


def _session(chromium, live_server: str, role: str, *, lang: str = "en", phone: bool = False):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        viewport=PHONE if phone else {"width": 1366, "height": 900},
        locale="zh-CN" if lang == "zh_CN" else "en-US",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9" if lang == "zh_CN" else "en-US,en;q=0.9"},
    )
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
        page.screenshot(path=str(artifacts / f"{name}-{lang}-desktop.png"), full_page=True)
    page.goto(live_server + "/risk")
    first = page.locator("#risk-table tbody a").first
    first.click()
    page.wait_for_selector("#charts [data-chart][data-rendered] canvas", timeout=60_000)
    page.screenshot(path=str(artifacts / f"detail-{lang}-desktop.png"), full_page=True)
    assert page.errors == [], page.errors  # type: ignore[attr-defined]
    assert page.outside == [], page.outside  # type: ignore[attr-defined]
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_phone_inbox_detail_and_proposals(chromium, live_server, artifacts, lang) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "buyer", lang=lang, phone=True)
    for name in ("inbox", "proposals"):
        page.goto(live_server + PAGES[name])
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{name} scrolls sideways on a phone ({width}px)"
        page.screenshot(path=str(artifacts / f"{name}-{lang}-phone.png"), full_page=True)
    page.goto(live_server + "/inbox")
    page.locator("details.group summary").first.click()
    page.locator("details.group[open] tbody a").first.click()
    page.wait_for_selector("#charts [data-chart][data-rendered]", timeout=60_000)
    page.screenshot(path=str(artifacts / f"detail-{lang}-phone.png"), full_page=True)
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
    page.get_by_label("Language").select_option("zh_CN")
    page.wait_for_load_state("networkidle")
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
    page.get_by_label("语言").select_option("en")  # back to English for the next tests
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    other.close()


def test_a_warehouse_user_sees_only_their_locations(chromium, live_server) -> None:  # type: ignore[no-untyped-def]
    context, page = _session(chromium, live_server, "warehouse")
    page.goto(live_server + "/risk")
    locations = set(page.locator("#risk-table tbody td:nth-child(5)").all_inner_texts())
    assert locations == {"ST-BJ"}
    assert page.get_by_role("link", name="Admin").count() == 0
    context.close()
