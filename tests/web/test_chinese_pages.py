"""Every page in Chinese shows Chinese: no English word is left, not even one the engine wrote.

The catalogue test (``test_i18n.py``) only sees messages of the templates and the code; the engine stores
its explanations in English (anomalies, data-health warnings, handling-log notes, audit codes, rules-version
comments) and the pages translate them at the display edge (``web/engine_text.py``). Here every page of
the demo company is rendered in zh-CN, its visible text (and titles, labels, placeholders) is read, the
company's own data (item names, categories, user names...) and codes (ids, dates, numbers, acronyms,
file and column names) are taken out, and any English word left fails the test with the page and the text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from stockwarden.web.engine_text import engine_text
from stockwarden.web.i18n import translator
from tests.web.conftest import login

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")

PAGES = (
    "/",
    "/risk",
    "/risk?sort=probability",
    "/inbox",
    "/inbox?box=all",
    "/proposals",
    "/suppliers",
    "/rules",
    "/rules/versions",
    "/data",
    "/data/health",
    "/runs",
    "/admin",
)
#: Product and format names, and words of the examples a help text must show as typed.
TECHNICAL = {"Excel", "Parquet", "zip", "apprise", "English", "Asia", "Shanghai", "stockwarden"}
_CODE = re.compile(r"[\w.~@/:+\-]*\d[\w.~@/:+\-]*")  # ids, dates, numbers: SUP-06, PO000288, P95, 2025-10-26
_ACRONYM = re.compile(r"(?<![A-Za-z])[A-Z]{2,8}s?(?![A-Za-z])")  # SKU, PO, CSV, API, URL, IANA, MB, ERP, MOQ
_FILE = re.compile(r"\b\w+\.(?:csv|xlsx|parquet|zip|toml)\b|\b\w+://")
_COMMAND = re.compile(r"'stockwarden [a-z \-]+'")
_QUOTED = re.compile(r"「[\w ,.\-/]+」")  # a header or table name of the files, quoted in a Chinese sentence
_OPTION = re.compile(r"--[a-z][a-z\-]+|\b(?:dmy|mdy)\b")  # command-line options and their values
_TABLE = re.compile(
    r"\((?:"
    r"items|locations|suppliers|sales|inventory|purchase_orders|promotions|events|reorder_rules)\)"
)
_WORD = re.compile(r"[A-Za-z]{2,}")


class _Text(HTMLParser):
    """The text a reader sees or hears: text nodes and title / aria-label / placeholder / alt attributes,
    outside ``<script>``, ``<style>`` and elements marked ``translate="no"`` (raw payloads: JSON, paths)."""

    def __init__(self) -> None:
        super().__init__()
        self.skip: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.skip or tag in ("script", "style") or a.get("translate") == "no":
            if tag not in ("input", "br", "img", "meta", "link"):
                self.skip.append(tag)
            return
        for key in ("title", "aria-label", "placeholder", "alt"):
            if a.get(key):
                self.parts.append(str(a[key]))

    def handle_endtag(self, tag: str) -> None:
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    p = _Text()
    p.feed(html)
    return p.parts


def english_left(text: str, data_values: list[str]) -> list[str]:
    """The English words of ``text`` once the company's data and the codes are taken out."""
    for pattern in (_COMMAND, _FILE, _TABLE, _QUOTED, _OPTION):
        text = pattern.sub(" ", text)
    for value in data_values:
        text = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", " ", text)
    for pattern in (_CODE, _ACRONYM):
        text = pattern.sub(" ", text)
    return [w for w in _WORD.findall(text) if w not in TECHNICAL]


def company_data(engine: sa.Engine) -> list[str]:
    """The company's own words (names, categories, units, users, sources, channels), longest first."""
    queries = [
        "SELECT name FROM items UNION SELECT category FROM items UNION SELECT unit FROM items",
        "SELECT name FROM locations UNION SELECT name FROM suppliers UNION SELECT name FROM events",
        "SELECT username FROM users UNION SELECT source FROM import_batches UNION SELECT name FROM api_tokens",
        # who did something: users, and the operating-system user of a command line (audit, rules versions)
        "SELECT username FROM audit_log UNION SELECT created_by FROM rules_versions",  # "system" is shown translated
        # what people typed: the reasons they gave for a rules version (the engine writes only "seeded from ...")
        "SELECT comment FROM rules_versions WHERE comment NOT LIKE 'seeded from%'",
    ]
    values: set[str] = set()
    skip = {"system"}  # the engine's own actor: the pages name it in the reader's language
    with engine.connect() as conn:
        for q in queries:
            values |= {str(v) for (v,) in conn.execute(sa.text(q)) if v and str(v) not in skip}
    return sorted(values, key=len, reverse=True)


