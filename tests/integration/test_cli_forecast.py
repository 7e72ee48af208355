"""``stockwarden forecast`` end to end on a folder and on the database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.factories import make_dataset_folder
from typer.testing import CliRunner

from stockwarden.cli import app

COLUMNS = ["sku", "location_id", "date", "mean", "p5", "p25", "p50", "p75", "p95", "model"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_dataset_folder(tmp_path / "ds", n_skus=3, days=90)


def test_forecast_writes_the_contract_columns_for_every_series_and_day(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "fc.csv"
    res = CliRunner().invoke(
        app, ["forecast", str(folder), "--as-of", "2024-03-20", "--horizon", "7", "--mode", "stats", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    fc = pd.read_csv(out)
    assert list(fc.columns[: len(COLUMNS)]) == COLUMNS
    assert len(fc) == 3 * 7
    assert fc["date"].min() == "2024-03-21" and fc["date"].max() == "2024-03-27"


def test_forecast_ignores_rows_after_as_of_in_the_folder(folder: Path, tmp_path: Path) -> None:
    args = ["--as-of", "2024-03-01", "--horizon", "5", "--mode", "stats"]
    CliRunner().invoke(app, ["forecast", str(folder), *args, "--out", str(tmp_path / "a.csv")])
    sales = pd.read_csv(folder / "sales.csv")
    later = pd.to_datetime(sales["date"]) > "2024-03-01"
    sales.loc[later, "qty"] = sales.loc[later, "qty"] * 10
    sales.to_csv(folder / "sales.csv", index=False)
    CliRunner().invoke(app, ["forecast", str(folder), *args, "--out", str(tmp_path / "b.csv")])
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2024-02-31"], "not a date"),
        (["--horizon", "0"], "positive"),
        (["--as-of", "2020-01-01"], "nothing to forecast"),
        (["--mode", "magic"], "mode"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_code_2(
    folder: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    res = CliRunner().invoke(app, ["forecast", str(folder), *args, "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_forecast_reads_the_database_when_no_folder_is_given(folder: Path, tmp_path: Path) -> None:
    from stockwarden.store.db import make_engine, upgrade_database
    from stockwarden.store.repo import import_dataset

    url = f"sqlite:///{tmp_path / 'sw.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    import_dataset(engine, folder)
    engine.dispose()
    out = tmp_path / "db.csv"
    res = CliRunner().invoke(
        app, ["forecast", "--db", url, "--as-of", "2024-03-20", "--horizon", "3", "--mode", "stats", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    from_db = pd.read_csv(out)
    CliRunner().invoke(
        app,
        [
            "forecast",
            str(folder),
            "--as-of",
            "2024-03-20",
            "--horizon",
            "3",
            "--mode",
            "stats",
            "--out",
            str(tmp_path / "folder.csv"),
        ],
    )
    pd.testing.assert_frame_equal(from_db, pd.read_csv(tmp_path / "folder.csv"))


def test_a_demand_only_folder_without_stock_counts_is_forecast(folder: Path, tmp_path: Path) -> None:
    (folder / "inventory.csv").unlink()
    out = tmp_path / "fc.csv"
    res = CliRunner().invoke(
        app, ["forecast", str(folder), "--as-of", "2024-03-20", "--horizon", "3", "--mode", "stats", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out)) == 3 * 3


def test_assessing_risk_still_requires_stock_counts(folder: Path, tmp_path: Path) -> None:
    (folder / "inventory.csv").unlink()
    res = CliRunner().invoke(app, ["assess", str(folder), "--as-of", "2024-03-20", "--out", str(tmp_path / "a.csv")])
    assert res.exit_code == 2
    assert "inventory" in res.output


def test_an_output_path_that_cannot_be_written_is_one_line_and_exit_2(folder: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    res = CliRunner().invoke(
        app,
        [
            "forecast",
            str(folder),
            "--as-of",
            "2024-03-20",
            "--horizon",
            "2",
            "--mode",
            "stats",
            "--out",
            str(blocker / "fc.csv"),
        ],
    )
    assert res.exit_code == 2
    assert "cannot write" in res.output and "Traceback" not in res.output
