"""Lead-time model after a change point in a supplier's delays (hand-made PO histories)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.factories_supply import po_rows, supply_dataset

from stockwarden.config import LeadTimeRules
from stockwarden.forecast.leadtime import estimate_lead_times, received_po_history
from stockwarden.forecast.leadtime.changepoint import compute_regime_shifts, find_regime_starts

OFF = LeadTimeRules(adapt_to_shifts=False)


def _stable_delays(n: int, seed: int) -> list[int]:
    """An in-control supplier: mostly on time, sometimes a day or two early or late, rarely a week late."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1, 0, 0, 0, 1, 1, 2, 7], size=n).tolist()


def _mean_delay(model, supplier_id: str = "S") -> float:
    t = model.table
    return float(t.loc[(t["level"] == "supplier") & (t["supplier_id"] == supplier_id), "mean_delay_days"].iloc[0])


def test_a_step_in_delay_is_detected_within_a_few_deliveries() -> None:
    before = [0, 1, 0, -1, 1, 0, 0, 1, -1, 0] * 4
    for n_after in (1, 2, 3, 4, 5):
        starts = find_regime_starts(np.array(before + [6] * n_after), threshold=6.0, baseline_deliveries=10)
        if n_after < 4:
            assert starts == [0]
        else:
            assert starts == [0, len(before)], n_after


def test_after_a_step_the_supplier_is_estimated_at_its_new_delay_within_a_few_deliveries() -> None:
    delays = _stable_delays(60, seed=1) + [d + 6 for d in _stable_delays(6, seed=2)]
    pos = po_rows(supplier_id="S", sku="A", start="2023-01-01", delays_days=delays, every_days=3)
    as_of = pd.Timestamp(pos[-1]["received_date"])
    ds = supply_dataset(pos)
    adaptive, recency_only = estimate_lead_times(ds, as_of=as_of), estimate_lead_times(ds, as_of=as_of, rules=OFF)
    new_mean = float(np.mean(delays[-6:]))
    assert _mean_delay(adaptive) == pytest.approx(new_mean, abs=1.0)
    assert _mean_delay(recency_only) < new_mean - 2.5
    # An open PO from this supplier, due today, is now expected about six days from now, not tomorrow.
    open_po = pd.DataFrame(
        {"supplier_id": ["S"], "sku": ["A"], "order_date": [as_of - pd.Timedelta(days=7)], "promised_date": [as_of]}
    )
    arrival = adaptive.arrival_pmfs(open_po, as_of)[0]
    assert float((np.arange(len(arrival)) * arrival).sum()) > 4.0


def test_older_deliveries_are_moved_into_the_new_regime_keeping_their_spread() -> None:
    old = [0, 1, 2] * 20
    pos = po_rows(supplier_id="S", sku="A", start="2023-01-01", delays_days=old + [5, 6, 7] * 3, every_days=3)
    as_of = pd.Timestamp(pos[-1]["received_date"])
    history = received_po_history(supply_dataset(pos), as_of=as_of)
    shifts = compute_regime_shifts(history, rules=LeadTimeRules())
    moved = history["delay_days"] + shifts["shift_days"]
    # (the estimated start of the new regime may be off by a delivery: check well before it)
    assert set(shifts["shift_days"].iloc[:55]) == {5.0}
    assert set(moved.iloc[:55]) == {5.0, 6.0, 7.0}
    assert (shifts["shift_days"].iloc[-6:] == 0).all()
    assert shifts["regime_start"].notna().all()


def test_a_stable_supplier_is_left_untouched() -> None:
    for seed in range(5):
        pos = po_rows(supplier_id="S", sku="A", start="2022-01-01", delays_days=_stable_delays(150, seed), every_days=3)
        ds = supply_dataset(pos)
        as_of = pd.Timestamp(pos[-1]["received_date"])
        history = received_po_history(ds, as_of=as_of)
        assert (compute_regime_shifts(history, rules=LeadTimeRules())["shift_days"] == 0).all(), seed
        pd.testing.assert_frame_equal(
            estimate_lead_times(ds, as_of=as_of).table, estimate_lead_times(ds, as_of=as_of, rules=OFF).table
        )


def test_regimes_found_as_of_an_earlier_date_are_a_prefix_of_later_ones() -> None:
    x = np.array(_stable_delays(50, 3) + [d + 5 for d in _stable_delays(40, 4)] + _stable_delays(40, 5))
    full = find_regime_starts(x, threshold=6.0, baseline_deliveries=10)
    assert len(full) == 3
    for n in range(11, len(x) + 1):
        part = find_regime_starts(x[:n], threshold=6.0, baseline_deliveries=10)
        assert part == full[: len(part)]


