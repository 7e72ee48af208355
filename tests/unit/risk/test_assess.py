"""The assessment frame: contract, levels, reasons, no look-ahead, determinism, monotonicity."""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pandas as pd
import pytest
from tests.factories_risk import AS_OF, FakeLeadTimes, fake_forecast, make_risk_dataset, open_po

from stockwarden.config import RiskRules, RiskThresholds, RulesConfig
from stockwarden.domain.risk import ASSESSMENT_COLUMNS
from stockwarden.risk.assess import assess_risk

KEY = [("SKU-1", "WH1")]


def _assess(ds, *, rate: float = 2.0, lead: FakeLeadTimes | None = None, **kw):  # type: ignore[no-untyped-def]
    return assess_risk(ds, as_of=AS_OF, forecast=fake_forecast(KEY, [rate]), lead_times=lead or FakeLeadTimes(), **kw)


def test_the_frame_starts_with_the_contract_columns() -> None:
    a = _assess(make_risk_dataset())
    assert tuple(a.columns[: len(ASSESSMENT_COLUMNS)]) == ASSESSMENT_COLUMNS
    row = a.iloc[0]
    assert row["as_of"] == AS_OF and row["horizon_days"] == 14  # lead time 7 + review 7
    assert 0.0 <= row["stockout_probability"] <= 1.0


def test_an_sku_already_out_of_stock_is_critical() -> None:
    a = _assess(make_risk_dataset(on_hand=0.0)).iloc[0]
    assert a["level"] == "critical"
    assert "already_out_of_stock" in a["reasons"].split(";")
    assert a["stockout_probability"] > 0.9
    assert pd.notna(a["expected_stockout_date"]) and a["expected_stockout_date"] <= AS_OF + pd.Timedelta(days=2)


def test_plenty_of_stock_is_ok_with_no_expected_date() -> None:
    a = _assess(make_risk_dataset(on_hand=500.0)).iloc[0]
    assert a["level"] == "ok" and a["stockout_probability"] == 0.0
    assert pd.isna(a["expected_stockout_date"])
    assert a["suggested_order_qty"] == 0.0


def test_a_late_po_raises_risk() -> None:
    ds = make_risk_dataset(on_hand=10.0, open_po=[open_po(60.0, promised="2024-04-03")])
    on_time = _assess(ds).iloc[0]
    late = _assess(ds, lead=FakeLeadTimes(delay_days=8)).iloc[0]
    assert late["stockout_probability"] > on_time["stockout_probability"] + 0.3


def test_an_overdue_po_is_a_reason_with_its_numbers() -> None:
    ds = make_risk_dataset(on_hand=4.0, open_po=[open_po(60.0, promised="2024-03-27", po_id="PO-LATE")])
    a = _assess(ds, lead=FakeLeadTimes(delay_days=3)).iloc[0]
    assert "open_po_overdue" in a["reasons"].split(";")
    detail = json.loads(a["reason_details"])["open_po_overdue"][0]
    assert detail["po_id"] == "PO-LATE" and detail["days_overdue"] == 4


def test_future_rows_do_not_change_the_assessment() -> None:
    base = _assess(make_risk_dataset(open_po=[open_po()]))
    leaky = _assess(make_risk_dataset(open_po=[open_po()], future_rows=True))
    pd.testing.assert_frame_equal(base, leaky)


def test_the_same_input_gives_the_same_result() -> None:
    ds = make_risk_dataset(on_hand=12.0)
    pd.testing.assert_frame_equal(_assess(ds), _assess(ds))


def test_probability_does_not_rise_with_more_stock() -> None:
    probs = [_assess(make_risk_dataset(on_hand=x)).iloc[0]["stockout_probability"] for x in (0, 10, 20, 30, 60)]
    assert all(b <= a for a, b in itertools.pairwise(probs))
    assert probs[0] > probs[-1]


def test_probability_does_not_fall_with_a_longer_lead_time() -> None:
    probs = [
        _assess(make_risk_dataset(on_hand=25.0, lead_time_days=lt)).iloc[0]["stockout_probability"]
        for lt in (1, 5, 10, 20)
    ]
    assert all(b >= a for a, b in itertools.pairwise(probs))


def test_one_horizon_for_all_overrides_the_lead_time() -> None:
    a = _assess(make_risk_dataset(on_hand=25.0), horizon_days=3).iloc[0]
    assert a["horizon_days"] == 3 and a["stockout_probability"] < 0.05


def test_category_thresholds_override_the_default() -> None:
    strict = RiskRules(
        thresholds_by_category={
            "cat": RiskThresholds(critical_probability=1.0, warning_probability=0.01, watch_probability=0.0)
        }
    )
    a = _assess(make_risk_dataset(on_hand=22.0), rules=RulesConfig(risk=strict)).iloc[0]
    assert a["level"] == "warning"


