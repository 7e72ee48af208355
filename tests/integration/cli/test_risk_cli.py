"""``stockwarden assess`` and ``stockwarden backtest`` end to end on a small folder (real forecast and lead times)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.factories import make_dataset_folder
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.domain.risk import ASSESSMENT_COLUMNS

runner = CliRunner()


@pytest.mark.slow
def test_assess_writes_the_contract_columns(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=3, days=150)
    out = tmp_path / "risk.csv"
    res = runner.invoke(app, ["assess", str(folder), "--as-of", "2024-05-01", "--out", str(out)])
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out)
    assert tuple(frame.columns[: len(ASSESSMENT_COLUMNS)]) == ASSESSMENT_COLUMNS
    assert len(frame) == 3 and frame["level"].isin(["critical", "warning", "watch", "ok"]).all()
    assert frame["stockout_probability"].between(0, 1).all()


@pytest.mark.slow
def test_backtest_has_a_row_per_checkpoint_and_series(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=2, days=150)
    out = tmp_path / "bt.csv"
    res = runner.invoke(
        app,
        [
            "backtest",
            str(folder),
            "--start",
            "2024-04-15",
            "--end",
            "2024-04-29",
            "--every",
            "7",
            "--learned",
            "never",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out)
    assert sorted(frame["as_of"].unique()) == ["2024-04-15", "2024-04-22", "2024-04-29"]
    assert len(frame) == 6


def test_a_bad_date_is_a_one_line_error(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=1, days=30)
    res = runner.invoke(app, ["assess", str(folder), "--as-of", "not-a-date", "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2
    assert "--as-of" in res.output and "Traceback" not in res.output


def test_backtest_refuses_an_end_before_the_start(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=1, days=30)
    res = runner.invoke(
        app, ["backtest", str(folder), "--start", "2024-02-01", "--end", "2024-01-01", "--out", str(tmp_path / "x.csv")]
    )
    assert res.exit_code == 2 and "before" in res.output


@pytest.mark.slow
def test_assess_works_on_the_database(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=2, days=120)
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    assert runner.invoke(app, ["import", str(folder), "--db", db]).exit_code == 0
    out = tmp_path / "risk.csv"
    res = runner.invoke(app, ["assess", "--db", db, "--as-of", "2024-04-20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out)) == 2


@pytest.mark.slow
def test_a_what_if_study_can_replace_each_checkpoints_forecast_and_lead_times(tmp_path: Path) -> None:
    # run_backtest_on's hooks (used by benchmarks/warning_ceiling.py): a forecast of no demand at all
    # leaves nothing to run out for an item in stock, and each checkpoint's models pass through them.
    import dataclasses

    from stockwarden.cli.risk import run_backtest_on
    from stockwarden.config import RiskRules, RulesConfig
    from stockwarden.ingest.dataset import load_dataset

    ds = load_dataset(make_dataset_folder(tmp_path / "ds", n_skus=2, days=150))
    seen: list[pd.Timestamp] = []

    def no_demand(fc, as_of):  # type: ignore[no-untyped-def]
        seen.append(as_of)
        return dataclasses.replace(fc, mean=fc.mean * 0.0)

    def same_lead_times(model, as_of):  # type: ignore[no-untyped-def]
        seen.append(as_of)
        return model

    frame = run_backtest_on(
        ds,
        start=pd.Timestamp("2024-04-15"),
        end=pd.Timestamp("2024-04-22"),
        every_days=7,
        rules=RulesConfig(risk=RiskRules(learned_model="never")),
        adjust_forecast=no_demand,
        adjust_lead_times=same_lead_times,
    )
    assert seen == list(pd.to_datetime(["2024-04-15", "2024-04-15", "2024-04-22", "2024-04-22"]))
    in_stock = frame["on_hand"] > 0
    assert in_stock.any()
    assert (frame.loc[in_stock, "stockout_probability"] == 0).all()
