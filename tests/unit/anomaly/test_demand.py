"""Demand spikes and drops: robust to intermittent series, tagged when explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.factories_supply import daily_rows, supply_dataset

from stockwarden.anomaly import detect_anomalies

KINDS = frozenset({"demand_spike", "demand_drop"})
START = "2024-01-01"
AS_OF = pd.Timestamp(START) + pd.Timedelta(days=69)


def _poisson(rate: float, days: int = 70, seed: int = 0) -> list[float]:
    return list(np.random.default_rng(seed).poisson(rate, days).astype(float))


def test_a_day_far_above_a_steady_series_is_a_spike() -> None:
    qty = _poisson(5)
    qty[-1] = 60
    sales, _ = daily_rows(sku="A", start=START, qty=qty)
    found = detect_anomalies(supply_dataset([], sales=sales), as_of=AS_OF, kinds=KINDS)
    assert list(found["kind"]) == ["demand_spike"]
    assert found["severity"].iloc[0] == "warning"
    assert found["observed"].iloc[0] >= 60


def test_an_ordinary_steady_series_is_quiet() -> None:
    for seed in range(10):
        sales, _ = daily_rows(sku="A", start=START, qty=_poisson(5, seed=seed))
        assert detect_anomalies(supply_dataset([], sales=sales), as_of=AS_OF, kinds=KINDS).empty


def test_an_intermittent_series_does_not_alarm_on_its_occasional_sales() -> None:
    rng = np.random.default_rng(1)
    for _ in range(10):
        qty = list(np.where(rng.random(70) < 0.08, rng.integers(1, 6, 70), 0).astype(float))
        qty[-1] = 4.0
        sales, _ = daily_rows(sku="A", start=START, qty=qty)
        assert detect_anomalies(supply_dataset([], sales=sales), as_of=AS_OF, kinds=KINDS).empty


def test_a_spike_during_a_promotion_is_tagged_as_explained() -> None:
    qty = _poisson(5)
    qty[-1] = 60
    promo = [0] * 69 + [1]
    sales, _ = daily_rows(sku="A", start=START, qty=qty, promo=promo)
    found = detect_anomalies(supply_dataset([], sales=sales), as_of=AS_OF, kinds=KINDS)
    assert found["severity"].iloc[0] == "info"
    assert found["detail"].iloc[0].endswith("explained by a promotion")


def test_a_spike_on_an_event_day_names_the_event() -> None:
    qty = _poisson(5)
    qty[-1] = 60
    sales, _ = daily_rows(sku="A", start=START, qty=qty)
    events = [{"date": AS_OF, "name": "SuperBowl", "kind": "Sporting"}]
    found = detect_anomalies(supply_dataset([], sales=sales, events=events), as_of=AS_OF, kinds=KINDS)
    assert "explained by SuperBowl" in found["detail"].iloc[0]


def test_a_silent_week_in_stock_is_a_drop_but_not_when_out_of_stock() -> None:
    qty = _poisson(8)[:63] + [0.0] * 7
    sales, _ = daily_rows(sku="A", start=START, qty=qty)
    in_stock = [
        {"date": AS_OF - pd.Timedelta(days=i), "sku": "A", "location_id": "WH1", "on_hand": 50.0} for i in range(7)
    ]
    found = detect_anomalies(supply_dataset([], sales=sales, inventory=in_stock), as_of=AS_OF, kinds=KINDS)
    assert list(found["kind"]) == ["demand_drop"]
    out = [dict(r, on_hand=0.0) for r in in_stock]
    assert detect_anomalies(supply_dataset([], sales=sales, inventory=out), as_of=AS_OF, kinds=KINDS).empty


def test_a_forecast_covering_the_week_is_the_reference() -> None:
    qty = _poisson(5)
    sales, _ = daily_rows(sku="A", start=START, qty=qty)
    dates = pd.date_range(AS_OF - pd.Timedelta(days=6), AS_OF)
    low = pd.DataFrame({"sku": "A", "location_id": "WH1", "date": dates, "mean": 0.5})
    found = detect_anomalies(supply_dataset([], sales=sales), as_of=AS_OF, kinds=KINDS, forecast=low)
    assert list(found["kind"]) == ["demand_spike"]
