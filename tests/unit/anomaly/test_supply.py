"""Overdue POs, short deliveries and unreliable suppliers on hand-made PO histories."""

from __future__ import annotations

import pandas as pd
from tests.factories_supply import po_rows, supply_dataset

from stockwarden.anomaly import detect_anomalies

AS_OF = pd.Timestamp("2024-06-30")


def _open_po(po_id: str, *, promised: str, sku: str = "A", order: str = "2024-06-01") -> dict[str, object]:
    return {
        "po_id": po_id,
        "line_no": 1,
        "sku": sku,
        "location_id": "WH1",
        "supplier_id": "S",
        "qty": 50,
        "order_date": order,
        "promised_date": promised,
        "status": "open",
    }


def _kinds(ds, kind: str, **kw) -> pd.DataFrame:
    return detect_anomalies(ds, as_of=AS_OF, kinds=frozenset({kind}), **kw)


def test_overdue_severity_grows_with_days_late_and_future_promises_are_quiet() -> None:
    ds = supply_dataset(
        [
            _open_po("P1", promised="2024-06-28"),
            _open_po("P2", promised="2024-06-25"),
            _open_po("P3", promised="2024-06-15"),
            _open_po("P4", promised="2024-07-05"),
        ]
    )
    found = _kinds(ds, "overdue_po").set_index("po_id")
    assert found.loc["P1", "severity"] == "info"
    assert found.loc["P2", "severity"] == "warning"
    assert found.loc["P3", "severity"] == "critical"
    assert "P4" not in found.index
    assert found.loc["P3", "observed"] == 15
    assert found.loc["P3", "detail"].startswith("PO P3 (A at WH1, 50 units from S) is 15 days late")
    assert found.loc["P2", "affected"] == "A@WH1"


def test_an_sku_already_at_risk_raises_the_overdue_severity() -> None:
    ds = supply_dataset([_open_po("P1", promised="2024-06-28")])
    risk = pd.DataFrame({"sku": ["A"], "location_id": ["WH1"], "level": ["critical"]})
    assert _kinds(ds, "overdue_po", risk=risk)["severity"].iloc[0] == "warning"


def test_a_po_received_after_as_of_is_still_open_then() -> None:
    row = _open_po("P1", promised="2024-06-20")
    row.update(received_date="2024-07-10", received_qty=50, status="received")
    assert len(_kinds(supply_dataset([row]), "overdue_po")) == 1
    row["received_date"] = "2024-06-29"
    assert _kinds(supply_dataset([row]), "overdue_po").empty


def test_without_a_promise_the_nominal_lead_time_sets_the_due_date() -> None:
    row = _open_po("P1", promised=None, order="2024-06-01")
    ds = supply_dataset([row], items=[{"sku": "A", "lead_time_days": 20}])
    found = _kinds(ds, "overdue_po")
    assert found["observed"].iloc[0] == 9  # due 2024-06-21


def test_short_delivery_recent_and_well_below_ordered() -> None:
    pos = po_rows(
        supplier_id="S",
        sku="A",
        start="2024-06-10",
        delays_days=[0, 0, 0],
        promised_lead_days=3,
        received_qty=[100.0, 95.0, 40.0],
    )
    found = _kinds(supply_dataset(pos), "short_delivery")
    assert len(found) == 1
    assert found["severity"].iloc[0] == "warning"
    assert found["observed"].iloc[0] == 0.4


def test_old_short_deliveries_are_not_reported() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2024-01-01", delays_days=[0], received_qty=[10.0])
    assert _kinds(supply_dataset(pos), "short_delivery").empty


def test_a_supplier_whose_on_time_rate_collapsed_is_unreliable() -> None:
    pos = po_rows(supplier_id="S", sku="A", start="2023-06-01", delays_days=[0] * 60 + [3] * 20, every_days=4)
    found = detect_anomalies(supply_dataset(pos), as_of="2024-06-30", kinds=frozenset({"supplier_unreliable"}))
    assert len(found) == 1
    assert found["detail"].iloc[0] == "S: only 0 of the last 20 deliveries on time (0%), against 100% for its own past"


def test_a_supplier_often_late_as_always_is_not_unreliable() -> None:
    delays = [0, 5, 0, 7, 0, 0, 6, 0, 0, 4] * 8
    pos = po_rows(supplier_id="S", sku="A", start="2023-06-01", delays_days=delays, every_days=4)
    pos += po_rows(supplier_id="T", sku="B", start="2023-06-01", delays_days=delays, every_days=4)
    assert detect_anomalies(supply_dataset(pos), as_of="2024-06-30", kinds=frozenset({"supplier_unreliable"})).empty


def test_a_supplier_whose_delays_became_erratic_is_unreliable() -> None:
    delays = [0, 1, 0, -1, 0] * 12 + [-6, 8, -5, 9, 0, -7, 10, -4, 7, -8] * 2
    pos = po_rows(supplier_id="S", sku="A", start="2023-06-01", delays_days=delays, every_days=4)
    found = detect_anomalies(supply_dataset(pos), as_of="2024-06-30", kinds=frozenset({"supplier_unreliable"}))
    spread = found.loc[found["metric"] == "delay_sd_days"]
    assert len(spread) == 1
    assert spread["detail"].iloc[0].startswith("S: delivery dates became erratic")


def test_without_a_risk_frame_low_cover_raises_the_overdue_severity() -> None:
    from tests.factories_supply import daily_rows

    sales, _ = daily_rows(sku="A", start="2024-06-01", qty=[5.0] * 30)
    low = [{"date": "2024-06-30", "sku": "A", "location_id": "WH1", "on_hand": 10.0}]
    high = [{"date": "2024-06-30", "sku": "A", "location_id": "WH1", "on_hand": 500.0}]
    po = [_open_po("P1", promised="2024-06-28")]
    assert _kinds(supply_dataset(po, sales=sales, inventory=low), "overdue_po")["severity"].iloc[0] == "warning"
    assert _kinds(supply_dataset(po, sales=sales, inventory=high), "overdue_po")["severity"].iloc[0] == "info"
