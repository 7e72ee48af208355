"""Lead-time model on hand-made PO histories with known delays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.factories_supply import frame, po_rows, supply_dataset

from stockwarden.config import LeadTimeRules
from stockwarden.forecast.leadtime import estimate_lead_times, received_po_history

FLAT = LeadTimeRules(half_life_days=1e9, prior_strength_pos=0.0, late_tail_mass=0.0, adapt_to_shifts=False)
"""Equal weights, no shrinkage, no tail, no change points: the estimate is the plain empirical distribution."""


def _supplier_row(model, supplier_id: str) -> pd.Series:
    t = model.table
    return t.loc[(t["level"] == "supplier") & (t["supplier_id"] == supplier_id)].iloc[0]


def test_known_delays_give_the_empirical_distribution() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0] * 12 + [4] * 8, promised_lead_days=7)
    model = estimate_lead_times(supply_dataset(pos), as_of="2024-12-31", rules=FLAT)
    row = _supplier_row(model, "S")
    assert row["po_count"] == 20
    assert row["mean_delay_days"] == pytest.approx(1.6)
    assert row["on_time_rate"] == pytest.approx(0.6)
    assert row["mean_lead_time_days"] == pytest.approx(8.6)
    assert row["p50_lead_time_days"] == 7
    assert row["p90_lead_time_days"] == 11
    pmf, source = model.lead_time_pmf("S", "A")
    assert source == "supplier_sku_history"
    assert pmf[7] == pytest.approx(0.6) and pmf[11] == pytest.approx(0.4)


def test_only_pos_received_by_as_of_are_used() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0] * 10 + [9] * 10)
    as_of = pd.Timestamp(pos[9]["received_date"])
    history = received_po_history(supply_dataset(pos), as_of=as_of)
    assert len(history) == 10 and (history["delay_days"] == 0).all()


def test_rows_after_as_of_do_not_change_anything() -> None:
    base = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0, 1, 2, 5] * 6)
    as_of = pd.Timestamp("2024-04-01")
    changed = []
    for row in base:
        r = dict(row)
        if pd.Timestamp(r["received_date"]) > as_of:
            r["received_date"] = pd.Timestamp(r["received_date"]) + pd.Timedelta(days=30)
            r["received_qty"] = 1.0
        changed.append(r)
    changed += po_rows(supplier_id="S", sku="A", start="2024-04-02", delays_days=[20] * 5, prefix="LATER")
    m1 = estimate_lead_times(supply_dataset(base), as_of=as_of)
    m2 = estimate_lead_times(supply_dataset(changed), as_of=as_of)
    pd.testing.assert_frame_equal(m1.table, m2.table)
    open1 = supply_dataset(base).as_of(as_of).purchase_orders.query("status == 'open'")
    assert len(open1) > 0
    np.testing.assert_array_equal(m1.arrival_pmfs(open1, as_of), m2.arrival_pmfs(open1, as_of))
    np.testing.assert_array_equal(m1.lead_time_pmf("S", "A")[0], m2.lead_time_pmf("S", "A")[0])


def test_a_supplier_that_became_slower_is_estimated_slower_than_its_history_average() -> None:
    delays = [0] * 40 + [6] * 10
    pos = po_rows(supplier_id="S", sku="A", start="2023-01-01", delays_days=delays)
    as_of = pd.Timestamp(pos[-1]["received_date"])
    row = _supplier_row(estimate_lead_times(supply_dataset(pos), as_of=as_of), "S")
    assert row["mean_delay_days"] > np.mean(delays) + 1.0


def test_fallbacks_are_marked_item_then_supplier_then_default() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[1] * 10)
    ds = supply_dataset(
        pos,
        items=[
            {"sku": "A", "supplier_id": "S"},
            {"sku": "B", "supplier_id": "NEW", "lead_time_days": 21},
            {"sku": "C", "supplier_id": "NEW"},
            {"sku": "D"},
        ],
        suppliers=[{"supplier_id": "S", "lead_time_days": 7}, {"supplier_id": "NEW", "lead_time_days": 30}],
    )
    model = estimate_lead_times(ds, as_of="2024-12-31", rules=LeadTimeRules(default_lead_time_days=10))
    assert model.lead_time_pmf("S", "A")[1] == "supplier_sku_history"
    assert model.lead_time_pmf("S", "Z")[1] == "supplier_history"
    pmf_b, src_b = model.lead_time_pmf("NEW", "B")
    pmf_c, src_c = model.lead_time_pmf("NEW", "C")
    pmf_d, src_d = model.lead_time_pmf(None, "D")
    assert (src_b, src_c, src_d) == ("item_nominal", "supplier_nominal", "default")
    # Nominal lead times spread by the delays seen elsewhere (here always +1 day).
    assert int(np.argmax(pmf_b)) == 22 and int(np.argmax(pmf_c)) == 31 and int(np.argmax(pmf_d)) == 11
    new = model.table.loc[model.table["supplier_id"] == "NEW"].iloc[0]
    assert new["source"] == "supplier_nominal" and new["po_count"] == 0


def test_thin_supplier_sku_history_falls_back_to_the_supplier_level() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0] * 20)
    pos += po_rows(supplier_id="S", sku="B", start="2024-01-01", delays_days=[5] * 3)
    model = estimate_lead_times(supply_dataset(pos), as_of="2024-12-31")
    assert model.lead_time_pmf("S", "B")[1] == "supplier_history"
    assert set(model.table.loc[model.table["level"] == "supplier_sku", "sku"]) == {"A"}


def test_open_po_not_yet_due_arrives_around_its_promise() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0] * 18 + [2] * 2)
    model = estimate_lead_times(supply_dataset(pos), as_of="2024-12-31")
    open_po = frame(
        "purchase_orders",
        [
            {
                "po_id": "X",
                "sku": "A",
                "supplier_id": "S",
                "qty": 5,
                "order_date": "2024-12-28",
                "promised_date": "2025-01-04",
            }
        ],
    )
    pmf = model.arrival_pmfs(open_po, "2024-12-31")[0]
    assert pmf.shape == (model.max_days + 1,)
    assert pmf[0] == 0.0
    assert int(np.argmax(pmf)) == 4  # promised 4 days after as_of
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)


def test_a_po_later_than_any_past_delivery_keeps_a_tail() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0, 1, 2] * 7)
    rules = LeadTimeRules(late_tail_mean_days=5.0)
    model = estimate_lead_times(supply_dataset(pos), as_of="2024-12-31", rules=rules)
    rows = [
        {
            "po_id": f"X{late}",
            "sku": "A",
            "supplier_id": "S",
            "qty": 5,
            "order_date": pd.Timestamp("2024-12-31") - pd.Timedelta(days=7 + late),
            "promised_date": pd.Timestamp("2024-12-31") - pd.Timedelta(days=late),
        }
        for late in (10, 40)
    ]
    pmfs = model.arrival_pmfs(frame("purchase_orders", rows), "2024-12-31")
    for pmf in pmfs:
        assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
        assert (pmf * np.arange(len(pmf))).sum() == pytest.approx(5.0, abs=0.05)  # memoryless mean wait
        assert pmf[1] > pmf[10] > 0


def test_vectorised_arrivals_match_one_at_a_time() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0, 3, -1, 5] * 5)
    ds = supply_dataset(pos)
    model = estimate_lead_times(ds, as_of="2024-12-31")
    rows = [
        {
            "po_id": f"X{i}",
            "sku": "A",
            "supplier_id": "S",
            "qty": 5,
            "order_date": pd.Timestamp("2024-12-20") + pd.Timedelta(days=i),
            "promised_date": (pd.Timestamp("2024-12-27") + pd.Timedelta(days=i)) if i % 3 else None,
        }
        for i in range(9)
    ]
    opened = frame("purchase_orders", rows)
    many = model.arrival_pmfs(opened, "2024-12-31")
    for i in range(len(opened)):
        np.testing.assert_allclose(many[i], model.arrival_pmf(opened.iloc[i], "2024-12-31"))


def test_short_delivery_probability_and_size() -> None:
    received = [50.0 if i in (3, 7) else 100.0 for i in range(10)]
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0] * 10, received_qty=received)
    model = estimate_lead_times(supply_dataset(pos), as_of="2024-12-31", rules=FLAT)
    info = model.short_delivery("S", "A")
    assert info.probability == pytest.approx(0.2)
    assert info.fill_ratio_when_short == pytest.approx(0.5)
    assert info.expected_fill_ratio == pytest.approx(0.9)
    frame_ = model.short_delivery_frame(pd.DataFrame({"supplier_id": ["S"], "sku": ["A"]}))
    assert frame_["p_short"].iloc[0] == pytest.approx(0.2)


def test_empty_history_gives_default_distributions() -> None:
    model = estimate_lead_times(supply_dataset([]), as_of="2024-12-31", rules=LeadTimeRules(default_lead_time_days=9))
    pmf, source = model.lead_time_pmf("ANY", "A")
    assert source == "default" and int(np.argmax(pmf)) == 9
    assert model.table.empty
