"""Supply anomalies: overdue POs, short deliveries, lead-time drift, unreliable suppliers.

Each detector is pure: it takes the as-of view of the dataset (or the received-PO history) and
returns a list of record dicts (see :mod:`stockwarden.anomaly.records`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from stockwarden.anomaly.drift import detect_shifts
from stockwarden.anomaly.records import fmt_date, fmt_days, join_keys
from stockwarden.config import AnomalyRules
from stockwarden.domain.supply import AnomalyKind, Severity
from stockwarden.forecast.leadtime.changepoint import delivery_batches, uses_delay
from stockwarden.ingest.dataset import Dataset

_DAY = pd.Timedelta(days=1)
_ORDER = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)
Record = dict[str, object]


def _bump(severity: Severity, steps: int = 1) -> Severity:
    return _ORDER[min(len(_ORDER) - 1, _ORDER.index(severity) + steps)]


class SupplierKeys:
    """:func:`supplier_keys` computed on first use (most runs find no supplier-level anomaly)."""

    def __init__(self, ds: Dataset, series_keys: pd.DataFrame | None = None) -> None:
        self._ds = ds
        self._series_keys = series_keys
        self._keys: dict[str, list[tuple[str, str]]] | None = None

    def get(self, supplier_id: str, default: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The SKU-locations bought from ``supplier_id`` (``default`` when none)."""
        if self._keys is None:
            self._keys = supplier_keys(self._ds, series_keys=self._series_keys)
        return self._keys.get(supplier_id, default)


Affected = Mapping[str, list[tuple[str, str]]] | SupplierKeys
"""Supplier -> the SKU-locations bought from it (a dict, or computed lazily)."""


def supplier_keys(ds: Dataset, *, series_keys: pd.DataFrame | None = None) -> dict[str, list[tuple[str, str]]]:
    """SKU-locations bought from each supplier: from its POs and from the items it is the supplier of.

    ``series_keys``: every (sku, location_id) of the company when ``ds`` does not hold its sales and
    stock counts (the partitioned run's company-wide view); default ``ds.series_keys()``.
    """
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    po = ds.purchase_orders.dropna(subset=["supplier_id"])
    for sup, sku, loc in po[["supplier_id", "sku", "location_id"]].drop_duplicates().itertuples(index=False):
        out[sup].add((sku, loc))
    items = ds.items.dropna(subset=["supplier_id"])
    if len(items):
        known = ds.series_keys() if series_keys is None else series_keys
        keys = known.merge(items[["sku", "supplier_id"]], on="sku")
        for sup, sku, loc in keys[["supplier_id", "sku", "location_id"]].itertuples(index=False):
            out[sup].add((sku, loc))
    return {k: sorted(v) for k, v in out.items()}


def detect_overdue_pos(
    ds: Dataset,
    *,
    as_of: pd.Timestamp,
    rules: AnomalyRules,
    risk: pd.DataFrame | None = None,
    cover: pd.Series | None = None,
) -> list[Record]:
    """Open POs past their promised date (or, without a promise, the item/supplier nominal lead time).

    Severity grows with days late (``overdue_warning_days``, ``overdue_critical_days``) and one step more
    when the SKU-location is already at ``warning``/``critical`` risk in ``risk`` (when given), else when
    its days of ``cover`` (a series indexed by sku, location_id) are below ``overdue_cover_days``.
    """
    po = ds.purchase_orders
    if po.empty:
        return []
    is_open = (po["order_date"] <= as_of) & (po["received_date"].isna() | (po["received_date"] > as_of))
    if "status" in po:
        is_open &= po["status"].fillna("open").ne("cancelled")
    op = po.loc[is_open].copy()
    if op.empty:
        return []
    nominal = op["sku"].map(ds.items.set_index("sku")["lead_time_days"]) if len(ds.items) else np.nan
    nominal = pd.Series(nominal, index=op.index).fillna(
        op["supplier_id"].map(ds.suppliers.set_index("supplier_id")["lead_time_days"]) if len(ds.suppliers) else np.nan
    )
    due = op["promised_date"].fillna(op["order_date"] + pd.to_timedelta(nominal, unit="D"))
    op["days_late"] = (as_of - due) / _DAY
    op["due"] = due
    op = op.loc[op["days_late"] > rules.overdue_grace_days]
    at_risk: set[tuple[str, str]] = set()
    if risk is not None and len(risk) and "level" in risk:
        hot = risk.loc[risk["level"].isin(("critical", "warning"))]
        at_risk = set(zip(hot["sku"], hot["location_id"], strict=True))
    elif cover is not None and len(cover):
        at_risk = set(cover.index[cover < rules.overdue_cover_days])
    out: list[Record] = []
    for row in op.itertuples(index=False):
        late = float(row.days_late)
        sev = Severity.INFO
        if late >= rules.overdue_critical_days:
            sev = Severity.CRITICAL
        elif late >= rules.overdue_warning_days:
            sev = Severity.WARNING
        if (row.sku, row.location_id) in at_risk:
            sev = _bump(sev)
        promise = "promised" if pd.notna(row.promised_date) else "expected (nominal lead time)"
        out.append(
            {
                "kind": AnomalyKind.OVERDUE_PO.value,
                "severity": sev.value,
                "detected_on": as_of,
                "supplier_id": row.supplier_id,
                "sku": row.sku,
                "location_id": row.location_id,
                "po_id": row.po_id,
                "started_on": row.due,
                "metric": "days_late",
                "expected": 0.0,
                "observed": late,
                "detail": f"PO {row.po_id} ({row.sku} at {row.location_id}, {row.qty:g} units from {row.supplier_id}) "
                f"is {fmt_days(late)} days late: {promise} {fmt_date(row.due)}, still not received",
                "affected": join_keys([(row.sku, row.location_id)]),
            }
        )
    return out


