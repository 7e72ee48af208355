"""The daily run on a real database: alerts, dedup across runs, idempotency, resume, messages once."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tests.factories_pipeline import LAST_DAY, ScriptedRisk, make_db, rules_with, scripted_steps

from stockwarden.alerts.notify.base import MockNotifier
from stockwarden.config import NotifyChannel
from stockwarden.pipeline import RunFailed, run_pipeline
from stockwarden.store import alert_repo, runs
from stockwarden.store.alerts import AlertLogRow, AlertRow, OutboxRow

NOW = dt.datetime(2024, 3, 31, 6, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HOOK = NotifyChannel(name="buyers", url="json://example.invalid/hook")


def table_counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            t.__tablename__: s.scalar(sa.select(sa.func.count()).select_from(t)) or 0
            for t in (AlertRow, AlertLogRow, OutboxRow)
        }


@pytest.fixture
def db(tmp_path, db_url):
    _, engine = make_db(tmp_path, url=db_url)
    yield engine
    engine.dispose()


def test_a_run_opens_alerts_proposes_orders_and_sends_a_digest_and_an_immediate(db):
    risk = ScriptedRisk({"SKU-000": ("critical", 0.9), "SKU-001": ("warning", 0.5)})
    notifier = MockNotifier()
    report = run_pipeline(
        db, as_of=None, config=rules_with(HOOK), now=NOW, notifier=notifier, steps=scripted_steps(risk)
    )
    assert report.status == "completed" and report.as_of == LAST_DAY
    assert report.counts["alerts_opened"] == 2 and report.counts["messages_sent"] == 2
    assert [m.kind for _, m in notifier.sent] == ["immediate", "digest"]
    assert notifier.sent[1][1].body.splitlines()[0].startswith("[CRITICAL] SKU-000 @ WH1 (new, #")
    # the message carries the order proposal made by the same run (quantity, draft PO, order-by date)
    assert "; proposed order " in notifier.sent[1][1].body and "(PO " in notifier.sent[1][1].body
    assert [s.name for s in report.steps] == [
        "load",
        "health",
        "forecast",
        "leadtimes",
        "anomalies",
        "assess",
        "assessments",
        "alerts",
        "proposals",
        "compose",
        "deliver",
    ]
    assert report.counts["proposals_created"] >= 1
    with Session(db) as s:
        stored = runs.get_run(s, report.run_id)
    assert stored.status == "completed" and stored.rules_version == report.rules_version
    assert {"alerts", "proposals", "compose", "assess"} <= set(stored.steps)
    assert stored.counts["alerts_opened"] == 2


def test_running_twice_for_the_same_date_and_data_changes_nothing_and_sends_nothing(db):
    risk = ScriptedRisk({"SKU-000": ("critical", 0.9)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK)
    run_pipeline(db, as_of=None, config=cfg, now=NOW, notifier=notifier, steps=scripted_steps(risk))
    before = table_counts(db)
    again = run_pipeline(
        db, as_of=None, config=cfg, now=NOW + dt.timedelta(hours=2), notifier=notifier, steps=scripted_steps(risk)
    )
    assert again.status == "already_completed" and risk.calls == 1
    assert table_counts(db) == before and len(notifier.sent) == 2


def test_the_next_days_run_updates_the_same_alert_and_announces_only_worsening(db):
    risk = ScriptedRisk({"SKU-001": ("warning", 0.5)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK)
    run_pipeline(db, as_of=LAST_DAY, config=cfg, now=NOW, notifier=notifier, steps=scripted_steps(risk))
    risk.levels["SKU-001"] = ("warning", 0.6)
    second = run_pipeline(
        db, as_of=LAST_DAY + DAY, config=cfg, now=NOW + DAY, notifier=notifier, steps=scripted_steps(risk)
    )
    assert second.counts["alerts_opened"] == 0 and second.counts["alerts_updated"] == 1
    assert second.counts["messages_enqueued"] == 0 and len(notifier.sent) == 1
    risk.levels["SKU-001"] = ("critical", 0.92)
    third = run_pipeline(
        db, as_of=LAST_DAY + 2 * DAY, config=cfg, now=NOW + 2 * DAY, notifier=notifier, steps=scripted_steps(risk)
    )
    assert third.counts["messages_enqueued"] == 2  # immediate (now critical) + digest
    assert "(worse, #1)" in notifier.sent[-1][1].body
    with Session(db) as s:
        assert len(alert_repo.list_alerts(s)) == 1


def test_a_failed_step_is_recorded_and_the_next_run_resumes_without_repeating_effects(db):
    risk = ScriptedRisk({"SKU-000": ("critical", 0.9)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK)

    def broken_proposals(*args, **kwargs):
        raise ValueError("disk full")

    steps = scripted_steps(risk)
    steps.proposals = broken_proposals
    with pytest.raises(RunFailed, match="step proposals: disk full"):
        run_pipeline(db, as_of=None, config=cfg, now=NOW, notifier=notifier, steps=steps)
    with Session(db) as s:
        (failed,) = runs.list_runs(s)
    assert failed.status == "failed" and "alerts" in failed.steps and notifier.sent == []
    after_failure = table_counts(db)
    resumed = run_pipeline(
        db, as_of=None, config=cfg, now=NOW + dt.timedelta(minutes=5), notifier=notifier, steps=scripted_steps(risk)
    )
    assert resumed.status == "completed" and resumed.attempts == 2 and resumed.run_id == failed.run_id
    assert next(s for s in resumed.steps if s.name == "alerts").is_resumed
    assert table_counts(db)["alerts"] == after_failure["alerts"] == 1
    assert [m.kind for _, m in notifier.sent] == ["immediate", "digest"]


def test_a_critical_alert_left_unacknowledged_escalates_on_a_later_run_with_an_immediate_message(db):
    from stockwarden.config import AlertRules

    risk = ScriptedRisk({"SKU-000": ("critical", 0.9)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK).model_copy(update={"alerts": AlertRules(escalate_after_hours=20)})
    run_pipeline(db, as_of=LAST_DAY, config=cfg, now=NOW, notifier=notifier, steps=scripted_steps(risk))
    report = run_pipeline(
        db, as_of=LAST_DAY + DAY, config=cfg, now=NOW + DAY, notifier=notifier, steps=scripted_steps(risk)
    )
    assert report.counts["alerts_escalated"] == 1
    assert notifier.sent[-2][1].title == "stockwarden ESCALATED: critical stockout risk SKU-000 @ WH1"
    with Session(db) as s:
        (alert,) = alert_repo.list_alerts(s)
        story = [e.action for e in alert_repo.get_handling_log(s, alert.alert_id)]
    assert alert.state == "escalated" and story == ["opened", "updated", "escalated"]  # the date moved on
    third = run_pipeline(
        db, as_of=LAST_DAY + 2 * DAY, config=cfg, now=NOW + 2 * DAY, notifier=notifier, steps=scripted_steps(risk)
    )
    assert third.counts["alerts_escalated"] == 0 and third.counts["messages_enqueued"] == 0


def test_snooze_until_worse_survives_storage_and_wakes_only_when_worse(db):
    from stockwarden.alerts.lifecycle import snooze_alert

    risk = ScriptedRisk({"SKU-001": ("warning", 0.5)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK)
    run_pipeline(db, as_of=LAST_DAY, config=cfg, now=NOW, notifier=notifier, steps=scripted_steps(risk))
    with Session(db) as s, s.begin():
        alert_repo.save_alert_change(s, snooze_alert(alert_repo.get_alert(s, 1), actor="li", now=NOW, until_worse=True))
    risk.levels["SKU-001"] = ("warning", 0.65)
    quiet = run_pipeline(
        db, as_of=LAST_DAY + DAY, config=cfg, now=NOW + DAY, notifier=notifier, steps=scripted_steps(risk)
    )
    assert quiet.counts["messages_enqueued"] == 0
    risk.levels["SKU-001"] = ("critical", 0.95)
    woken = run_pipeline(
        db, as_of=LAST_DAY + 2 * DAY, config=cfg, now=NOW + 2 * DAY, notifier=notifier, steps=scripted_steps(risk)
    )
    assert woken.counts["messages_enqueued"] == 2
    with Session(db) as s:
        assert alert_repo.get_alert(s, 1).state == "open"
        story = [(e.action, e.actor) for e in alert_repo.get_handling_log(s, 1)]
    assert story == [
        ("opened", "system"),
        ("snoozed", "li"),
        ("updated", "system"),
        ("worsened", "system"),
        ("woken", "system"),
    ]


def test_hysteresis_resolves_after_two_quiet_runs_and_a_relapse_opens_a_new_alert(db):
    risk = ScriptedRisk({"SKU-001": ("warning", 0.5)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK)
    run_pipeline(db, as_of=LAST_DAY, config=cfg, now=NOW, notifier=notifier, steps=scripted_steps(risk))
    risk.levels["SKU-001"] = ("watch", 0.3)
    states = []
    for day in (1, 2):
        run_pipeline(
            db,
            as_of=LAST_DAY + day * DAY,
            config=cfg,
            now=NOW + day * DAY,
            notifier=notifier,
            steps=scripted_steps(risk),
        )
        with Session(db) as s:
            states.append(alert_repo.get_alert(s, 1).state)
    assert states == ["open", "resolved"]
    risk.levels["SKU-001"] = ("warning", 0.5)
    again = run_pipeline(
        db, as_of=LAST_DAY + 3 * DAY, config=cfg, now=NOW + 3 * DAY, notifier=notifier, steps=scripted_steps(risk)
    )
    assert again.counts["alerts_opened"] == 1


def test_quiet_hours_hold_the_digest_until_they_end_while_the_immediate_goes_out(db):
    from stockwarden.alerts.notify.outbox import deliver_due
    from stockwarden.store.outbox import SqlOutbox

    risk = ScriptedRisk({"SKU-000": ("critical", 0.9), "SKU-001": ("warning", 0.5)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK, quiet_hours="05:00-07:30")  # NOW is 06:00 UTC
    report = run_pipeline(db, as_of=None, config=cfg, now=NOW, notifier=notifier, steps=scripted_steps(risk))
    assert report.counts["messages_enqueued"] == 2 and [m.kind for _, m in notifier.sent] == ["immediate"]
    outbox = SqlOutbox(db)
    assert deliver_due(outbox, notifier, rules=cfg.notify, now=NOW + dt.timedelta(minutes=89)).n_sent == 0
    assert deliver_due(outbox, notifier, rules=cfg.notify, now=NOW + dt.timedelta(minutes=90)).n_sent == 1
    assert [m.kind for _, m in notifier.sent] == ["immediate", "digest"]


def test_when_the_data_does_not_change_time_still_escalates_and_ends_snoozes(db):
    from stockwarden.alerts.lifecycle import snooze_alert
    from stockwarden.config import AlertRules

    risk = ScriptedRisk({"SKU-000": ("critical", 0.9), "SKU-001": ("warning", 0.5)})
    notifier = MockNotifier()
    cfg = rules_with(HOOK).model_copy(update={"alerts": AlertRules(escalate_after_hours=30)})
    run_pipeline(db, as_of=None, config=cfg, now=NOW, notifier=notifier, steps=scripted_steps(risk))
    with Session(db) as s, s.begin():
        warning = next(a for a in alert_repo.list_alerts(s) if a.sku == "SKU-001")
        alert_repo.save_alert_change(s, snooze_alert(warning, actor="li", now=NOW, until=(NOW + 2 * DAY).date()))
    sent = len(notifier.sent)
    next_day = run_pipeline(db, as_of=None, config=cfg, now=NOW + DAY, notifier=notifier, steps=scripted_steps(risk))
    assert next_day.status == "already_completed" and next_day.counts["messages_enqueued"] == 0
    later = run_pipeline(db, as_of=None, config=cfg, now=NOW + 2 * DAY, notifier=notifier, steps=scripted_steps(risk))
    assert later.status == "already_completed" and risk.calls == 1
    assert later.counts["alerts_escalated"] == 1
    new = [m for _, m in notifier.sent[sent:]]
    assert [m.kind for m in new] == ["immediate", "digest"]
    assert "ESCALATED" in new[0].title and "(escalated, #" in new[1].body and "(snooze ended, #" in new[1].body
    again = run_pipeline(
        db,
        as_of=None,
        config=cfg,
        now=NOW + 2 * DAY + dt.timedelta(hours=1),
        notifier=notifier,
        steps=scripted_steps(risk),
    )
    assert again.counts["messages_enqueued"] == 0 and len(notifier.sent) == sent + 2
    with Session(db) as s:
        states = sorted(str(a.state) for a in alert_repo.list_alerts(s))
    assert states == ["escalated", "open"]
