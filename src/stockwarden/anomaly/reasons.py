"""From anomaly records to the risk engine's reason codes, per SKU-location."""

from __future__ import annotations

import pandas as pd

from stockwarden.anomaly.records import split_keys
from stockwarden.domain.supply import AnomalyKind

REASON_BY_KIND: dict[str, str] = {
    AnomalyKind.OVERDUE_PO.value: "open_po_overdue",
    AnomalyKind.SUPPLIER_UNRELIABLE.value: "supplier_late",
    AnomalyKind.LEAD_TIME_DRIFT.value: "lead_time_drift",
    AnomalyKind.SHORT_DELIVERY.value: "short_delivery_risk",
    AnomalyKind.PHANTOM_STOCK.value: "phantom_stock",
    AnomalyKind.DEMAND_SPIKE.value: "demand_surge",
    AnomalyKind.STALE_COUNT.value: "stale_count",
}
"""Anomaly kind -> risk reason code (kinds not listed do not become reasons)."""

REASON_COLUMNS = ("sku", "location_id", "reason_code", "detail", "kind", "severity")


def anomaly_reasons(anomalies: pd.DataFrame) -> pd.DataFrame:
    """One row per (SKU-location, reason) put at risk by an anomaly (the propagation of issue 5).

    A supply anomaly reaches every SKU-location in its ``affected`` list (the SKU on the late PO, every
    SKU bought from a drifting supplier); a downward drift (a supplier got faster, severity ``info``) is
    not a reason. Several anomalies giving the same reason to one SKU-location keep the most severe one.

    Returns:
        ``sku, location_id, reason_code, detail, kind, severity``.
    """
    rows: list[dict[str, object]] = []
    if anomalies is None or anomalies.empty:
        return pd.DataFrame(columns=list(REASON_COLUMNS))
    for a in anomalies.itertuples(index=False):
        code = REASON_BY_KIND.get(a.kind)
        if code is None or (a.kind == AnomalyKind.LEAD_TIME_DRIFT.value and a.severity == "info"):
            continue
        keys = split_keys(getattr(a, "affected", None))
        if not keys and isinstance(a.sku, str) and isinstance(a.location_id, str):
            keys = [(a.sku, a.location_id)]
        rows += [
            {
                "sku": s,
                "location_id": loc,
                "reason_code": code,
                "detail": a.detail,
                "kind": a.kind,
                "severity": a.severity,
            }
            for s, loc in keys
        ]
    if not rows:
        return pd.DataFrame(columns=list(REASON_COLUMNS))
    out = pd.DataFrame(rows)
    rank = out["severity"].map({"critical": 0, "warning": 1, "info": 2})
    out = out.assign(_r=rank).sort_values(["sku", "location_id", "reason_code", "_r"], kind="stable")
    return out.drop_duplicates(["sku", "location_id", "reason_code"]).drop(columns="_r").reset_index(drop=True)
