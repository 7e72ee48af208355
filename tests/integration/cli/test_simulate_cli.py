"""``stockwarden simulate`` end to end on a small hand-made dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.factories import make_dataset_folder
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.simulate.metrics import SUMMARY_COLUMNS

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset_folder(tmp_path_factory.mktemp("simcli") / "ds", n_skus=3, days=200, seed=5)


def write_demand(path: Path, *, start: str, days: int) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        {"date": d.date().isoformat(), "sku": f"SKU-{k:03d}", "location_id": "WH1", "qty": int(rng.poisson(4 + k))}
        for k in range(3)
        for d in pd.date_range(start, periods=days)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_simulate_writes_every_output_and_runs_the_product_policy(folder: Path, tmp_path: Path) -> None:
    demand = write_demand(tmp_path / "demand.csv", start="2024-06-01", days=15)
    out = tmp_path / "out"
    args = ["simulate", str(folder), "--start", "2024-06-01", "--end", "2024-06-15", "--out", str(out)]
    args += ["--demand", str(demand), "--policy", "stockwarden", "--policy", "textbook", "--policy", "hindsight"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(out / "summary.csv")
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert summary["policy"].tolist() == ["stockwarden", "textbook", "hindsight"]
    assert summary["stockout_days"].ge(0).all() and summary["fill_rate"].between(0, 1).all()
    for name in ("per_sku.csv", "orders.csv", "curves.png", "curves.html", "report.json"):
        assert (out / name).stat().st_size > 0
    assert "echarts" in (out / "curves.html").read_text(encoding="utf-8")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sku_locations"] == 3 and report["days"] == 15
    assert len(pd.read_csv(out / "per_sku.csv")) == 3 * 3


def test_stockwarden_policy_never_sees_the_future(folder: Path) -> None:
    from stockwarden.cli.simulate import assess_for_simulation
    from stockwarden.config import RulesConfig
    from stockwarden.ingest.dataset import load_dataset
    from stockwarden.simulate.engine import simulate
    from stockwarden.simulate.policies import make_policy
    from stockwarden.simulate.world import build_world

    ds = load_dataset(folder)
    rules = RulesConfig()
    rules = rules.model_copy(update={"run": rules.run.model_copy(update={"forecast_mode": "stats"})})
    path = Path(folder).parent / "dem.csv"
    from stockwarden.simulate.demand import read_demand_file

    demand = read_demand_file(write_demand(path, start="2024-06-01", days=10))
    start, end = pd.Timestamp("2024-06-01"), pd.Timestamp("2024-06-10")
    later = demand.assign(qty=np.where(demand["date"] > start, demand["qty"] * 5 + 3, demand["qty"]))
    runs = []
    for d in (demand, later):
        world = build_world(ds, start=start, end=end, demand=d, review_period_days=7)
        runs.append(simulate(world, make_policy("stockwarden", assess=assess_for_simulation, rules=rules)))
    day0 = [[(o.series, o.qty) for o in r.orders if o.day == 0] for r in runs]
    assert day0[0] == day0[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("date,sku,location_id\n2024-06-01,SKU-000,WH1\n", "lacks column(s) qty"),
        ("date,sku,location_id,qty\n2024-06-01,SKU-000,WH1,two\n", "line 2 ('two')"),
        ("date,sku,location_id,qty\n06/01/2024,SKU-000,WH1,2\n", "without a date YYYY-MM-DD in column date"),
        ("date,sku,location_id,qty\n2024-06-01,SKU-000,WH1,-1\n", "a quantity >= 0"),
    ],
)
def test_bad_demand_file_is_a_clear_error(folder: Path, tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    args = ["simulate", str(folder), "--start", "2024-06-01", "--end", "2024-06-05", "--out", str(tmp_path / "o")]
    res = runner.invoke(app, [*args, "--demand", str(bad), "--policy", "textbook"])
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())
    assert "Traceback" not in res.output


def test_unknown_policy_and_reversed_dates_are_refused(folder: Path, tmp_path: Path) -> None:
    args = ["simulate", str(folder), "--out", str(tmp_path / "o")]
    res = runner.invoke(app, [*args, "--start", "2024-06-05", "--end", "2024-06-01"])
    assert res.exit_code == 2 and "before --start" in res.output
    res = runner.invoke(app, [*args, "--start", "2024-06-01", "--end", "2024-06-05", "--policy", "magic"])
    assert res.exit_code == 2 and "unknown --policy magic" in res.output


def test_oracle_forecast_policy_reads_the_future_it_is_given(folder: Path) -> None:
    """The benchmark's ceiling: the product's machinery fed the true future mean; more future demand, more ordered."""
    from stockwarden.cli.simulate import assess_for_simulation
    from stockwarden.config import RulesConfig
    from stockwarden.ingest.dataset import load_dataset
    from stockwarden.simulate.demand import read_demand_file
    from stockwarden.simulate.engine import simulate
    from stockwarden.simulate.oracle import OracleStockwardenPolicy
    from stockwarden.simulate.world import build_world

    ds = load_dataset(folder)
    demand = read_demand_file(write_demand(Path(folder).parent / "dem_oracle.csv", start="2024-06-01", days=10))
    start, end = pd.Timestamp("2024-06-01"), pd.Timestamp("2024-06-10")
    later = demand.assign(qty=np.where(demand["date"] > start, demand["qty"] * 5 + 3, demand["qty"]))
    ordered = []
    for d in (demand, later):
        world = build_world(ds, start=start, end=end, demand=d, review_period_days=7)
        policy = OracleStockwardenPolicy(assess=assess_for_simulation, rules=RulesConfig(), knob=0.9)
        run = simulate(world, policy)
        assert policy.assessments >= 1
        ordered.append(sum(o.qty for o in run.orders if o.day == 0))
    assert ordered[1] > ordered[0]
