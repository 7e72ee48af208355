"""Issue 16 at the command line: stale as-of dates, long gaps, huge horizons, result formats, small CLI cases.

Every refusal is one line on stderr with exit code 2, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from tests.factories import make_dataset_folder
from tests.ingest_helpers import minimal_folder, write_text
from typer.testing import CliRunner, Result

from stockwarden.cli import app
from stockwarden.errors import ForecastError
from stockwarden.forecast.engine import MAX_HORIZON_DAYS, forecast_demand
from stockwarden.ingest import read_dataset

runner = CliRunner()


def sw(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(result.exception, SystemExit)
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset_folder(tmp_path_factory.mktemp("ds") / "base", n_skus=2, days=60)


# -- case 8: far after the last data, assess refuses unless --allow-stale; then each row says it is stale ---------


def test_case8_assess_far_after_the_data_refuses_with_the_way_out(folder: Path, tmp_path: Path) -> None:
    line = _one_line_error(sw("assess", str(folder), "--as-of", "2024-06-01", "--out", str(tmp_path / "a.csv")))
    assert "93 days after the newest sales or stock data (2024-02-29)" in line
    assert "health.stale_feed_days (7)" in line and "--allow-stale" in line
    assert not (tmp_path / "a.csv").exists()


def test_case8_with_allow_stale_every_row_carries_its_data_health(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    result = sw("assess", str(folder), "--as-of", "2024-06-01", "--allow-stale", "--out", str(out))
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert set(frame["data_health"]) == {"stale"}
    assert frame["data_health_detail"].str.contains("no sales recorded at WH1 for 93 days").all()


def test_case8_fresh_rows_are_ok_and_the_limit_comes_from_the_rules(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert sw("assess", str(folder), "--out", str(out)).exit_code == 0
    assert set(pd.read_csv(out)["data_health"]) == {"ok"}
    rules = write_text(tmp_path, "rules.toml", "[health]\nstale_feed_days = 200\n")
    result = sw("assess", str(folder), "--as-of", "2024-06-01", "--rules", str(rules), "--out", str(out))
    assert result.exit_code == 0, result.output


# -- case 9: a year after the last sale: no traceback -------------------------------------------------------


def test_case9_forecast_a_year_after_the_last_sale_has_no_traceback(folder: Path, tmp_path: Path) -> None:
    line = _one_line_error(sw("forecast", str(folder), "--as-of", "2025-03-01", "--out", str(tmp_path / "f.csv")))
    assert "--allow-stale" in line
    out = tmp_path / "f.csv"
    result = sw("forecast", str(folder), "--as-of", "2025-03-01", "--allow-stale", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 2 * 28


# -- case 10: the horizon is bounded ------------------------------------------------------------------------


def test_case10_a_huge_horizon_is_refused_at_once(folder: Path, tmp_path: Path) -> None:
    result = sw("forecast", str(folder), "--horizon", "100000", "--out", str(tmp_path / "f.csv"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--horizon" in result.output and str(MAX_HORIZON_DAYS) in result.output
    ds = read_dataset(folder)[0]
    with pytest.raises(ForecastError, match="100,000 days is too long"):
        forecast_demand(ds, as_of=pd.Timestamp("2024-02-29"), horizon_days=100_000)


# -- case 12: result files are what their extension says ---------------------------------------------------------


def test_case12_forecast_out_xlsx_writes_a_real_workbook(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.xlsx"
    result = sw("forecast", str(folder), "--out", str(out), "--horizon", "7", "--mode", "stats")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"PK\x03\x04"
    sheet = pd.read_excel(out)
    assert list(sheet.columns[:3]) == ["sku", "location_id", "date"] and len(sheet) == 2 * 7


def test_case12_an_unknown_output_extension_is_refused(folder: Path, tmp_path: Path) -> None:
    line = _one_line_error(sw("forecast", str(folder), "--out", str(tmp_path / "f.xls"), "--horizon", "7"))
    assert "unknown output format '.xls'" in line and ".xlsx" in line


# -- case 16: smaller CLI cases ---------------------------------------------------------------------------------


def test_case16_rejects_names_an_unknown_table(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    assert sw("import", str(minimal_folder(tmp_path / "ds")), "--db", db).exit_code == 0
    line = _one_line_error(sw("rejects", "--table", "bogus", "--db", db))
    assert "--table 'bogus' is not a dataset table" in line and "purchase_orders" in line


def test_case16_read_commands_do_not_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    line = _one_line_error(sw("rejects", "--db", f"sqlite:///{missing}"))
    assert "typo.db" in line and "does not exist" in line
    assert not missing.exists()
    _one_line_error(sw("assess", "--db", f"sqlite:///{missing}", "--out", str(tmp_path / "a.csv")))
    assert not missing.exists()


def test_case16_deliver_without_a_channel_says_so(tmp_path: Path) -> None:
    cfg = write_text(tmp_path, "sw.toml", "[notify]\nchannels = []\n")
    line = _one_line_error(sw("alerts", "deliver", "--config", str(cfg), "--db", f"sqlite:///{tmp_path / 'sw.db'}"))
    assert "no notification channel is configured" in line


def test_case16_help_texts_keep_bracketed_words() -> None:
    assert "[leadtime]" in sw("leadtimes", "--help").output
    assert "[[notify.channels]]" in sw("alerts", "deliver", "--help").output


def test_case16_import_reports_a_misspelt_file_and_reads_stated_forms(tmp_path: Path) -> None:
    sales = "date;sku;qty;location_id\n05.03.2024;A;1,5;WH1\n06.03.2024;B;2;WH1\n"
    folder = minimal_folder(tmp_path / "ds", sales=sales, extra={"purchase_order.csv": "po_id,sku,qty,order_date\n"})
    report = tmp_path / "r.json"
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    result = sw("import", str(folder), "--db", db, "--json", str(report), "--date-order", "dmy", "--decimal-comma")
    assert result.exit_code == 0, result.output
    assert "purchase_order.csv was not read" in result.output and "did you mean purchase_orders" in result.output
    payload = json.loads(report.read_text(encoding="utf-8"))
    assert payload["tables"]["sales"]["accepted"] == 2 and payload["rejects"] == []
    assert any(w["code"] == "file_not_read" for w in payload["warnings"])
    without = sw("import", str(folder), "--db", db, "--json", str(report))
    assert without.exit_code == 0
    reasons = {r["reason"].split(":")[0] for r in json.loads(report.read_text(encoding="utf-8"))["rejects"]}
    assert reasons == {"date is ambiguous"}  # the first problem of a row is its reason


def test_case16_an_overlapping_run_attempt_keeps_the_counts_of_the_one_that_did_the_work(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    from stockwarden.store import runs
    from stockwarden.store.db import make_engine, upgrade_database

    engine = make_engine(f"sqlite:///{tmp_path / 'sw.db'}")
    upgrade_database(engine)
    now = dt.datetime(2024, 3, 1, 6, tzinfo=dt.UTC)
    key = {"as_of": dt.date(2024, 2, 29), "data_hash": "h", "rules_version": "v", "now": now}
    with Session(engine) as s, s.begin():
        a, _ = runs.start_run(s, **key)  # type: ignore[arg-type]
    with Session(engine) as s, s.begin():
        b, was_done = runs.start_run(s, **key)  # type: ignore[arg-type]
    assert a.run_id == b.run_id and not was_done
    with Session(engine) as s, s.begin():
        runs.finish_run(s, a.run_id, status=runs.COMPLETED, now=now, counts={"alerts_opened": 3})
    with Session(engine) as s, s.begin():
        runs.finish_run(s, b.run_id, status=runs.COMPLETED, now=now, counts={"alerts_opened": 0})
    with Session(engine) as s:
        assert runs.get_run(s, a.run_id).counts == {"alerts_opened": 3}
    engine.dispose()
