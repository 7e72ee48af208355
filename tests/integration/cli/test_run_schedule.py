"""`stockwarden schedule`: the daily job fires at the configured local time; deliveries every minute."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stockwarden.cli.run import build_scheduler
from stockwarden.errors import ConfigError


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stockwarden.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_daily_run_fires_at_the_configured_local_time(tmp_path):
    cfg = config(tmp_path, '[run]\ndaily_at = "06:30"\n[notify]\ntimezone = "Asia/Shanghai"\n')
    scheduler = build_scheduler("sqlite:///x.db", cfg)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"daily-run", "deliver"}
    now = dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC)  # 08:00 in Shanghai
    fire = jobs["daily-run"].trigger.get_next_fire_time(None, now)
    assert fire.astimezone(dt.UTC) == dt.datetime(2024, 5, 1, 22, 30, tzinfo=dt.UTC)  # 06:30 next morning
    assert jobs["deliver"].trigger.interval == dt.timedelta(minutes=1)


def test_at_overrides_the_configured_time(tmp_path):
    scheduler = build_scheduler(None, config(tmp_path, ""), at="23:05")
    job = next(j for j in scheduler.get_jobs() if j.id == "daily-run")
    fire = job.trigger.get_next_fire_time(None, dt.datetime(2024, 5, 1, 0, 0, tzinfo=dt.UTC))
    assert (fire.hour, fire.minute) == (23, 5)


@pytest.mark.parametrize(
    ("text", "at", "message"),
    [
        ("", "25:00", "not a time of day"),
        ('[notify]\ntimezone = "Mars/Base"\n', None, "Mars/Base"),
    ],
)
def test_bad_schedule_settings_are_config_errors(tmp_path, text, at, message):
    with pytest.raises(ConfigError, match=message):
        build_scheduler(None, config(tmp_path, text), at=at)


def test_the_daily_run_lowers_its_cpu_priority_once_so_people_are_served_first() -> None:
    import subprocess
    import sys

    script = (
        "import os\n"
        "from stockwarden.cli.run import lower_priority\n"
        "before = os.nice(0)\n"
        "lower_priority(3)\n"
        "lower_priority(3)\n"  # a scheduler running daily does not sink further each time
        "print(os.nice(0) - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
