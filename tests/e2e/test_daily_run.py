"""`stockwarden run` end to end: real receivers, re-runs, kills (a subprocess and SIGKILL) and resumes.

Real parts: the database, the forecasting, lead-time, anomaly, risk and proposal steps, apprise, a
local HTTP webhook and a local SMTP server (aiosmtpd). A run killed with SIGKILL at a step boundary
and resumed delivers each message exactly once and ends with the same alerts as an uninterrupted run.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from sqlalchemy.orm import Session
from tests.factories_pipeline import make_db
from tests.receivers import http_receiver, smtp_receiver
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.store import runs
from stockwarden.store.alerts import AlertLogRow, AlertRow, OutboxRow
from stockwarden.store.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    from stockwarden.cli.app import console

    monkeypatch.setattr(console, "width", 200)


def sw(*args: str, cwd: Path) -> Result:
    """The real command line, in this process (the killed runs are separate processes)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args))
    finally:
        os.chdir(old)


def killable(url: str, cfg: Path, kill_after: str) -> list[str]:
    return [sys.executable, str(ROOT / "tests/e2e/run_killable.py"), url, str(cfg), kill_after]


def write_config(path: Path, *, hook: str | None = None, smtp_port: int | None = None, lease: float = 300) -> Path:
    lines = ["[run]", 'forecast_mode = "stats"', "", "[notify]", f"sending_lease_seconds = {lease}", ""]
    if hook:
        lines += [
            "[[notify.channels]]",
            'name = "buyers"',
            f'url = "json://{hook}/hook"',
            'levels = ["critical", "warning", "watch"]',
            'language = "en"',
            "",
        ]
    if smtp_port:
        url = f"mailto://127.0.0.1:{smtp_port}?from=stockwarden@example.com&to=planner@example.com&mode=insecure"
        lines += [
            "[[notify.channels]]",
            'name = "planners"',
            f'url = "{url}"',
            'levels = ["critical"]',
            'language = "zh"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def snapshot(url: str) -> dict[str, object]:
    engine = make_engine(url)
    with Session(engine) as s:
        alerts = sorted((a.sku, a.location_id, a.level, a.state) for a in s.scalars(sa.select(AlertRow)))
        keys = sorted(s.scalars(sa.select(OutboxRow.idempotency_key)))
        n_log = s.scalar(sa.select(sa.func.count()).select_from(AlertLogRow))
        statuses = sorted(s.scalars(sa.select(OutboxRow.status)))
        run_list = runs.list_runs(s)
    engine.dispose()
    return {"alerts": alerts, "keys": keys, "n_log": n_log, "statuses": statuses, "runs": run_list}


def keys_received(got) -> collections.Counter[str]:
    return collections.Counter(a["headers"]["X-Idempotency-Key"] for a in got.attempts)


def test_the_daily_run_delivers_once_to_real_webhook_and_smtp_and_a_rerun_sends_nothing(tmp_path):
    url, engine = make_db(tmp_path, n_skus=5)
    engine.dispose()
    with http_receiver() as (hook, got), smtp_receiver() as (port, mails):
        cfg = write_config(tmp_path / "stockwarden.toml", hook=hook, smtp_port=port)
        first = sw("run", "--db", url, "--config", str(cfg), cwd=tmp_path)
        assert first.exit_code == 0, first.output
        assert "completed" in first.stdout and "opened" in first.stdout
        second = sw("run", "--db", url, "--config", str(cfg), cwd=tmp_path)
        assert second.exit_code == 0 and "nothing new" in second.stdout
    state = snapshot(url)
    assert state["alerts"], "the sample data should raise alerts"
    n_hook_keys = sum(k.startswith(("digest:buyers", "immediate:buyers")) for k in state["keys"])
    assert len(got.accepted) == len(got.attempts) == n_hook_keys >= 1
    assert all(n == 1 for n in keys_received(got).values())
    n_mail_keys = sum(k.startswith(("digest:planners", "immediate:planners")) for k in state["keys"])
    assert len(mails) == n_mail_keys >= 1
    assert all(m["to"] == "planner@example.com" for m in mails)
    assert any("缺货" in m["subject"] for m in mails)
    assert state["statuses"] == ["sent"] * len(state["keys"])
    (run,) = state["runs"]
    assert run.status == "completed" and run.attempts == 1
    assert {"forecast", "assess", "alerts", "proposals", "compose"} <= set(run.steps)


def test_run_exits_non_zero_with_a_one_line_reason(tmp_path):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    out = sw("run", "--db", empty, cwd=tmp_path)
    assert out.exit_code == 2 and out.stderr.count("\n") == 1 and "holds no imported data" in out.stderr
    bad = sw("run", "--db", empty, "--as-of", "yesterday", cwd=tmp_path)
    assert bad.exit_code == 2 and "--as-of 'yesterday' is not a date" in bad.stderr


def test_a_run_killed_between_steps_resumes_and_sends_each_message_exactly_once(tmp_path):
    kill_after = "alerts"  # alerts stored; proposals, messages and delivery still to do
    reference_url, engine = make_db(tmp_path / "ref", n_skus=4)
    engine.dispose()
    url, engine = make_db(tmp_path / "killed", n_skus=4)
    engine.dispose()
    with http_receiver() as (hook, got_ref), http_receiver() as (hook2, got):
        ref_cfg = write_config(tmp_path / "ref.toml", hook=hook)
        assert sw("run", "--db", reference_url, "--config", str(ref_cfg), cwd=tmp_path).exit_code == 0
        cfg = write_config(tmp_path / "killed.toml", hook=hook2)
        killed = subprocess.run(killable(url, cfg, kill_after), cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert killed.returncode == -signal.SIGKILL
        mid = snapshot(url)
        assert mid["runs"][0].status == "running" and kill_after in mid["runs"][0].steps
        assert got.attempts == []  # killed before delivery
        resumed = sw("run", "--db", url, "--config", str(cfg), cwd=tmp_path)
        assert resumed.exit_code == 0, resumed.output
        assert "(done before)" in resumed.stdout
        again = sw("run", "--db", url, "--config", str(cfg), cwd=tmp_path)
        assert "nothing new" in again.stdout
    ref, final = snapshot(reference_url), snapshot(url)
    assert final["alerts"] == ref["alerts"] and final["keys"] == ref["keys"] and final["n_log"] == ref["n_log"]
    assert sorted(keys_received(got).elements()) == sorted(keys_received(got_ref).elements())
    assert all(n == 1 for n in keys_received(got).values())
    (run,) = final["runs"]
    assert run.status == "completed" and run.attempts == 2


def test_a_run_killed_while_a_message_is_in_flight_resends_it_with_the_same_key(tmp_path):
    """The one at-least-once point: the receiver sees the in-flight message twice, under one key."""
    url, engine = make_db(tmp_path, n_skus=4)
    engine.dispose()
    release = threading.Event()
    with http_receiver(hold_first=release) as (hook, got):
        cfg = write_config(tmp_path / "stockwarden.toml", hook=hook, lease=1)
        proc = subprocess.Popen(killable(url, cfg, "-"), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while not got.attempts and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert got.attempts, "the first message never reached the receiver"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        release.set()
        time.sleep(1.1)  # the 'sending' lease expires
        resumed = sw("run", "--db", url, "--config", str(cfg), cwd=tmp_path)
        assert resumed.exit_code == 0, resumed.output
    counts = keys_received(got)
    first_key = got.attempts[0]["headers"]["X-Idempotency-Key"]
    assert counts[first_key] == 2
    assert all(n == 1 for k, n in counts.items() if k != first_key)
    assert snapshot(url)["statuses"] == ["sent"] * len(counts)
