"""Lead-time drift: the sequential detector on hand-made delivery streams."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.factories_supply import po_rows, supply_dataset

from stockwarden.anomaly import detect_anomalies, detect_shifts
from stockwarden.anomaly.supply import detect_lead_time_drift
from stockwarden.config import AnomalyRules
from stockwarden.forecast.leadtime import received_po_history


def _noisy_late(n: int, seed: int) -> np.ndarray:
    """Often late (35% of deliveries 4-12 days late), otherwise on time or a day early: noisy, stationary."""
    rng = np.random.default_rng(seed)
    late = rng.random(n) < 0.35
    return np.where(late, rng.integers(4, 13, n), rng.choice([-1, 0, 0, 0], n)).astype(float)


def test_a_noisy_but_stationary_supplier_never_fires() -> None:
    for seed in range(5):
        assert detect_shifts(_noisy_late(2000, seed)) == []


def test_a_four_day_shift_is_found_quickly_with_its_start() -> None:
    x = _noisy_late(600, 1)
    x[400:] += 4
    found = detect_shifts(x)
    assert len(found) == 1
    d = found[0]
    assert d.tested_shift_days > 0
    assert 400 <= d.alarm_index <= 412
    assert 390 <= d.start_index <= 405


def test_a_supplier_that_gets_faster_is_a_downward_shift() -> None:
    x = np.zeros(300)
    x[:150] = 6 + np.tile([0, 1, -1], 50)
    found = detect_shifts(x)
    assert found and found[0].tested_shift_days < 0


def test_a_single_outlier_does_not_fire() -> None:
    x = np.tile([0.0, 0.0, 1.0, -1.0, 0.0], 100)
    x[250] = 40
    assert detect_shifts(x) == []


def test_too_short_a_history_is_not_monitored() -> None:
    assert detect_shifts(np.array([0, 0, 9, 9, 9, 9, 9], dtype=float)) == []


def _two_suppliers() -> list[dict[str, object]]:
    rng = np.random.default_rng(3)
    steady = list(_noisy_late(120, 7).astype(int))
    drifting = [int(v) for v in rng.choice([0, 0, 0, 1, -1], 80)] + [4, 4, 5] * 14
    pos = po_rows(supplier_id="SUP-NOISY", sku="A", start="2023-01-01", delays_days=steady, every_days=3)
    pos += po_rows(supplier_id="SUP-DRY", sku="B", start="2023-01-01", delays_days=drifting, every_days=3)
    return pos


def test_only_the_drifting_supplier_is_reported_with_a_buyer_sentence_and_its_skus() -> None:
    ds = supply_dataset(_two_suppliers())
    found = detect_anomalies(ds, as_of="2023-11-01", kinds=frozenset({"lead_time_drift"}))
    assert list(found["supplier_id"]) == ["SUP-DRY"]
    row = found.iloc[0]
    assert row["severity"] == "warning"
    assert row["detail"].startswith("SUP-DRY: median delay rose from 0 to 4 days over the last")
    assert row["expected"] == 0 and row["observed"] == 4
    assert row["affected"] == "B@WH1"
    assert pd.Timestamp("2023-08-10") <= row["started_on"] <= pd.Timestamp("2023-09-10")


def test_drift_is_not_seen_before_it_happens_and_later_rows_change_nothing() -> None:
    pos = _two_suppliers()
    ds = supply_dataset(pos)
    early = detect_anomalies(ds, as_of="2023-08-01", kinds=frozenset({"lead_time_drift"}))
    assert early.empty
    mid = pd.Timestamp("2023-12-01")
    changed = [
        dict(r, received_date=pd.Timestamp(r["received_date"]) + pd.Timedelta(days=30))
        if pd.Timestamp(r["received_date"]) > mid
        else r
        for r in pos
    ]
    a = detect_anomalies(ds, as_of=mid, kinds=frozenset({"lead_time_drift"}))
    b = detect_anomalies(supply_dataset(changed), as_of=mid, kinds=frozenset({"lead_time_drift"}))
    pd.testing.assert_frame_equal(a, b)


def test_an_old_shift_is_no_longer_reported() -> None:
    ds = supply_dataset(_two_suppliers())
    history = received_po_history(ds, as_of="2025-06-01")
    assert detect_lead_time_drift(history, as_of=pd.Timestamp("2025-06-01"), rules=AnomalyRules(), affected={}) == []


def _reference_shifts(values: np.ndarray, rules: AnomalyRules) -> list[tuple[int, int, float]]:
    """The textbook loop ``S <- max(0, S + llr)`` per delivery, to check the vectorised detector."""
    from collections import deque

    from stockwarden.anomaly.drift import _SHIFT_STEPS, _density

    x = np.rint(values).astype(np.int64)
    span = int(x.max() - x.min())
    pad = int(max(span, 10) * 5 + 20)
    lo, width = int(x.min()) - pad, span + 2 * pad + 1
    out, baseline, pending = [], deque(maxlen=rules.drift_baseline_max_n), []
    S = starts = shifts = logf0 = None
    dirty, fresh_n = True, 0
    for i, xi in enumerate(x):
        if len(baseline) < rules.drift_baseline_min_n:
            baseline.append(int(xi))
            dirty = True
            continue
        if dirty:
            f0, sd = _density(np.array(baseline), lo, width)
            logf0 = np.log(np.maximum(f0, 1e-300))
            base = max(rules.drift_min_shift_days, rules.drift_min_shift_sd * sd)
            pos = np.unique(np.maximum(1, np.rint(base * np.array(_SHIFT_STEPS)).astype(np.int64)))
            shifts = np.concatenate([pos, -pos])
            S, starts, dirty, fresh_n = np.zeros(len(shifts)), np.full(len(shifts), i), False, 0
        llr = np.clip(
            logf0[np.clip(xi - shifts - lo, 0, width - 1)] - logf0[xi - lo], -rules.drift_llr_clip, rules.drift_llr_clip
        )
        fresh = S <= 0
        S = np.maximum(0.0, S + llr)
        starts = np.where(fresh & (S > 0), i, starts)
        pending.append(int(xi))
        if S.max() > rules.drift_threshold:
            top = int(np.argmax(S))
            out.append((int(starts[top]), i, float(shifts[top])))
            baseline.clear()
            baseline.extend(int(v) for v in x[int(starts[top]) : i + 1])
            pending, dirty = [], True
        elif not S.any():
            baseline.extend(pending)
            fresh_n += len(pending)
            pending = []
            dirty = fresh_n * 20 >= len(baseline)
    return out


def test_the_vectorised_detector_matches_the_per_delivery_recursion() -> None:
    rules = AnomalyRules()
    rng = np.random.default_rng(11)
    for seed in range(6):
        x = _noisy_late(700, seed)
        x[rng.integers(200, 500) :] += rng.integers(0, 6)
        got = [(d.start_index, d.alarm_index, d.tested_shift_days) for d in detect_shifts(x, rules=rules)]
        assert got == _reference_shifts(x, rules)


def test_lines_ordered_together_do_not_look_like_a_drift() -> None:
    # 30 lines per order day; within a batch the late lines are received last, so line by line the
    # stream rises inside every batch. Taken per batch, nothing changes.
    rng = np.random.default_rng(5)
    pos = []
    for b in range(40):
        order = pd.Timestamp("2023-01-02") + pd.Timedelta(days=7 * b)
        for k in range(30):
            delay = int(rng.integers(-1, 4))
            pos.append(
                {
                    "po_id": f"B{b}-{k}",
                    "sku": f"S{k}",
                    "location_id": "WH1",
                    "supplier_id": "S",
                    "qty": 10,
                    "order_date": order,
                    "promised_date": order + pd.Timedelta(days=5),
                    "received_date": order + pd.Timedelta(days=5 + delay),
                    "received_qty": 10,
                    "status": "received",
                }
            )
    found = detect_anomalies(
        supply_dataset(pos), as_of="2023-10-31", kinds=frozenset({"lead_time_drift", "supplier_unreliable"})
    )
    assert found.empty
