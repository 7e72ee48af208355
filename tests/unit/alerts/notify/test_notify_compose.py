"""Routing, digests, immediates, quiet hours and languages of composed messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from stockwarden.alerts.notify.compose import NotifyItem, compose_messages, quiet_hours_end
from stockwarden.config import NotifyChannel, NotifyRules
from stockwarden.domain.alert import Alert, AlertKind, AlertLevel, AlertState, NotifyReason
from stockwarden.errors import ConfigError

NOW = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.UTC)


def alert(
    alert_id: int,
    level: str,
    p: float,
    *,
    sku: str = "",
    loc: str = "WH1",
    category: str = "drinks",
    roles: tuple[str, ...] = ("planner",),
) -> Alert:
    return Alert(
        alert_id=alert_id,
        kind=AlertKind.STOCKOUT_RISK,
        sku=sku or f"SKU-{alert_id}",
        location_id=loc,
        level=AlertLevel(level),
        state=AlertState.OPEN,
        stockout_probability=p,
        opened_at=NOW,
        updated_at=NOW,
        first_as_of=NOW.date(),
        last_as_of=NOW.date(),
        notified_level=AlertLevel(level),
        expected_stockout_date=dt.date(2024, 5, 9),
        reasons=("below_reorder_point", "supplier_late"),
        days_of_cover=3.5,
        suggested_order_qty=24,
        category=category,
        roles=roles,
    )


def items() -> list[NotifyItem]:
    return [
        NotifyItem(alert(1, "warning", 0.4), NotifyReason.NEW, 11),
        NotifyItem(alert(2, "critical", 0.95, loc="S1", roles=("planner", "store_manager")), NotifyReason.NEW, 12),
        NotifyItem(alert(3, "warning", 0.7, category="snacks"), NotifyReason.WORSENED, 13),
    ]


def channel(**kw) -> NotifyChannel:
    return NotifyChannel(**{"name": "buyers", "url": "json://127.0.0.1:1/hook", **kw})


def test_one_digest_per_channel_lists_alerts_most_urgent_first_with_an_immediate_for_new_criticals():
    msgs = compose_messages(items(), rules=NotifyRules(channels=[channel()]), now=NOW, as_of=NOW.date(), run_id=7)
    assert [(m.kind, m.idempotency_key) for m in msgs] == [
        ("immediate", "immediate:buyers:log12"),
        ("digest", "digest:buyers:run7"),
    ]
    digest = msgs[1]
    assert digest.alert_ids == (2, 3, 1)
    lines = digest.body.splitlines()
    assert lines[0].startswith("[CRITICAL] SKU-2 @ S1 (new, #2) P(stockout) 95%")
    assert lines[1].startswith("[WARNING] SKU-3") and "(worse, #3)" in lines[1]
    assert lines[-1] == "ref: digest:buyers:run7"
    assert "3 new or worsened" in digest.title and digest.not_before is None


def test_channels_filter_by_level_category_location_and_role():
    rules = NotifyRules(
        channels=[
            channel(name="crit", levels=["critical"]),
            channel(name="snacks", categories=["snacks"]),
            channel(name="store", locations=["S1"], immediate_critical=False),
            channel(name="managers", roles=["store_manager"], immediate_critical=False),
            channel(name="nobody", roles=["supplier_manager"]),
        ]
    )
    msgs = compose_messages(items(), rules=rules, now=NOW, as_of=NOW.date(), run_id=1)
    digests = {m.channel: m.alert_ids for m in msgs if m.kind == "digest"}
    assert digests == {"crit": (2,), "snacks": (3,), "store": (2,), "managers": (2,)}


def test_chinese_channels_get_chinese_text():
    rules = NotifyRules(channels=[channel(language="zh")])
    msgs = compose_messages(items(), rules=rules, now=NOW, as_of=NOW.date(), run_id=1)
    digest = msgs[-1]
    assert digest.title.startswith("stockwarden 缺货预警：3 条")
    assert "【严重】SKU-2 @ S1（新，#2）缺货概率 95%" in digest.body and "低于再订货点、供应商延迟" in digest.body
    assert msgs[0].title == "stockwarden 严重缺货风险 SKU-2 @ S1"


def test_links_point_to_the_web_ui_when_configured():
    rules = NotifyRules(channels=[channel()], web_base_url="https://sw.example.com/")
    digest = compose_messages(items(), rules=rules, now=NOW, as_of=NOW.date(), run_id=1)[-1]
    assert "\n  https://sw.example.com/alerts/2\n" in digest.body


def test_quiet_hours_hold_the_digest_but_not_the_immediate():
    rules = NotifyRules(channels=[channel()], quiet_hours="22:00-07:00", timezone="Asia/Shanghai")
    late = dt.datetime(2024, 5, 1, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai
    immediate, digest = compose_messages(items(), rules=rules, now=late, as_of=late.date(), run_id=1)
    assert immediate.not_before is None
    assert digest.not_before == dt.datetime(2024, 5, 1, 23, 0, tzinfo=dt.UTC)  # 07:00 next day local


@pytest.mark.parametrize(
    ("spec", "local", "expected"),
    [
        ("22:00-07:00", "2024-05-01T06:59", "2024-05-01T07:00"),
        ("22:00-07:00", "2024-05-01T07:00", None),
        ("22:00-07:00", "2024-05-01T21:59", None),
        ("12:00-13:00", "2024-05-01T12:30", "2024-05-01T13:00"),
    ],
)
def test_quiet_hours_windows(spec, local, expected):
    now = dt.datetime.fromisoformat(local).replace(tzinfo=dt.UTC)
    end = quiet_hours_end(spec, now=now, timezone="UTC")
    assert end == (dt.datetime.fromisoformat(expected).replace(tzinfo=dt.UTC) if expected else None)


def test_malformed_quiet_hours_are_a_config_error():
    with pytest.raises(ConfigError, match="HH:MM"):
        quiet_hours_end("late", now=NOW, timezone="UTC")
    with pytest.raises(ConfigError, match="IANA"):
        quiet_hours_end("22:00-07:00", now=NOW, timezone="Mars/Olympus")


def test_a_long_digest_counts_what_it_leaves_out():
    many = [NotifyItem(replace(alert(i, "warning", 0.5)), NotifyReason.NEW, i) for i in range(1, 8)]
    rules = NotifyRules(channels=[channel()], digest_max_alerts=5)
    digest = compose_messages(many, rules=rules, now=NOW, as_of=NOW.date(), run_id=1)[-1]
    assert "... and 2 more" in digest.body and len(digest.alert_ids) == 7


def test_unusable_channels_are_refused_up_front():
    from stockwarden.alerts.notify.base import check_channels

    check_channels([channel(), channel(name="file", url="file://x.log"), channel(name="m", url="mailto://a:b@c.com")])
    with pytest.raises(ConfigError, match="'buyers' is used twice"):
        check_channels([channel(), channel()])
    with pytest.raises(ConfigError, match="'bad': apprise does not understand the URL nosuch://host"):
        check_channels([channel(name="bad", url="nosuch://user:secret@host")])


def test_the_order_proposal_is_shown_with_its_po_and_order_by_date():
    from stockwarden.alerts.notify.compose import OrderHint

    orders = {("SKU-2", "S1"): OrderHint(qty=48, po_id="SW-20240501-SUP1-S1", order_by_date=dt.date(2024, 5, 3))}
    en = compose_messages(
        items(), rules=NotifyRules(channels=[channel()]), now=NOW, as_of=NOW.date(), run_id=1, orders=orders
    )[-1]
    assert "proposed order 48 (PO SW-20240501-SUP1-S1, order by 2024-05-03)" in en.body
    assert "suggested order 24" in en.body  # SKU-1 has no proposal: the assessment's quantity
    zh = compose_messages(
        items(),
        rules=NotifyRules(channels=[channel(language="zh")]),
        now=NOW,
        as_of=NOW.date(),
        run_id=1,
        orders=orders,
    )[-1]
    assert "建议订货 48（采购单 SW-20240501-SUP1-S1，最晚下单 2024-05-03）" in zh.body