def test_a_step_after_as_of_changes_nothing_as_of() -> None:
    base = _stable_delays(60, 6)
    pos = po_rows(supplier_id="S", sku="A", start="2023-01-01", delays_days=base + [0] * 10, every_days=3)
    late = po_rows(supplier_id="S", sku="A", start="2023-01-01", delays_days=base + [9] * 10, every_days=3)
    as_of = pd.Timestamp(pos[59]["received_date"])
    m1 = estimate_lead_times(supply_dataset(pos), as_of=as_of)
    m2 = estimate_lead_times(supply_dataset(late), as_of=as_of)
    pd.testing.assert_frame_equal(m1.table, m2.table)
    np.testing.assert_array_equal(m1.lead_time_pmf("S", "A")[0], m2.lead_time_pmf("S", "A")[0])


def test_lines_delivered_on_one_truck_count_as_one_delivery() -> None:
    # Ten SKUs on each truck: ten lines, one observation. Three late trucks are not yet a change.
    rows = []
    delays = [0, 1, 0, -1, 1, 0, 0, 1, -1, 0] * 3 + [6] * 3
    for k in range(10):
        rows += po_rows(supplier_id="S", sku=f"A{k}", start="2023-01-01", delays_days=delays, prefix=f"P{k}")
    as_of = pd.Timestamp(rows[len(delays) - 1]["received_date"])
    history = received_po_history(supply_dataset(rows), as_of=as_of)
    assert (compute_regime_shifts(history, rules=LeadTimeRules())["shift_days"] == 0).all()


def test_switched_off_it_changes_nothing() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2023-01-01", delays_days=[0] * 30 + [8] * 10)
    history = received_po_history(supply_dataset(pos), as_of="2024-12-31")
    shifts = compute_regime_shifts(history, rules=OFF)
    assert (shifts["shift_days"] == 0).all() and shifts["regime_start"].isna().all()


def test_an_open_po_already_late_is_conditioned_on_not_having_arrived_by_as_of() -> None:
    # Empirical delays: 0 (half), 2 (30%), 5 (20%). A PO one day late has not come on day 0 or 1:
    # it comes on day 2 (1 day from now) with 3/5, on day 5 (4 days from now) with 2/5.
    flat = LeadTimeRules(half_life_days=1e9, prior_strength_pos=0.0, late_tail_mass=0.0, adapt_to_shifts=False)
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0, 2, 0, 5, 0, 2, 0, 5, 0, 2])
    as_of = pd.Timestamp("2024-12-31")
    model = estimate_lead_times(supply_dataset(pos), as_of=as_of, rules=flat)
    open_po = pd.DataFrame(
        {
            "supplier_id": ["S", "S"],
            "sku": ["A", "A"],
            "order_date": [as_of - pd.Timedelta(days=8), as_of - pd.Timedelta(days=10)],
            "promised_date": [as_of - pd.Timedelta(days=1), as_of - pd.Timedelta(days=3)],
        }
    )
    one_late, three_late = model.arrival_pmfs(open_po, as_of)
    assert one_late[1] == pytest.approx(0.6) and one_late[4] == pytest.approx(0.4)
    assert one_late.sum() == pytest.approx(1.0)
    assert three_late[2] == pytest.approx(1.0)  # only the 5-days-late deliveries are left


def test_a_change_at_one_supplier_leaves_the_others_untouched() -> None:
    stable = po_rows(supplier_id="STABLE", sku="B", start="2023-01-01", delays_days=_stable_delays(70, 7), every_days=3)
    moved = po_rows(supplier_id="SLOW", sku="A", start="2023-01-01", delays_days=[0, 1] * 30 + [6] * 10, every_days=3)
    ds = supply_dataset(stable + moved)
    as_of = pd.Timestamp(moved[-1]["received_date"])
    history = received_po_history(ds, as_of=as_of)
    shifts = compute_regime_shifts(history, rules=LeadTimeRules())
    is_slow = history["supplier_id"].eq("SLOW")
    assert (shifts.loc[~is_slow, "shift_days"] == 0).all() and shifts.loc[~is_slow, "regime_start"].isna().all()
    assert (shifts.loc[is_slow, "shift_days"].iloc[:50] == 5).all()
    # Without shrinkage toward the all-supplier prior (which does see SLOW's new delays):
    on = LeadTimeRules(prior_strength_pos=0.0)
    adaptive = estimate_lead_times(ds, as_of=as_of, rules=on)
    recency_only = estimate_lead_times(ds, as_of=as_of, rules=on.model_copy(update={"adapt_to_shifts": False}))
    assert _mean_delay(adaptive, "STABLE") == _mean_delay(recency_only, "STABLE")
    assert _mean_delay(adaptive, "SLOW") > _mean_delay(recency_only, "SLOW") + 1.0


