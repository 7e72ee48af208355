"""The daily run, ``assess`` and ``backtest`` are one code path: same rows, twins alike, no dependence on
the forecast's length or on ``--horizon`` for levels and quantities."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.factories import make_dataset_folder, write_table
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.config import ForecastRules, RiskRules, RulesConfig, RunRules
from stockwarden.ingest.dataset import load_dataset
from stockwarden.pipeline import run_pipeline
from stockwarden.risk.daily import assess_day
from stockwarden.store.assessment_repo import load_assessments, typed
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.repo import import_dataset

POLICY = ["safety_stock", "reorder_point", "order_up_to", "suggested_order_qty"]
AS_OF = pd.Timestamp("2024-04-29")
NOW = dt.datetime(2024, 4, 30, 6, 0, tzinfo=dt.UTC)


def rules(**forecast: object) -> RulesConfig:
    return RulesConfig(
        run=RunRules(forecast_mode="stats"),
        forecast=ForecastRules(**forecast),  # type: ignore[arg-type]
        risk=RiskRules(learned_model="never"),
    )


def make_twin_folder(folder: Path, *, days: int = 120) -> Path:
    """Four SKUs at two locations with exactly the same 120 days of sales (3-5 a day), lead time 5, no POs."""
    rng = np.random.default_rng(3)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    qty = rng.integers(3, 6, size=days)
    skus = [f"TWIN-{c}" for c in "ABCD"]
    locations = ["L1", "L2"]
    write_table(folder, "suppliers", [{"supplier_id": "SUP-1", "name": "One", "lead_time_days": 5}])
    write_table(folder, "locations", [{"location_id": loc, "name": loc, "kind": "store"} for loc in locations])
    write_table(
        folder,
        "items",
        [
            {"sku": s, "name": s, "category": "cat", "unit_cost": 2.0, "supplier_id": "SUP-1", "lead_time_days": 5}
            for s in skus
        ],
    )
    write_table(
        folder,
        "sales",
        [
            {"date": d.date().isoformat(), "sku": s, "location_id": loc, "qty": int(q)}
            for s in skus
            for loc in locations
            for d, q in zip(dates, qty, strict=True)
        ],
    )
    write_table(
        folder,
        "inventory",
        [
            {"date": dates[-1].date().isoformat(), "sku": s, "location_id": loc, "on_hand": 30}
            for s in skus
            for loc in locations
        ],
    )
    return folder


@pytest.mark.slow
def test_twin_sku_locations_get_the_same_levels_and_quantities(tmp_path: Path) -> None:
    ds = load_dataset(make_twin_folder(tmp_path / "twins"))
    frame = assess_day(ds, as_of=pd.Timestamp("2024-04-29"), rules=rules()).assessment
    assert len(frame) == 8
    for col in [*POLICY, "level", "stockout_probability", "expected_short", "mean_daily_forecast"]:
        assert frame[col].nunique() == 1, f"{col} differs between identical SKU-locations: {frame[col].tolist()}"
    assert frame["suggested_order_qty"].iloc[0] > 0


@pytest.mark.slow
def test_the_forecast_length_and_the_horizon_never_move_levels_or_quantities(tmp_path: Path) -> None:
    ds = load_dataset(make_dataset_folder(tmp_path / "ds", n_skus=4, days=150))
    short = assess_day(ds, as_of=AS_OF, rules=rules(horizon_days=14)).assessment
    long = assess_day(ds, as_of=AS_OF, rules=rules(horizon_days=56)).assessment
    wide = assess_day(ds, as_of=AS_OF, rules=rules(horizon_days=56), horizon_days=45).assessment
    key = ["sku", "location_id"]
    for other in (long, wide):
        pd.testing.assert_frame_equal(
            short.sort_values(key)[key + POLICY].reset_index(drop=True),
            other.sort_values(key)[key + POLICY].reset_index(drop=True),
        )
    # the forecast's length changes nothing at all; --horizon only the window of the probability
    pd.testing.assert_frame_equal(short, long)
    assert (wide["horizon_days"] == 45).all()


@pytest.mark.slow
def test_the_same_inputs_and_seed_give_byte_identical_assessments(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=3, days=150)
    outs = []
    for i in range(2):
        out = tmp_path / f"a{i}.csv"
        result = CliRunner().invoke(app, ["assess", str(folder), "--as-of", "2024-04-29", "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


@pytest.mark.slow
def test_the_run_stores_exactly_what_assess_says_and_exports_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./stockwarden.toml: both read the defaults
    folder = make_dataset_folder(tmp_path / "ds", n_skus=3, days=150)
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    import_dataset(engine, folder)
    report = run_pipeline(engine, as_of=AS_OF.date(), config=RulesConfig(), now=NOW)
    assert report.status == "completed"
    run_id, stored = load_assessments(engine, "latest")
    assert run_id == report.run_id

    out = tmp_path / "assess.csv"
    result = CliRunner().invoke(app, ["assess", str(folder), "--as-of", "2024-04-29", "--out", str(out)])
    assert result.exit_code == 0, result.output
    fresh = assess_day(load_dataset(folder), as_of=AS_OF, rules=RulesConfig()).assessment
    pd.testing.assert_frame_equal(stored, typed(fresh), check_exact=False, rtol=1e-12)

    exported = tmp_path / "export.csv"
    result = CliRunner().invoke(app, ["assessments", "export", "--db", url, "--run", "latest", "--out", str(exported)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(exported).equals(pd.read_csv(out))
    engine.dispose()


def test_exporting_before_any_run_says_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    upgrade_database(make_engine(url))
    result = CliRunner().invoke(app, ["assessments", "export", "--db", url, "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "no completed run" in result.output
    result = CliRunner().invoke(app, ["assessments", "export", "--db", url, "--run", "nope", "--out", "x.csv"])
    assert result.exit_code == 2
    assert "neither a run id nor 'latest'" in result.output


@pytest.mark.slow
def test_a_backtest_checkpoint_equals_a_run_on_that_date(tmp_path: Path) -> None:
    from stockwarden.cli.risk import run_backtest_on

    ds = load_dataset(make_dataset_folder(tmp_path / "ds", n_skus=3, days=150))
    cfg = rules()
    checkpoint = run_backtest_on(ds, start=AS_OF, end=AS_OF, every_days=7, rules=cfg)
    day = assess_day(ds, as_of=AS_OF, rules=cfg).assessment
    pd.testing.assert_frame_equal(checkpoint.drop(columns="model_source"), day)
