"""The outbox delivers real messages to a local webhook and SMTP server: retried, once, never lost."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tests.receivers import http_receiver, smtp_receiver

from stockwarden.alerts.notify.base import AppriseNotifier, MockNotifier, OutboxMessage
from stockwarden.alerts.notify.outbox import deliver_due
from stockwarden.config import NotifyChannel, NotifyRules
from stockwarden.store.alerts import OutboxRow
from stockwarden.store.outbox import SqlOutbox, count_by_status, enqueue_messages, requeue_dead

NOW = dt.datetime(2024, 5, 1, 6, 0, tzinfo=dt.UTC)


def message(key: str = "digest:hook:run1", channel: str = "hook") -> OutboxMessage:
    return OutboxMessage(
        idempotency_key=key,
        channel=channel,
        kind="digest",
        title="stockwarden: 1 alert",
        body=f"[CRITICAL] SKU-1 @ WH1\nref: {key}",
        alert_ids=(1,),
        run_id=1,
    )


def enqueue(engine, *messages, now=NOW) -> int:
    with Session(engine) as s, s.begin():
        return enqueue_messages(s, list(messages), now=now)


def test_a_receiver_that_fails_twice_gets_the_message_exactly_once(engine):
    with http_receiver(fail_first=2) as (addr, got):
        rules = NotifyRules(channels=[NotifyChannel(name="hook", url=f"json://{addr}/hook")], retry_base_seconds=60)
        enqueue(engine, message())
        outbox, notifier = SqlOutbox(engine), AppriseNotifier()
        first = deliver_due(outbox, notifier, rules=rules, now=NOW)
        assert first.retrying == ["digest:hook:run1"] and len(got.attempts) == 1
        # not due yet: backoff of 60 s after the first failure
        assert deliver_due(outbox, notifier, rules=rules, now=NOW + dt.timedelta(seconds=59)).n_sent == 0
        second = deliver_due(outbox, notifier, rules=rules, now=NOW + dt.timedelta(seconds=60))
        assert second.retrying == ["digest:hook:run1"]
        # second failure doubles the wait: 120 s
        assert deliver_due(outbox, notifier, rules=rules, now=NOW + dt.timedelta(seconds=179)).n_sent == 0
        third = deliver_due(outbox, notifier, rules=rules, now=NOW + dt.timedelta(seconds=180))
        assert third.sent == ["digest:hook:run1"]
        for minutes in (10, 100, 1000):
            deliver_due(outbox, notifier, rules=rules, now=NOW + dt.timedelta(minutes=minutes))
    assert len(got.attempts) == 3 and len(got.accepted) == 1
    body = got.accepted[0]["json"]
    assert body["title"] == "stockwarden: 1 alert" and body["message"].endswith("ref: digest:hook:run1")
    assert {a["headers"]["X-Idempotency-Key"] for a in got.attempts} == {"digest-hook-run1"}
    with Session(engine) as s:
        row = s.scalars(sa.select(OutboxRow)).one()
        assert (row.status, row.attempts) == ("sent", 3)


def test_an_email_channel_delivers_to_a_real_smtp_server(engine):
    with smtp_receiver() as (port, mails):
        url = f"mailto://127.0.0.1:{port}?from=stockwarden@example.com&to=buyer@example.com&mode=insecure"
        rules = NotifyRules(channels=[NotifyChannel(name="mail", url=url)])
        enqueue(engine, message("digest:mail:run1", channel="mail"))
        report = deliver_due(SqlOutbox(engine), AppriseNotifier(), rules=rules, now=NOW)
        assert report.sent == ["digest:mail:run1"]
        deliver_due(SqlOutbox(engine), AppriseNotifier(), rules=rules, now=NOW + dt.timedelta(hours=1))
    assert len(mails) == 1
    assert mails[0]["to"] == "buyer@example.com" and mails[0]["subject"] == "stockwarden: 1 alert"
    assert "ref: digest:mail:run1" in mails[0]["body"]


def test_the_same_key_is_enqueued_once(engine):
    assert enqueue(engine, message(), message()) == 1
    assert enqueue(engine, message()) == 0
    with Session(engine) as s:
        assert count_by_status(s) == {"pending": 1}


def test_a_message_is_parked_as_dead_after_max_attempts_and_can_be_requeued(engine):
    rules = NotifyRules(channels=[NotifyChannel(name="hook", url="json://x/y")], max_attempts=2, retry_base_seconds=1)
    enqueue(engine, message())
    notifier = MockNotifier(fail_times=2)
    deliver_due(SqlOutbox(engine), notifier, rules=rules, now=NOW)
    report = deliver_due(SqlOutbox(engine), notifier, rules=rules, now=NOW + dt.timedelta(seconds=5))
    assert report.dead == ["digest:hook:run1"]
    assert deliver_due(SqlOutbox(engine), notifier, rules=rules, now=NOW + dt.timedelta(days=1)).n_sent == 0
    with Session(engine) as s, s.begin():
        assert count_by_status(s) == {"dead": 1}
        assert requeue_dead(s, now=NOW + dt.timedelta(days=1)) == 1
    assert deliver_due(SqlOutbox(engine), notifier, rules=rules, now=NOW + dt.timedelta(days=1)).n_sent == 1


def test_a_message_left_sending_by_a_crash_is_retried_after_the_lease_with_the_same_key(engine):
    rules = NotifyRules(channels=[NotifyChannel(name="hook", url="json://x/y")], sending_lease_seconds=300)
    enqueue(engine, message())
    claimed = SqlOutbox(engine).claim_due(now=NOW, lease_seconds=300, limit=10)  # ... and the process dies
    assert len(claimed) == 1
    notifier = MockNotifier()
    assert deliver_due(SqlOutbox(engine), notifier, rules=rules, now=NOW + dt.timedelta(seconds=299)).n_sent == 0
    assert deliver_due(SqlOutbox(engine), notifier, rules=rules, now=NOW + dt.timedelta(seconds=300)).n_sent == 1
    assert [m.idempotency_key for _, m in notifier.sent] == ["digest:hook:run1"]
    assert notifier.sent[0][1].attempts == 2


def test_two_workers_never_claim_the_same_message(engine):
    enqueue(engine, message("a"), message("b"))
    first = SqlOutbox(engine).claim_due(now=NOW, lease_seconds=300, limit=10)
    second = SqlOutbox(engine).claim_due(now=NOW, lease_seconds=300, limit=10)
    assert [m.idempotency_key for m in first] == ["a", "b"] and second == []


@pytest.mark.parametrize("url", ["file://{tmp}/out/notifications.log"])
def test_the_file_channel_appends_messages(engine, tmp_path, url):
    rules = NotifyRules(channels=[NotifyChannel(name="hook", url=url.format(tmp=tmp_path))])
    enqueue(engine, message())
    assert deliver_due(SqlOutbox(engine), AppriseNotifier(), rules=rules, now=NOW).n_sent == 1
    text = (tmp_path / "out" / "notifications.log").read_text(encoding="utf-8")
    assert text.startswith("=== stockwarden: 1 alert\n[CRITICAL] SKU-1 @ WH1\nref: digest:hook:run1")