def test_suggested_order_reaches_the_order_up_to_level_in_whole_packs() -> None:
    a = _assess(make_risk_dataset(on_hand=2.0)).iloc[0]
    assert a["suggested_order_qty"] % 6 == 0 and a["suggested_order_qty"] >= 12
    assert a["inventory_position"] + a["suggested_order_qty"] >= a["order_up_to"]
    assert a["reorder_point"] > 0 and a["safety_stock"] > 0


def test_anomalies_become_reasons_for_the_skus_they_affect() -> None:
    anomalies = pd.DataFrame(
        [
            {
                "kind": "lead_time_drift",
                "severity": "warning",
                "detected_on": AS_OF,
                "supplier_id": "SUP-1",
                "sku": None,
                "location_id": None,
                "po_id": None,
                "started_on": AS_OF,
                "metric": "delay_days",
                "expected": 0.0,
                "observed": 4.0,
                "detail": "SUP-1: median delay rose from 0 to 4 days",
                "affected": "SKU-1@WH1",
            }
        ]
    )
    a = _assess(make_risk_dataset(on_hand=5.0), anomalies=anomalies).iloc[0]
    assert "lead_time_drift" in a["reasons"].split(";")
    assert "median delay" in json.loads(a["reason_details"])["lead_time_drift"][0]["detail"]


def test_many_skus_are_assessed_in_chunks() -> None:
    keys = [("SKU-1", "WH1")] + [(f"X{i}", "WH1") for i in range(9)]
    fc = fake_forecast(keys, list(np.linspace(0, 3, 10)))
    a = assess_risk(
        make_risk_dataset(), as_of=AS_OF, forecast=fc, lead_times=FakeLeadTimes(), rules=RiskRules(chunk_series=3)
    )
    assert len(a) == 10 and a["sku"].is_unique
    assert (a.loc[a["sku"] != "SKU-1", "on_hand"] == 0).all()


@pytest.mark.parametrize("measure", ["cycle", "fill_rate"])
def test_both_service_measures_give_levels(measure: str) -> None:
    a = _assess(make_risk_dataset(on_hand=10.0), rules=RiskRules(service_measure=measure)).iloc[0]
    assert a["order_up_to"] >= a["reorder_point"] >= 0


def test_a_long_out_of_stock_series_without_observed_demand_borrows_its_skus_demand() -> None:
    keys = [("SKU-1", "WH1"), ("SKU-1", "WH2")]

    def run(censored_wh2: int) -> pd.DataFrame:
        fc = fake_forecast(keys, [2.0, 0.0])
        fc = dataclasses.replace(
            fc,
            series=fc.series.assign(
                mean_daily_demand=[2.0, 0.0], censored_days=[0, censored_wh2], history_days=[100, 100]
            ),
        )
        a = assess_risk(make_risk_dataset(), as_of=AS_OF, forecast=fc, lead_times=FakeLeadTimes())
        return a.set_index("location_id")

    borrowed, own = run(censored_wh2=90), run(censored_wh2=0)
    assert own.loc["WH2", "mean_daily_forecast"] == 0.0  # mostly in stock and no sales: no demand
    assert borrowed.loc["WH2", "mean_daily_forecast"] == pytest.approx(2.0, rel=0.2)
    assert borrowed.loc["WH2", "level"] == "critical"
    pd.testing.assert_series_equal(borrowed.loc["WH1"], own.loc["WH1"])  # other rows keep their paths


def test_a_stockout_just_inside_the_order_now_window_raises_a_warning() -> None:
    # demand 2/day, lead time 7, review 7: 22 units run out around day 11, inside [7, 14]
    only_window = RiskRules(thresholds=RiskThresholds(critical_probability=1.0, warning_probability=1.0))
    a = _assess(make_risk_dataset(on_hand=22.0), rules=RulesConfig(risk=only_window)).iloc[0]
    assert a["p_before_lead_time"] < 0.05
    assert a["p_order_window"] >= RiskThresholds().order_now_probability
    assert a["p_order_window"] <= a["stockout_probability"] + 1e-12
    assert a["level"] == "warning"
    never = only_window.model_copy(
        update={"thresholds": only_window.thresholds.model_copy(update={"order_now_probability": 1.0})}
    )
    assert _assess(make_risk_dataset(on_hand=22.0), rules=RulesConfig(risk=never)).iloc[0]["level"] == "watch"


def test_a_stockout_before_the_lead_time_is_outside_the_order_now_window() -> None:
    a = _assess(make_risk_dataset(on_hand=6.0)).iloc[0]
    assert a["p_before_lead_time"] > 0.9 and a["p_order_window"] < 0.1
