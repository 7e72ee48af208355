"""``detect_anomalies``: every detector on the as-of view of a dataset, one frame of records."""

from __future__ import annotations

import pandas as pd

from stockwarden.anomaly.demand import detect_demand_shocks
from stockwarden.anomaly.flows import cover_days, daily_receipts, daily_sales, net_flows, position_now
from stockwarden.anomaly.records import anomaly_frame
from stockwarden.anomaly.stock import (
    detect_count_mismatches,
    detect_negative_stock,
    detect_phantom_stock,
    detect_stale_counts,
)
from stockwarden.anomaly.supply import (
    SupplierKeys,
    detect_lead_time_drift,
    detect_overdue_pos,
    detect_short_deliveries,
    detect_unreliable_suppliers,
)
from stockwarden.config import AnomalyRules, RulesConfig
from stockwarden.domain.supply import AnomalyKind
from stockwarden.forecast.leadtime import received_po_history
from stockwarden.ingest.dataset import Dataset

_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


_HISTORY_COLUMNS = ("supplier_id", "sku", "location_id", "po_id", "order_date", "received_date", "qty", "received_qty")
"""The PO columns the supply detectors read (besides the derived ones)."""


def detect_anomalies(
    ds: Dataset,
    *,
    as_of: pd.Timestamp | str,
    forecast: object | None = None,
    risk: pd.DataFrame | None = None,
    rules: RulesConfig | AnomalyRules | None = None,
    kinds: frozenset[str] | None = None,
    series_keys: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Run the anomaly detectors on what was known at the end of ``as_of``.

    Args:
        ds: the dataset (later sales, counts and receipts are ignored: ``ds.as_of(as_of)``).
        as_of: the date of the run.
        forecast: optional demand forecast (``.daily`` with ``sku, location_id, date, mean``) used as the
            reference of demand shocks where it covers the last week.
        risk: optional risk assessment (``sku, location_id, level``) that raises the severity of
            overdue POs of SKUs already at risk; without it, SKUs with under ``overdue_cover_days`` of
            cover (stock on hand / recent daily sales) count as at risk.
        rules: the rules config or its ``anomalies`` section.
        kinds: run only these kinds (default: all).
        series_keys: every (sku, location_id) of the company, when ``ds`` does not hold its sales and
            stock counts (the supplier-level anomalies of a partitioned run); default from ``ds``.

    Returns:
        One row per anomaly, columns ``kind, severity, detected_on, supplier_id, sku, location_id, po_id,
        started_on, metric, expected, observed, detail, affected``, most severe first.

    Example:
        >>> found = detect_anomalies(ds, as_of="2016-01-31")  # doctest: +SKIP
        >>> found.loc[found["kind"] == "lead_time_drift", "detail"]  # doctest: +SKIP
    """
    r = rules.anomalies if isinstance(rules, RulesConfig) else (rules or AnomalyRules())
    d = pd.Timestamp(as_of).normalize().as_unit("ns")
    ds = ds.as_of(d)
    want = set(kinds) if kinds is not None else {k.value for k in AnomalyKind}
    records: list[dict[str, object]] = []
    history = received_po_history(ds, as_of=d, columns=_HISTORY_COLUMNS)
    affected = SupplierKeys(ds, series_keys)
    stock_kinds = {
        AnomalyKind.PHANTOM_STOCK,
        AnomalyKind.NEGATIVE_STOCK,
        AnomalyKind.STALE_COUNT,
        AnomalyKind.COUNT_MISMATCH,
    }
    demand_kinds = {AnomalyKind.DEMAND_SPIKE, AnomalyKind.DEMAND_DROP}
    need_stock = bool(want & stock_kinds) or (AnomalyKind.OVERDUE_PO in want and risk is None)
    sales = daily_sales(ds) if need_stock or want & demand_kinds else None
    position = None
    if sales is not None and need_stock:
        flows = net_flows(sales, daily_receipts(ds, as_of=d))
        position = position_now(ds, as_of=d, flows=flows)
    if AnomalyKind.OVERDUE_PO in want:
        cover = (
            cover_days(sales, position, as_of=d)
            if risk is None and sales is not None and position is not None
            else None
        )
        records += detect_overdue_pos(ds, as_of=d, rules=r, risk=risk, cover=cover)
    if AnomalyKind.SHORT_DELIVERY in want:
        records += detect_short_deliveries(history, as_of=d, rules=r)
    if AnomalyKind.LEAD_TIME_DRIFT in want:
        records += detect_lead_time_drift(history, as_of=d, rules=r, affected=affected)
    if AnomalyKind.SUPPLIER_UNRELIABLE in want:
        records += detect_unreliable_suppliers(history, as_of=d, rules=r, affected=affected)
    if sales is not None and want & demand_kinds:
        shocks = detect_demand_shocks(ds, as_of=d, rules=r, sales=sales, forecast=forecast)
        records += [x for x in shocks if x["kind"] in want]
    if sales is not None and position is not None and want & stock_kinds:
        if AnomalyKind.PHANTOM_STOCK in want:
            records += detect_phantom_stock(ds, as_of=d, rules=r, sales=sales, position=position)
        if AnomalyKind.NEGATIVE_STOCK in want:
            records += detect_negative_stock(ds, as_of=d, rules=r, position=position)
        if AnomalyKind.STALE_COUNT in want:
            records += detect_stale_counts(as_of=d, rules=r, sales=sales, position=position)
        if AnomalyKind.COUNT_MISMATCH in want:
            records += detect_count_mismatches(ds, as_of=d, rules=r, flows=flows)
    frame = anomaly_frame(records)
    if frame.empty:
        return frame
    order = frame["severity"].map(_SEVERITY_RANK)
    frame = (
        frame.assign(_o=order)
        .sort_values(
            ["_o", "kind", "supplier_id", "sku", "location_id", "po_id", "detected_on"],
            kind="stable",
            na_position="first",
        )
        .drop(columns="_o")
    )
    return frame.reset_index(drop=True)
