"""detect_anomalies: columns, ordering, determinism and no look-ahead on a whole small company."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.factories_supply import daily_rows, po_rows, supply_dataset

from stockwarden.anomaly import RECORD_COLUMNS, detect_anomalies
from stockwarden.domain.supply import ANOMALY_COLUMNS

AS_OF = pd.Timestamp("2024-04-29")


def _company(*, future_noise: bool = False):
    rng = np.random.default_rng(0)
    qty = list(rng.poisson(4, 150).astype(float))
    qty[100:125] = [0.0] * 25  # goes silent with stock on record (phantom)
    counts = list(500 - np.cumsum(qty))
    sales, inv = daily_rows(sku="A", start="2024-01-01", qty=qty, counts=counts)
    pos = po_rows(supplier_id="S", sku="A", start="2023-06-01", delays_days=[0, 1, 0, -1] * 15 + [5] * 12, every_days=4)
    pos.append(
        {
            "po_id": "OPEN",
            "sku": "A",
            "location_id": "WH1",
            "supplier_id": "S",
            "qty": 30,
            "order_date": "2024-04-01",
            "promised_date": "2024-04-15",
            "status": "open",
        }
    )
    if future_noise:
        later = pd.Timestamp("2024-04-29")
        sales = [dict(r, qty=r["qty"] * 7) if r["date"] > later else r for r in sales]
        inv = [dict(r, on_hand=0.0) if r["date"] > later else r for r in inv]
        pos = [
            dict(r, received_date=pd.Timestamp(r["received_date"]) + pd.Timedelta(days=9))
            if r.get("received_date") is not None and pd.Timestamp(r["received_date"]) > later
            else r
            for r in pos
        ]
        pos.append(
            {
                "po_id": "FUTURE",
                "sku": "A",
                "location_id": "WH1",
                "supplier_id": "S",
                "qty": 30,
                "order_date": "2024-05-01",
                "promised_date": "2024-05-03",
                "status": "open",
            }
        )
    return supply_dataset(pos, sales=sales, inventory=inv, items=[{"sku": "A", "supplier_id": "S"}])


def test_the_frame_has_the_issue_columns_most_severe_first() -> None:
    found = detect_anomalies(_company(), as_of=AS_OF)
    assert tuple(found.columns) == RECORD_COLUMNS
    assert tuple(found.columns[: len(ANOMALY_COLUMNS)]) == ANOMALY_COLUMNS
    assert {"phantom_stock", "overdue_po"} <= set(found["kind"])
    rank = found["severity"].map({"critical": 0, "warning": 1, "info": 2})
    assert rank.is_monotonic_increasing
    assert (found["detected_on"] <= AS_OF).all()


def test_rows_after_as_of_change_nothing_and_results_repeat() -> None:
    a = detect_anomalies(_company(), as_of=AS_OF)
    b = detect_anomalies(_company(future_noise=True), as_of=AS_OF)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, detect_anomalies(_company(), as_of=AS_OF))


def test_empty_and_degenerate_datasets_give_empty_frames_without_warnings() -> None:
    sales, _ = daily_rows(sku="A", start="2024-01-01", qty=[1.0] * 10)
    single, counts = daily_rows(sku="B", start="2024-03-05", qty=[2.0, 0.0, 1.0], counts=[5.0, 5.0, 4.0])
    for ds in (
        supply_dataset([]),
        supply_dataset([], sales=sales),
        supply_dataset([], sales=single, inventory=counts),
        supply_dataset(po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0, 1])),
    ):
        found = detect_anomalies(ds, as_of="2024-03-10")
        assert tuple(found.columns) == RECORD_COLUMNS
        assert found.empty
