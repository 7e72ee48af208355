"""Propagation: anomaly records become reason codes on the SKU-locations they affect."""

from __future__ import annotations

import pandas as pd

from stockwarden.anomaly import anomaly_frame, anomaly_reasons


def _rec(kind: str, severity: str = "warning", **kw: object) -> dict[str, object]:
    return {"kind": kind, "severity": severity, "detected_on": "2024-06-30", "detail": f"{kind} detail", **kw}


def test_supply_anomalies_reach_every_affected_sku_location() -> None:
    frame = anomaly_frame(
        [
            _rec("lead_time_drift", supplier_id="S", affected="A@WH1;B@WH1;B@WH2"),
            _rec("overdue_po", sku="C", location_id="WH1", po_id="P1", affected="C@WH1"),
            _rec("supplier_unreliable", supplier_id="S", affected="A@WH1"),
            _rec("short_delivery", sku="A", location_id="WH1", affected="A@WH1"),
            _rec("phantom_stock", sku="D", location_id="WH2", affected="D@WH2"),
            _rec("demand_spike", sku="E", location_id="WH1", affected="E@WH1"),
            _rec("count_mismatch", sku="F", location_id="WH1", affected="F@WH1"),
        ]
    )
    reasons = anomaly_reasons(frame)
    got = set(zip(reasons["sku"], reasons["location_id"], reasons["reason_code"], strict=True))
    assert got == {
        ("A", "WH1", "lead_time_drift"),
        ("B", "WH1", "lead_time_drift"),
        ("B", "WH2", "lead_time_drift"),
        ("C", "WH1", "open_po_overdue"),
        ("A", "WH1", "supplier_late"),
        ("A", "WH1", "short_delivery_risk"),
        ("D", "WH2", "phantom_stock"),
        ("E", "WH1", "demand_surge"),
    }
    assert list(reasons.columns[:4]) == ["sku", "location_id", "reason_code", "detail"]


def test_a_supplier_getting_faster_is_not_a_risk_reason_and_duplicates_keep_the_worst() -> None:
    frame = anomaly_frame(
        [
            _rec("lead_time_drift", severity="info", supplier_id="S", affected="A@WH1"),
            _rec("overdue_po", severity="info", sku="A", location_id="WH1", po_id="P1", affected="A@WH1"),
            _rec("overdue_po", severity="critical", sku="A", location_id="WH1", po_id="P2", affected="A@WH1"),
        ]
    )
    reasons = anomaly_reasons(frame)
    assert len(reasons) == 1
    assert reasons.iloc[0]["reason_code"] == "open_po_overdue" and reasons.iloc[0]["severity"] == "critical"


def test_no_anomalies_give_an_empty_frame_with_columns() -> None:
    reasons = anomaly_reasons(anomaly_frame([]))
    assert reasons.empty and "reason_code" in reasons.columns
    assert pd.api.types.is_datetime64_any_dtype(anomaly_frame([])["detected_on"])
