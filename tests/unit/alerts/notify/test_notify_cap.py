"""A first run on a large catalogue sends a capped number of immediate messages; the digest lists all."""

from __future__ import annotations

import datetime as dt

from stockwarden.alerts.notify.compose import NotifyItem, compose_messages
from stockwarden.config import NotifyChannel, NotifyRules
from stockwarden.domain.alert import Alert, AlertKind, AlertLevel, AlertState, NotifyReason

NOW = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.UTC)


def critical(i: int, p: float) -> NotifyItem:
    alert = Alert(
        alert_id=i,
        kind=AlertKind.STOCKOUT_RISK,
        sku=f"SKU-{i}",
        location_id="WH1",
        level=AlertLevel.CRITICAL,
        state=AlertState.OPEN,
        stockout_probability=p,
        opened_at=NOW,
        updated_at=NOW,
        first_as_of=NOW.date(),
        last_as_of=NOW.date(),
        notified_level=AlertLevel.CRITICAL,
    )
    return NotifyItem(alert, NotifyReason.NEW, i)


def test_immediates_are_capped_to_the_most_urgent_and_the_digest_keeps_everything():
    items = [critical(i, 0.5 + i / 100) for i in range(1, 31)]
    rules = NotifyRules(channels=[NotifyChannel(name="c", url="json://x/y")], immediate_max_per_run=3)
    msgs = compose_messages(items, rules=rules, now=NOW, as_of=NOW.date(), run_id=1)
    immediates = [m for m in msgs if m.kind == "immediate"]
    assert [m.alert_ids for m in immediates] == [(30,), (29,), (28,)]
    (digest,) = [m for m in msgs if m.kind == "digest"]
    assert len(digest.alert_ids) == 30