def _trucks_with_a_step() -> pd.DataFrame:
    """Three SKUs on each truck of supplier SLOW (a step of +6 days), one SKU of STABLE, lines in receipt order."""
    rows = []
    delays = [0, 1, 0, -1, 1, 0, 0, 1, -1, 0] * 4 + [6, 7, 6, 5, 6, 7, 6, 6]
    for k in range(3):
        rows += po_rows(supplier_id="SLOW", sku=f"A{k}", start="2023-01-01", delays_days=delays, prefix=f"P{k}")
    rows += po_rows(supplier_id="STABLE", sku="B", start="2023-01-02", delays_days=_stable_delays(48, 8))
    history = received_po_history(supply_dataset(rows), as_of="2024-12-31")
    history.loc[history.index[::11], "supplier_id"] = None  # lines without a supplier take no shift
    return history


def test_every_line_of_a_truck_takes_the_trucks_shift_however_the_lines_are_ordered() -> None:
    history = _trucks_with_a_step()
    whole = compute_regime_shifts(history, rules=LeadTimeRules())
    assert (whole["shift_days"] != 0).any()
    shuffled = history.sample(frac=1.0, random_state=4)  # lines in another order, each keeping its label
    pd.testing.assert_frame_equal(compute_regime_shifts(shuffled, rules=LeadTimeRules()).loc[history.index], whole)
    truck = history.groupby(["supplier_id", "order_date", "received_date"], dropna=False)
    joined = whole.join(history[["supplier_id", "order_date", "received_date"]])
    per_truck = joined.loc[history["supplier_id"].notna()].groupby(["supplier_id", "order_date", "received_date"])[
        "shift_days"
    ]
    assert (per_truck.nunique() == 1).all() and truck.ngroups > 0
    no_supplier = history["supplier_id"].isna()
    assert (whole.loc[no_supplier, "shift_days"] == 0).all() and whole.loc[no_supplier, "regime_start"].isna().all()
    assert (whole.loc[history["supplier_id"].eq("STABLE"), "shift_days"] == 0).all()


def test_a_delivery_is_one_row_per_supplier_order_and_receipt_day_with_the_median_of_its_lines() -> None:
    from stockwarden.forecast.leadtime.changepoint import delivery_batches

    history = _trucks_with_a_step()
    batches = delivery_batches(history)
    assert list(batches.columns) == [
        "supplier_id",
        "order_date",
        "received_date",
        "delay_days",
        "lead_time_days",
        "n_lines",
    ]
    assert batches["supplier_id"].notna().all()
    assert batches["n_lines"].sum() == history["supplier_id"].notna().sum()
    # supplier, then receipt, then order date
    key = batches[["supplier_id", "received_date", "order_date"]]
    assert key.equals(key.sort_values(list(key.columns)).reset_index(drop=True))
    expected = (
        history.dropna(subset=["supplier_id"])
        .groupby(["supplier_id", "order_date", "received_date"])
        .agg(delay_days=("delay_days", "median"), lead_time_days=("lead_time_days", "median"))
    )
    got = batches.set_index(["supplier_id", "order_date", "received_date"])[["delay_days", "lead_time_days"]]
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index())


def test_a_history_of_a_few_columns_has_the_same_derived_values() -> None:
    rows = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0, 2, 1], received_qty=[100, 60, 100])
    ds = supply_dataset(rows)
    full = received_po_history(ds, as_of="2024-12-31")
    narrow = received_po_history(ds, as_of="2024-12-31", columns=["supplier_id", "sku"])
    derived = ["lead_time_days", "delay_days", "fill_ratio", "is_short", "age_days"]
    assert list(narrow.columns) == ["sku", "supplier_id", *derived]  # the PO table's order, then the derived
    pd.testing.assert_frame_equal(narrow[derived], full[derived])
    assert narrow["is_short"].tolist() == [False, True, False]