@pytest.fixture
def client(web_app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(web_app) as c:
        yield c


def _data_values(web_ctx) -> list[str]:  # type: ignore[no-untyped-def]
    from stockwarden.services.rules import current_rules

    _version, rules = current_rules(web_ctx)
    channels = [c.name for c in rules.notify.channels]
    return sorted(set(company_data(web_ctx.engine)) | set(channels), key=len, reverse=True)


def _detail_pages(web_ctx) -> list[str]:  # type: ignore[no-untyped-def]
    """SKU-locations with an alert, an anomaly or a proposal: their pages show the engine's sentences."""
    with web_ctx.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT sku, location_id FROM assessments WHERE reason_details LIKE '%\"detail\"%' "
                "UNION SELECT sku, location_id FROM alerts ORDER BY 1, 2 LIMIT 30"
            )
        ).all()
    return [f"/sku/{r.sku}/{r.location_id}" for r in rows]


def test_no_english_is_left_on_any_chinese_page(client, web_ctx) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    client.post("/language", data={"lang": "zh-CN", "next": "/"})  # the user's choice (it wins over the cookie)
    data_values = _data_values(web_ctx)
    pages = [*PAGES, *_detail_pages(web_ctx)]
    assert len(pages) > len(PAGES) + 5, "the demo company should have alerts and anomalies to show"
    found: dict[str, set[str]] = {}
    seen_text = 0
    try:
        for path in pages:
            r = client.get(path)
            assert r.status_code == 200, (path, r.text[:500])
            for text in visible_text(r.text):
                seen_text += 1
                left = english_left(text, data_values)
                if left:
                    found.setdefault(path, set()).add(text[:200])
    finally:
        client.post("/language", data={"lang": "en", "next": "/"})  # leave the user as the other tests expect
    assert seen_text > 500
    report = "\n".join(f"{p}:\n  " + "\n  ".join(sorted(t)[:15]) for p, t in found.items())
    assert not found, "English left on Chinese pages (translate it in web/engine_text.py or a catalogue):\n" + report


def test_the_check_finds_english_and_spares_data_and_codes() -> None:
    data = ["Board Game TOY001", "spare parts", "admin"]
    assert english_left("SUP-06：最近 20 次到货仅 6 次准时（30%）", data) == []
    assert english_left("Board Game TOY001 · spare parts · admin · SKU · PO000288 · 2025年9月7日", data) == []
    assert english_left("下载 CSV / Excel 文件 items.csv；命令 'stockwarden import'；商品 (items)", data) == []
    assert english_left("Board Gamers", data) == ["Board", "Gamers"]
    left = english_left("SUP-06: only 6 of the last 20 deliveries on time", data)
    assert left == ["only", "of", "the", "last", "deliveries", "on", "time"]
    assert english_left("web", data) == ["web"]
    assert english_left("已创建: P(stockout) 1.00; date 2025-10-27", data) == ["stockout", "date"]
    text = visible_text('<p title="done">好<script>var x="no"</script><code translate="no">{"a": 1}</code></p>')
    assert text == ["done", "好"]


# --- the engine's sentences, one of each shape, as the engine writes them ---------------------------

