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
