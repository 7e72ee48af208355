"""Backtest over checkpoints and the realised labels the learned model trains on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from tests.factories_risk import FakeLeadTimes, fake_forecast, make_risk_dataset

from stockwarden.config import RiskRules, RulesConfig
from stockwarden.risk.backtest import checkpoints, realised_stockouts, roll_forecast, run_backtest

KEY = [("SKU-1", "WH1")]
NO_LEARNING = RulesConfig(risk=RiskRules(learned_model="never"))


def test_checkpoints_run_from_start_to_end_inclusive() -> None:
    got = checkpoints("2024-03-01", "2024-03-15", 7)
    assert [d.day for d in got] == [1, 8, 15]


def _run(ds, **kw):  # type: ignore[no-untyped-def]
    calls: list[pd.Timestamp] = []

    def forecast_fn(d, *, as_of, horizon_days):  # type: ignore[no-untyped-def]
        calls.append(as_of)
        return fake_forecast(KEY, [2.0], as_of=as_of, days=horizon_days)

    def lead_fn(d, *, as_of):  # type: ignore[no-untyped-def]
        return FakeLeadTimes()

    out = run_backtest(
        ds,
        start="2024-03-17",
        end="2024-03-31",
        every_days=7,
        forecast_fn=forecast_fn,
        lead_time_fn=lead_fn,
        rules=NO_LEARNING,
        **kw,
    )
    return out, calls


def test_a_row_per_checkpoint_and_sku_location() -> None:
    out, calls = _run(make_risk_dataset())
    assert list(out["as_of"].dt.day) == [17, 24, 31]
    assert calls == list(pd.to_datetime(["2024-03-17", "2024-03-24", "2024-03-31"]))


def test_the_forecast_can_be_refit_at_a_slower_cadence() -> None:
    out, calls = _run(make_risk_dataset(), refit_every=2)
    assert len(calls) == 2 and len(out) == 3
    assert (out["model_source"] == "projection").all()


def test_rolling_a_forecast_drops_the_days_already_past() -> None:
    fc = fake_forecast(KEY, [2.0], as_of=pd.Timestamp("2024-03-01"), days=20)

    @dataclass(frozen=True)
    class F:  # the fields of DemandForecast that rolling touches
        series: pd.DataFrame
        dates: pd.DatetimeIndex
        mean: np.ndarray
        daily: pd.DataFrame
        as_of: pd.Timestamp

    f = F(fc.series, fc.dates, np.arange(20.0)[None, :], pd.DataFrame(), pd.Timestamp("2024-03-01"))
    rolled = roll_forecast(f, pd.Timestamp("2024-03-08"))
    assert rolled.dates[0] == pd.Timestamp("2024-03-09")
    assert rolled.mean[0, 0] == 7.0 and rolled.mean.shape == (1, 13)


def test_labels_exist_only_once_the_interval_has_passed() -> None:
    ds = make_risk_dataset(on_hand=10.0, count_date="2024-03-10")
    hist = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2024-03-10", "2024-03-24"]),
            "sku": "SKU-1",
            "location_id": "WH1",
            "on_hand": [10.0, 0.0],
            "horizon_days": [14, 14],
        }
    )
    lab = realised_stockouts(ds, hist, as_of=pd.Timestamp("2024-03-31"))
    # only the checkpoint of 10 March has a known outcome on 31 March: 10 units at 2/day run out on day 6
    assert lab["as_of"].tolist() == [pd.Timestamp("2024-03-10")]
    assert lab["label"].tolist() == [1]


def test_no_stockout_label_when_stock_covers_the_interval() -> None:
    ds = make_risk_dataset(on_hand=100.0, count_date="2024-03-10")
    hist = pd.DataFrame(
        {
            "as_of": [pd.Timestamp("2024-03-10")],
            "sku": "SKU-1",
            "location_id": "WH1",
            "on_hand": [100.0],
            "horizon_days": [14],
        }
    )
    assert realised_stockouts(ds, hist, as_of=pd.Timestamp("2024-03-31"))["label"].tolist() == [0]


def test_future_rows_do_not_change_the_backtest() -> None:
    def forecast_fn(d, *, as_of, horizon_days):  # type: ignore[no-untyped-def]
        known = d.as_of(as_of).sales
        rate = float(known["qty"].tail(7).mean())
        return fake_forecast(KEY, [rate], as_of=as_of, days=horizon_days)

    def lead_fn(d, *, as_of):  # type: ignore[no-untyped-def]
        return FakeLeadTimes()

    runs = [
        run_backtest(
            make_risk_dataset(future_rows=f),
            start="2024-03-24",
            end="2024-03-31",
            every_days=7,
            forecast_fn=forecast_fn,
            lead_time_fn=lead_fn,
            rules=NO_LEARNING,
        )
        for f in (False, True)
    ]
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_warm_up_checkpoints_are_skipped_when_the_learned_model_is_off() -> None:
    out, calls = _run(make_risk_dataset(), warmup_days=28)
    assert calls[0] == pd.Timestamp("2024-03-17") and len(out) == 3


def test_warm_up_checkpoints_start_after_the_first_sale_and_stay_out_of_the_result() -> None:
    out, calls = _run(make_risk_dataset(), warmup_days=28, learned=True)
    # candidates 02-18, 02-25, 03-03, 03-10; the data's first sale is on 03-01
    assert calls[:2] == list(pd.to_datetime(["2024-03-03", "2024-03-10"]))
    assert list(out["as_of"].dt.day) == [17, 24, 31]


def test_a_known_label_does_not_change_at_later_checkpoints() -> None:
    # the backtest labels each checkpoint once (cache); that is exact only if later data cannot change it
    ds = make_risk_dataset(on_hand=10.0, count_date="2024-03-10", future_rows=True)
    hist = pd.DataFrame(
        {
            "as_of": [pd.Timestamp("2024-03-10")],
            "sku": "SKU-1",
            "location_id": "WH1",
            "on_hand": [10.0],
            "horizon_days": [14],
        }
    )
    labels = [
        realised_stockouts(ds, hist, as_of=pd.Timestamp(d))["label"].tolist() for d in ("2024-03-24", "2024-04-20")
    ]
    assert labels == [[1], [1]]
