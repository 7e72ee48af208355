"""`stockwarden alerts ...` on a real database: the handling log tells the story of an alert."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tests.factories_pipeline import LAST_DAY, ScriptedRisk, make_db, rules_with, scripted_steps
from typer.testing import CliRunner

from stockwarden.alerts.notify.base import MockNotifier
from stockwarden.cli import app
from stockwarden.config import NotifyChannel
from stockwarden.pipeline import run_pipeline
from stockwarden.store.alert_repo import get_alert, list_feedback
from stockwarden.store.alerts import OutboxRow

NOW = dt.datetime(2024, 3, 31, 6, 0, tzinfo=dt.UTC)
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    from stockwarden.cli.app import console

    monkeypatch.setattr(console, "width", 200)


@pytest.fixture
def db(tmp_path):
    url, engine = make_db(tmp_path)
    risk = ScriptedRisk({"SKU-000": ("critical", 0.9), "SKU-001": ("warning", 0.5)})
    run_pipeline(
        engine,
        as_of=LAST_DAY,
        config=rules_with(NotifyChannel(name="x", url="json://x/y")),
        now=NOW,
        notifier=MockNotifier(),
        steps=scripted_steps(risk),
    )
    yield url, engine
    engine.dispose()


def cli(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_list_shows_live_alerts_most_urgent_first_and_filters(db):
    url, _ = db
    out = cli("alerts", "list", "--db", url)
    assert out.exit_code == 0
    assert out.output.index("SKU-000") < out.output.index("SKU-001")
    only_warning = cli("alerts", "list", "--level", "warning", "--db", url)
    assert "SKU-001" in only_warning.output and "SKU-000" not in only_warning.output
    assert "no alerts match" in cli("alerts", "list", "--state", "resolved", "--db", url).output


def test_the_story_of_an_alert(db):
    url, engine = db
    assert cli("alerts", "comment", "1", "calling the supplier", "--user", "li", "--db", url).exit_code == 0
    assert cli("alerts", "ack", "1", "-m", "on it", "--user", "li", "--db", url).exit_code == 0
    out = cli("alerts", "snooze", "1", "--until-worse", "--user", "li", "--db", url)
    assert out.exit_code == 0 and "now snoozed" in out.output
    assert cli("alerts", "resolve", "1", "-m", "expedited", "--user", "wang", "--db", url).exit_code == 0
    assert (
        cli("alerts", "feedback", "1", "useful", "--note", "caught it early", "--user", "li", "--db", url).exit_code
        == 0
    )
    show = cli("alerts", "show", "1", "--db", url)
    assert show.exit_code == 0
    text = " ".join(show.output.split())
    for expected in (
        "opened",
        "commented",
        "calling the supplier",
        "acknowledged",
        "on it",
        "snoozed",
        "until worse",
        "resolved",
        "expedited",
        "feedback",
        "useful: caught it early",
        "wang",
    ):
        assert expected in text
    with Session(engine) as s:
        assert get_alert(s, 1).state == "resolved"
        (fb,) = list_feedback(s)
    assert (fb["verdict"], fb["note"], fb["sku"], fb["level"]) == ("useful", "caught it early", "SKU-000", "critical")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("alerts", "show", "99"), "alert 99 does not exist"),
        (("alerts", "list", "--state", "closed"), "--state 'closed' is not one of"),
        (("alerts", "feedback", "1", "meh"), "verdict 'meh' is not one of useful, false_alarm, already_handled"),
        (("alerts", "snooze", "1"), "snooze needs a date"),
        (("alerts", "snooze", "1", "--until", "soon"), "--until 'soon' is not a date"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(db, args, message):
    url, _ = db
    out = runner.invoke(app, [*args, "--db", url])
    assert out.exit_code == 2 and message in " ".join(out.output.split())
    assert "Traceback" not in out.output


def test_acknowledging_twice_is_refused(db):
    url, _ = db
    cli("alerts", "ack", "2", "--db", url)
    out = runner.invoke(app, ["alerts", "ack", "2", "--db", url])
    assert out.exit_code == 2 and "is acknowledged: cannot acknowledge it" in out.output


def test_outbox_lists_the_messages_of_the_run(db):
    url, _ = db
    out = cli("alerts", "outbox", "--db", url)
    assert out.exit_code == 0 and "sent: 2" in out.output and "immediate" in out.output


def test_runs_lists_the_run_record_with_its_step_timings(db):
    url, _ = db
    out = cli("runs", "--db", url)
    assert out.exit_code == 0
    assert "completed" in out.output and "alerts=" in out.output and "compose=" in out.output


def test_dead_messages_can_be_requeued_and_delivered_from_the_command_line(tmp_path):
    from stockwarden.alerts.notify.base import OutboxMessage
    from stockwarden.store.outbox import enqueue_messages

    url, engine = make_db(tmp_path)
    with Session(engine) as s, s.begin():
        enqueue_messages(
            s,
            [
                OutboxMessage(
                    idempotency_key="digest:local:run9",
                    channel="local",
                    kind="digest",
                    title="T",
                    body="B\nref: digest:local:run9",
                )
            ],
            now=NOW,
        )
        s.execute(sa.update(OutboxRow).values(status="dead", last_error="SMTP down"))
    engine.dispose()
    log = tmp_path / "out.log"
    cfg = tmp_path / "stockwarden.toml"
    cfg.write_text(f'[[notify.channels]]\nname = "local"\nurl = "file://{log}"\n', encoding="utf-8")
    listed = cli("alerts", "outbox", "--status", "dead", "--db", url)
    assert "dead: 1" in listed.output and "SMTP down" in listed.output
    assert "1 dead message(s) re-queued" in cli("alerts", "outbox", "--retry", "--db", url).output
    out = cli("alerts", "deliver", "--config", str(cfg), "--db", url)
    assert out.exit_code == 0 and "1 sent" in out.output
    assert log.read_text(encoding="utf-8").count("ref: digest:local:run9") == 1
    assert "1 sent" not in cli("alerts", "deliver", "--config", str(cfg), "--db", url).output