def detect_short_deliveries(history: pd.DataFrame, *, as_of: pd.Timestamp, rules: AnomalyRules) -> list[Record]:
    """Recent receipts (last ``recent_days``) with received/ordered below ``short_fill_ratio``."""
    recent = history.loc[
        (history["received_date"] > as_of - rules.recent_days * _DAY) & (history["fill_ratio"] < rules.short_fill_ratio)
    ]
    out: list[Record] = []
    for row in recent.itertuples(index=False):
        sev = Severity.WARNING if row.fill_ratio < rules.short_warning_fill_ratio else Severity.INFO
        out.append(
            {
                "kind": AnomalyKind.SHORT_DELIVERY.value,
                "severity": sev.value,
                "detected_on": row.received_date,
                "supplier_id": row.supplier_id,
                "sku": row.sku,
                "location_id": row.location_id,
                "po_id": row.po_id,
                "started_on": row.received_date,
                "metric": "fill_ratio",
                "expected": 1.0,
                "observed": float(row.fill_ratio),
                "detail": f"{row.supplier_id} delivered only {row.received_qty:g} of {row.qty:g} units of {row.sku} "
                f"on PO {row.po_id} ({row.fill_ratio:.0%}) on {fmt_date(row.received_date)}",
                "affected": join_keys([(row.sku, row.location_id)]),
            }
        )
    return out


def _stream(g: pd.DataFrame) -> tuple[np.ndarray, pd.Series, str]:
    """The supplier's delivery stream: delay against the promise when mostly known, else lead time."""
    if uses_delay(g):
        g = g.loc[g["delay_days"].notna()]
        return g["delay_days"].to_numpy(float), g["received_date"].reset_index(drop=True), "delay"
    return g["lead_time_days"].to_numpy(float), g["received_date"].reset_index(drop=True), "lead time"


def detect_lead_time_drift(
    history: pd.DataFrame, *, as_of: pd.Timestamp, rules: AnomalyRules, affected: Affected
) -> list[Record]:
    """Suppliers whose delay (or lead time) shifted, by :func:`detect_shifts`, reported for
    ``drift_report_days`` after the alarm. Upward shifts are warnings (critical from
    ``drift_critical_shift_days``), downward ones (a supplier got faster) are info."""
    out: list[Record] = []
    for sup, g in delivery_batches(history).groupby("supplier_id", sort=True):
        values, dates, what = _stream(g)
        found = detect_shifts(values, rules=rules)
        for n, d in enumerate(found):
            alarm_on = dates.iloc[d.alarm_index]
            if alarm_on < as_of - rules.drift_report_days * _DAY:
                continue
            # The new regime runs until the next change (if any).
            after = values[d.start_index : found[n + 1].start_index if n + 1 < len(found) else len(values)]
            n_after = len(after)
            med_after, mean_after = float(np.median(after)), float(after.mean())
            use_median = med_after != d.baseline_median
            before, now = (d.baseline_median, med_after) if use_median else (d.baseline_mean, mean_after)
            size = now - before
            up = d.tested_shift_days > 0
            sev = Severity.INFO
            if up:
                sev = Severity.CRITICAL if size >= rules.drift_critical_shift_days else Severity.WARNING
            stat = "median" if use_median else "mean"
            out.append(
                {
                    "kind": AnomalyKind.LEAD_TIME_DRIFT.value,
                    "severity": sev.value,
                    "detected_on": alarm_on,
                    "supplier_id": sup,
                    "sku": None,
                    "location_id": None,
                    "po_id": None,
                    "started_on": dates.iloc[d.start_index],
                    "metric": f"{stat}_{what.replace(' ', '_')}_days",
                    "expected": before,
                    "observed": now,
                    "detail": f"{sup}: {stat} {what} {'rose' if up else 'fell'} from {fmt_days(before)} to "
                    f"{fmt_days(now)} days over the last {n_after} deliveries "
                    f"(since {fmt_date(dates.iloc[d.start_index])}, detected {fmt_date(alarm_on)})",
                    "affected": join_keys(affected.get(sup, [])),
                }
            )
    return out


