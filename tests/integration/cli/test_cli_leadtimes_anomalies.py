"""`stockwarden leadtimes` and `stockwarden anomalies` on a folder and on a SQLite database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.factories import make_dataset_folder
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.domain.supply import ANOMALY_COLUMNS, LEADTIME_TABLE_COLUMNS
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.repo import import_dataset

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_leadtimes_on_a_folder_writes_the_issue_columns(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=3, days=240)
    out = tmp_path / "lt.csv"
    res = cli("leadtimes", str(folder), "--as-of", "2024-08-01", "--out", str(out))
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert tuple(table.columns) == LEADTIME_TABLE_COLUMNS
    sup = table.loc[table["level"] == "supplier"].iloc[0]
    assert sup["supplier_id"] == "SUP-1" and sup["source"] == "supplier_history"
    assert 7 <= sup["mean_lead_time_days"] <= 11


def test_anomalies_on_a_folder_and_on_the_database_agree(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=3, days=240)
    out_folder, out_db = tmp_path / "a1.csv", tmp_path / "a2.csv"
    res = cli("anomalies", str(folder), "--as-of", "2024-08-01", "--out", str(out_folder))
    assert res.exit_code == 0, res.output
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    import_dataset(engine, folder)
    engine.dispose()
    res = cli("anomalies", "--db", url, "--as-of", "2024-08-01", "--out", str(out_db))
    assert res.exit_code == 0, res.output
    a, b = pd.read_csv(out_folder), pd.read_csv(out_db)
    assert tuple(a.columns[: len(ANOMALY_COLUMNS)]) == ANOMALY_COLUMNS
    assert len(a) > 0  # the factory's counts are not consistent with its sales: mismatches are found
    pd.testing.assert_frame_equal(a, b)
    res = cli("leadtimes", "--db", url, "--as-of", "2024-08-01", "--out", str(tmp_path / "lt.csv"))
    assert res.exit_code == 0, res.output


def test_bad_input_is_one_line_and_exit_code_two(tmp_path: Path) -> None:
    res = cli("anomalies", str(tmp_path / "missing"), "--out", str(tmp_path / "x.csv"))
    assert res.exit_code == 2
    assert "does not exist" in res.output
    folder = make_dataset_folder(tmp_path / "ds", n_skus=1, days=30)
    res = cli("leadtimes", str(folder), "--as-of", "not-a-date", "--out", str(tmp_path / "x.csv"))
    assert res.exit_code == 2
    assert "--as-of" in res.output and "Traceback" not in res.output
