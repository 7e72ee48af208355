"""``stockwarden demo``: a small sample company, imported into a fresh database, then the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.store.db import make_engine
from stockwarden.store.repo import load_dataset_from_db

SMALL = ["--skus", "10", "--days", "90", "--locations", "2", "--seed", "4"]


def _demo(tmp_path: Path, *extra: str, db: str | None = None) -> tuple[int, str]:
    url = db or f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path / "company"), "--db", url, *SMALL, *extra])
    return result.exit_code, result.output


def test_demo_import_only_loads_the_company_into_a_fresh_database_each_time(tmp_path: Path) -> None:
    code, out = _demo(tmp_path, "--import-only")
    assert code == 0, out
    assert "The sample company" in out and "What was loaded" in out and "Demo finished" in out
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        first = load_dataset_from_db(engine)
    finally:
        engine.dispose()
    assert len(first.sales) > 100 and len(first.items) == 10
    code, out = _demo(tmp_path, "--import-only")  # run again: the database is recreated, not added to
    assert code == 0, out
    assert "import batch 1," in out
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        assert len(load_dataset_from_db(engine).sales) == len(first.sales)
    finally:
        engine.dispose()


def test_demo_refuses_an_unknown_forecast_mode_with_one_line(tmp_path: Path) -> None:
    code, out = _demo(tmp_path, "--forecast-mode", "magic")
    assert code == 2 and "--forecast-mode" in out and "Traceback" not in out


def test_demo_refuses_to_wipe_a_non_sqlite_database_that_holds_data(tmp_path: Path, pg_database_url: str) -> None:
    code, out = _demo(tmp_path, "--import-only", db=pg_database_url)
    assert code == 0, out
    code, out = _demo(tmp_path, "--import-only", db=pg_database_url)
    assert code == 2 and "--reset" in out
    code, out = _demo(tmp_path, "--import-only", "--reset", db=pg_database_url)
    assert code == 0, out


@pytest.mark.slow
def test_demo_runs_the_pipeline_and_ends_with_risk_alerts_and_proposals(tmp_path: Path) -> None:
    code, out = _demo(tmp_path, "--top", "5")
    assert code == 0, out
    positions = [
        out.index(title)
        for title in (
            "What was loaded",
            "Daily run as of",
            "Stockout risk, most urgent",
            "Alerts",
            "Order proposals",
            "Demo finished",
        )
    ]
    assert positions == sorted(positions)
    assert "SKU-locations assessed" in out
    notifications = tmp_path / "company" / "notifications.log"
    assert "local file channel" in out
    if "0 message(s)" not in out:
        assert notifications.read_text(encoding="utf-8").startswith("===")


def test_a_failing_daily_run_ends_the_demo_with_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stockwarden.pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(stockwarden.pipeline, "run_pipeline", broken)
    code, out = _demo(tmp_path)
    assert code == 2
    assert "the daily run failed: RuntimeError: disk on fire" in out
    assert "second line" not in out and "Traceback" not in out
    assert "What was loaded" in out  # the import was shown before