def detect_unreliable_suppliers(
    history: pd.DataFrame, *, as_of: pd.Timestamp, rules: AnomalyRules, affected: Affected
) -> list[Record]:
    """Suppliers whose on-time rate over the last ``unreliable_window_n`` deliveries fell well below their
    own past rate or the other suppliers' (one-sided binomial test at ``unreliable_alpha`` and a gap of
    at least ``unreliable_min_gap``), or whose delays became much more erratic than their own past
    (variance-ratio F test at ``unreliable_alpha``, spread at least 1.5x and ``drift_min_shift_days``
    wider)."""
    h = delivery_batches(history)
    h = h.loc[h["delay_days"].notna()]
    n_w = rules.unreliable_window_n
    out: list[Record] = []
    for sup, g in h.groupby("supplier_id", sort=True):
        if len(g) < n_w or g["received_date"].iloc[-1] < as_of - rules.drift_report_days * _DAY:
            continue
        recent, past = g.iloc[-n_w:], g.iloc[:-n_w]
        others = h.loc[h["supplier_id"] != sup]
        on_time = int((recent["delay_days"] <= 0).sum())
        rate = on_time / n_w
        refs = []
        if len(past) >= n_w:
            refs.append(("its own past", float((past["delay_days"] <= 0).mean())))
        if len(others) >= n_w:
            refs.append(("the other suppliers", float((others["delay_days"] <= 0).mean())))
        spread = _spread_record(sup, recent, past, rules=rules, affected=affected)
        if spread is not None:
            out.append(spread)
        for label, ref in refs:
            p_value = float(stats.binom.cdf(on_time, n_w, ref))
            if ref - rate >= rules.unreliable_min_gap and p_value < rules.unreliable_alpha:
                out.append(
                    {
                        "kind": AnomalyKind.SUPPLIER_UNRELIABLE.value,
                        "severity": Severity.WARNING.value,
                        "detected_on": recent["received_date"].iloc[-1],
                        "supplier_id": sup,
                        "sku": None,
                        "location_id": None,
                        "po_id": None,
                        "started_on": recent["received_date"].iloc[0],
                        "metric": "on_time_rate",
                        "expected": ref,
                        "observed": rate,
                        "detail": f"{sup}: only {on_time} of the last {n_w} deliveries on time ({rate:.0%}), "
                        f"against {ref:.0%} for {label}",
                        "affected": join_keys(affected.get(sup, [])),
                    }
                )
                break
    return out


def _spread_record(
    sup: str,
    recent: pd.DataFrame,
    past: pd.DataFrame,
    *,
    rules: AnomalyRules,
    affected: Affected,
) -> Record | None:
    """A ``supplier_unreliable`` record when the recent delays spread much wider than the past ones."""
    n_w = len(recent)
    if len(past) < n_w:
        return None
    sd_now, sd_past = float(recent["delay_days"].std(ddof=1)), float(past["delay_days"].std(ddof=1))
    if sd_now < 1.5 * sd_past or sd_now - sd_past < rules.drift_min_shift_days:
        return None
    ratio = sd_now**2 / max(sd_past, 0.5) ** 2
    if float(stats.f.sf(ratio, n_w - 1, len(past) - 1)) >= rules.unreliable_alpha:
        return None
    return {
        "kind": AnomalyKind.SUPPLIER_UNRELIABLE.value,
        "severity": Severity.WARNING.value,
        "detected_on": recent["received_date"].iloc[-1],
        "supplier_id": sup,
        "sku": None,
        "location_id": None,
        "po_id": None,
        "started_on": recent["received_date"].iloc[0],
        "metric": "delay_sd_days",
        "expected": sd_past,
        "observed": sd_now,
        "detail": f"{sup}: delivery dates became erratic: delays over the last {n_w} deliveries vary by "
        f"\u00b1{sd_now:.1f} days (standard deviation) against \u00b1{sd_past:.1f} before",
        "affected": join_keys(affected.get(sup, [])),
    }