ENGINE_SENTENCES = [
    "PO PO000288 (ELE-0003 at WH-SH, 160 units from SUP-02) is 39 days late: promised 2025-09-17, still not received",
    "PO PO9 (A-1 at WH-SH, 5 units from S-1) is 4.5 days late: expected (nominal lead time) 2025-09-17, "
    "still not received",
    "SUP-02 delivered only 87 of 105 units of ELE-0003 on PO PO000332 (83%) on 2025-10-15",
    "SUP-06: median delay rose from 0 to 7 days over the last 12 deliveries (since 2025-09-07, detected 2025-09-24)",
    "SUP-06: mean lead time fell from 12.5 to 9 days over the last 8 deliveries (since 2025-09-07, detected "
    "2025-09-24)",
    "SUP-06: only 6 of the last 20 deliveries on time (30%), against 84% for the other suppliers",
    "SUP-06: only 6 of the last 20 deliveries on time (30%), against 84% for its own past",
    "SUP-06: delivery dates became erratic: delays over the last 20 deliveries vary by \u00b14.2 days "
    "(standard deviation) against \u00b11.1 before",
    "PRT-0005 at WH-SH: sold 5 units in the week to 2025-10-26 against about 0.0 expected",
    "PRT-0005 at WH-SH: sold 40 units on 2025-10-26 against about 3.1 expected; explained by a promotion",
    "PRT-0005 at WH-SH: sold only 1 units in the week to 2025-10-26 against about 21.0 expected; explained by "
    "Double 11 (2025-11-11)",
    "A-1 at ST-BJ: 12 units on record but no sale for 30 days (it usually sells on 80% of days; chance of such a "
    "gap under one in a million): check the shelf",
    "A-1 at ST-BJ: 12 units on record but no sale for 30 days (it usually sells on 80% of days; chance of such a "
    "gap 1.2e-05): check the shelf",
    "A-1 at ST-BJ: count of -3 on 2025-10-01",
    "A-1 at ST-BJ: sales since the count of 10 on 2025-09-01 exceed the stock plus receipts by 4 units "
    "(unrecorded receipt or wrong count)",
    "A-1 at ST-BJ: last counted 95 days ago (2025-07-01) while 40 units were sold since",
    "A-1 at ST-BJ: counted 30 on 2025-10-01, 12 more than expected (unrecorded receipt or return?); the count of "
    "20 on 2025-09-01 rolled forward gives 18",
    "A-1 at ST-BJ: counted 3 on 2025-10-01, 12 less than expected (unrecorded shrinkage or sales?); the count of "
    "20 on 2025-09-01 rolled forward gives 15",
    "There are no stock counts on or before 2025-10-26: stock cannot be assessed without them.",
    "No items table: pack sizes, minimum order quantities, lead times and service levels fall back to the defaults.",
    "No purchase orders: stock already on order is unknown and counted as zero, so risk may be overstated.",
    "The newest stock count at ST-BJ is from 2025-06-01, 147 days before 2025-10-26 (limit 60): its on-hand stock "
    "is an estimate rolled forward from sales and receipts; count it again.",
    "12 SKU-locations still selling have not been counted for more than 60 days although their location counts "
    "other items; their stock is an estimate.",
    "3 SKU-locations have sales but no stock count, so their on-hand stock is unknown; add them to the inventory "
    "export.",
    "1 open purchase order line (1 PO) is more than 14 days past their promised date: chase the supplier, or close "
    "them if they will not come.",
    "No sales recorded at 2 of 5 locations for more than 7 days before 2025-10-26: the sales feed may have stopped, "
    "and demand there would look like zero.",
    "No sales recorded at any location for more than 7 days before 2025-10-26: the sales feed may have stopped, and "
    "demand there would look like zero.",
    "No purchase order was placed or received since 2025-08-01 (86 days before 2025-10-26): the purchase-order "
    "export may be stale, and stock on order would be missed.",
    "4 items have no lead time, neither their own nor their supplier's: it will be learned from past deliveries, "
    "else the configured default is used.",
    "7 purchase orders rows are dated after 2025-10-26; they are ignored for results as of that date.",
    "ST-BJ: last sale 2025-10-01",
    "last activity 2025-08-01",
    "A-1 @ ST-BJ: last counted 2025-07-01",
    "PO000288: SUP-02 -> WH-SH, 2 lines, 39 days late",
    "P(stockout) 1.00; date 2025-10-27; reasons already_out_of_stock;below_reorder_point;event_ahead",
    "level warning->critical; P(stockout) 0.40->0.90; date 2025-11-02->2025-10-30; reasons "
    "below_reorder_point->already_out_of_stock;supplier_late",
    "P(stockout) 0.03 < 0.05",
    "below warning for 2 run(s)",
    "level rose above warning",
    "snooze ended 2025-10-30",
    "risk rose to critical; opened a new alert",
    "risk cleared; a new alert opens if it returns",
    "until 2025-11-01 and until worse",
    "until worse",
    "date is not a date (expected YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD or YYYY年M月D日)",
    "qty is not a number",
    "qty is below 1",
    "sku is not in items (add it to items or correct the code)",
    "status must be one of open, received, cancelled",
    "received_date is before order_date",
    "the line has 5 fields but the header has 4 (check quotes and separators)",
    "date is ambiguous: day-first or month-first is not stated; write YYYY-MM-DD or give the day/month order with "
    "--date-order dmy or mdy (or date_order in the mapping file)",
    "value 1,234.50 \u2264 auto-approve limit 5,000.00",
    "seeded from the built-in defaults",
]


@pytest.mark.parametrize("sentence", ENGINE_SENTENCES)
def test_each_engine_sentence_reads_in_chinese_with_its_numbers(sentence: str) -> None:
    zh = engine_text(sentence, translator("zh_CN"))
    assert english_left(zh, ["Double 11"]) == [], zh
    numbers = [n for n in re.findall(r"\d+(?:[.,]\d+)*", sentence) if not re.fullmatch(r"\d{4}", n)]
    dates = re.findall(r"\d{4}-\d\d-\d\d", sentence)
    for d in dates:
        y, m, day = d.split("-")
        assert f"{int(y)}年{int(m)}月{int(day)}日" in zh, (d, zh)
    kept = re.sub(r"\d{4}年\d{1,2}月\d{1,2}日", " ", zh)
    for n in numbers:
        if not any(n in d for d in dates):
            assert n in kept, (n, zh)


def test_english_reads_as_stored_with_dates_localised() -> None:
    en = translator("en")
    text = "SUP-02 delivered only 87 of 105 units of ELE-0003 on PO PO000332 (83%) on 2025-10-15"
    assert engine_text(text, en) == text.replace("2025-10-15", "Oct 15, 2025")
    assert engine_text("a comment a user typed", en) == "a comment a user typed"
    assert engine_text("a comment a user typed", translator("zh_CN")) == "a comment a user typed"
    assert engine_text("called them; they ship Monday", translator("zh_CN")) == "called them; they ship Monday"
