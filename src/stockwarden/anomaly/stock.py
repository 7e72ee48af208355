"""Stock-record anomalies: phantom stock, negative stock, stale counts, count mismatches."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.anomaly.flows import KEYS, cum_flow_at
from stockwarden.anomaly.records import fmt_date, join_keys
from stockwarden.config import AnomalyRules
from stockwarden.domain.supply import AnomalyKind, Severity
from stockwarden.ingest.dataset import Dataset

_DAY = pd.Timedelta(days=1)
Record = dict[str, object]


def _record(kind: AnomalyKind, sev: Severity, row: object, **fields: object) -> Record:
    sku, loc = row.sku, row.location_id  # type: ignore[attr-defined]
    return {
        "kind": kind.value,
        "severity": sev.value,
        "supplier_id": None,
        "sku": sku,
        "location_id": loc,
        "po_id": None,
        "affected": join_keys([(sku, loc)]),
        **fields,
    }


def detect_phantom_stock(
    ds: Dataset, *, as_of: pd.Timestamp, rules: AnomalyRules, sales: pd.DataFrame, position: pd.DataFrame
) -> list[Record]:
    """Stock on record, but no sale for longer than the item's sale frequency makes plausible.

    With ``z`` days without a sale while stock was on record (since the last sale or the last zero
    count, whichever is later) and ``p0`` the share of days without a sale over the
    ``phantom_baseline_days`` before that run (stocked days only, since the item's first sale or first
    count with stock; Laplace-smoothed), the chance of such a run if the stock were really there is
    ``p0 ** z``; below ``phantom_alpha`` it is reported (only for items with at least 3 sale days in the
    window, so that a rate can be judged).
    """
    if position.empty or sales.empty:
        return []
    sold = sales.loc[sales["qty_sold"] > 0]
    inv = ds.inventory
    last_sale = sold.groupby(KEYS)["date"].max().rename("last_sale")
    first_count = inv.loc[inv["on_hand"] > 0].groupby(KEYS)["date"].min() if len(inv) else None
    first_sale = sold.groupby(KEYS)["date"].min()
    # Active since the first sale or the first count with stock, whichever came first.
    first_sale = (
        first_sale if first_count is None else pd.concat([first_sale, first_count], axis=1).min(axis=1)
    ).rename("first_sale")
    zero_counts = inv.loc[inv["on_hand"] <= 0]
    last_zero = zero_counts.groupby(KEYS)["date"].max().rename("last_zero")
    c = position.set_index(KEYS).join([last_sale, first_sale], how="inner").join(last_zero, how="left")
    c = c.loc[(c["on_hand"] > 0) & (c["last_count"] > 0)]
    c["run_from"] = c[["last_sale", "last_zero"]].max(axis=1)
    c["zero_days"] = (as_of - c["run_from"]) / _DAY
    c = c.loc[c["zero_days"] >= rules.phantom_min_days].reset_index()
    if c.empty:
        return []
    # Baseline window before the run: stocked days and days with a sale.
    win_end = c["last_sale"]  # the run starts the day after the last sale (or after a zero count)
    win_start = (win_end - rules.phantom_baseline_days * _DAY).where(lambda s: s >= c["first_sale"], c["first_sale"])
    sale_days = _count_in_window(sold, c, win_start, win_end)
    zero_days_in_window = _count_in_window(zero_counts, c, win_start, win_end)
    n_days = np.maximum(((win_end - win_start) / _DAY + 1 - zero_days_in_window).clip(lower=1), sale_days)
    p0 = (n_days - sale_days + 1) / (n_days + 2)
    prob = np.exp(c["zero_days"] * np.log(p0))
    out: list[Record] = []
    # A rate needs a few sales to stand on: an item that sold once or twice is not judged.
    hit = ((prob < rules.phantom_alpha) & (sale_days >= 3)).to_numpy()
    for row, p, z, q0 in zip(c.loc[hit].itertuples(index=False), prob[hit], c["zero_days"][hit], p0[hit], strict=True):
        rate = 1 - q0
        sev = Severity.CRITICAL if p < rules.phantom_alpha**2 else Severity.WARNING
        out.append(
            _record(
                AnomalyKind.PHANTOM_STOCK,
                sev,
                row,
                detected_on=as_of,
                started_on=row.run_from + _DAY,
                metric="days_without_sale",
                expected=float(1 / rate) if rate > 0 else np.nan,
                observed=float(z),
                detail=f"{row.sku} at {row.location_id}: {row.on_hand:g} units on record but no sale for {z:.0f} days "
                f"(it usually sells on {rate:.0%} of days; chance of such a gap {_chance(p)}): check the shelf",
            )
        )
    return out


def _chance(p: float) -> str:
    return "under one in a million" if p < 1e-6 else f"{p:.1e}"


def _count_in_window(events: pd.DataFrame, c: pd.DataFrame, start: pd.Series, end: pd.Series) -> pd.Series:
    """How many rows of ``events`` (sku, location_id, date) fall in [start, end] of each row of ``c``."""
    w = c[KEYS].assign(_start=start.to_numpy(), _end=end.to_numpy(), _row=np.arange(len(c)))
    m = events[[*KEYS, "date"]].merge(w, on=KEYS)
    inside = m.loc[(m["date"] >= m["_start"]) & (m["date"] <= m["_end"])]
    counts = inside.groupby("_row").size()
    return pd.Series(counts.reindex(np.arange(len(c)), fill_value=0).to_numpy(), index=c.index, dtype=float)


def detect_negative_stock(
    ds: Dataset, *, as_of: pd.Timestamp, rules: AnomalyRules, position: pd.DataFrame
) -> list[Record]:
    """A recent count below zero, or a position that goes below zero when the last count is rolled
    forward by sales and receipts (more sold than there was)."""
    out: list[Record] = []
    inv = ds.inventory
    neg = inv.loc[(inv["on_hand"] < 0) & (inv["date"] > as_of - rules.recent_days * _DAY)]
    for row in neg.itertuples(index=False):
        out.append(
            _record(
                AnomalyKind.NEGATIVE_STOCK,
                Severity.WARNING,
                row,
                detected_on=row.date,
                started_on=row.date,
                metric="on_hand",
                expected=0.0,
                observed=float(row.on_hand),
                detail=f"{row.sku} at {row.location_id}: count of {row.on_hand:g} on {fmt_date(row.date)}",
            )
        )
    tol = rules.mismatch_tolerance_units
    rolled = position.loc[(position["on_hand"] < -tol) & (position["last_count"] >= 0)]
    for row in rolled.itertuples(index=False):
        out.append(
            _record(
                AnomalyKind.NEGATIVE_STOCK,
                Severity.WARNING,
                row,
                detected_on=as_of,
                started_on=row.last_count_date,
                metric="on_hand",
                expected=0.0,
                observed=float(row.on_hand),
                detail=f"{row.sku} at {row.location_id}: sales since the count of {row.last_count:g} on "
                f"{fmt_date(row.last_count_date)} exceed the stock plus receipts by {-row.on_hand:g} units "
                "(unrecorded receipt or wrong count)",
            )
        )
    return out


def detect_stale_counts(
    *, as_of: pd.Timestamp, rules: AnomalyRules, sales: pd.DataFrame, position: pd.DataFrame
) -> list[Record]:
    """No stock count for ``stale_count_days`` while the item keeps selling."""
    if position.empty:
        return []
    p = position.loc[as_of - position["last_count_date"] >= rules.stale_count_days * _DAY]
    if p.empty:
        return []
    s = sales.loc[sales["qty_sold"] > 0].merge(p[[*KEYS, "last_count_date"]], on=KEYS)
    s = s.loc[s["date"] > s["last_count_date"]].groupby(KEYS, as_index=False)["qty_sold"].sum()
    p = p.merge(s, on=KEYS)
    out: list[Record] = []
    for row in p.itertuples(index=False):
        age = (as_of - row.last_count_date) / _DAY
        sev = Severity.WARNING if age >= 2 * rules.stale_count_days else Severity.INFO
        out.append(
            _record(
                AnomalyKind.STALE_COUNT,
                sev,
                row,
                detected_on=as_of,
                started_on=row.last_count_date,
                metric="days_since_count",
                expected=float(rules.stale_count_days),
                observed=float(age),
                detail=f"{row.sku} at {row.location_id}: last counted {age:.0f} days ago "
                f"({fmt_date(row.last_count_date)}) while {row.qty_sold:g} units were sold since",
            )
        )
    return out


def detect_count_mismatches(
    ds: Dataset, *, as_of: pd.Timestamp, rules: AnomalyRules, flows: pd.DataFrame
) -> list[Record]:
    """Recent counts that disagree with the previous count rolled forward by sales and receipts by more
    than ``max(mismatch_tolerance_units, mismatch_tolerance_ratio * stock)``."""
    inv = ds.inventory.sort_values([*KEYS, "date"], kind="stable")
    if len(inv) < 2:
        return []
    inv = inv.groupby([*KEYS, "date"], as_index=False, sort=True)["on_hand"].last()
    inv["prev_date"] = inv.groupby(KEYS)["date"].shift()
    inv["prev_count"] = inv.groupby(KEYS)["on_hand"].shift()
    cur = inv.loc[inv["prev_date"].notna() & (inv["date"] > as_of - rules.recent_days * _DAY)].copy()
    if cur.empty:
        return []
    moved = cum_flow_at(flows, cur[[*KEYS, "date"]]) - cum_flow_at(
        flows, cur[[*KEYS, "prev_date"]].rename(columns={"prev_date": "date"})
    )
    cur["expected"] = cur["prev_count"] + moved
    cur["diff"] = cur["on_hand"] - cur["expected"]
    tol = np.maximum(
        rules.mismatch_tolerance_units,
        rules.mismatch_tolerance_ratio * np.maximum(cur["prev_count"], cur["expected"]).clip(lower=0),
    )
    cur["tol"] = tol
    bad = cur.loc[cur["diff"].abs() > cur["tol"]]
    out: list[Record] = []
    for row in bad.itertuples(index=False):
        what = (
            "more than expected (unrecorded receipt or return?)"
            if row.diff > 0
            else "less than expected (unrecorded shrinkage or sales?)"
        )
        out.append(
            _record(
                AnomalyKind.COUNT_MISMATCH,
                Severity.WARNING if abs(row.diff) > 2 * row.tol else Severity.INFO,
                row,
                detected_on=row.date,
                started_on=row.prev_date,
                metric="on_hand",
                expected=float(row.expected),
                observed=float(row.on_hand),
                detail=f"{row.sku} at {row.location_id}: counted {row.on_hand:g} on {fmt_date(row.date)}, "
                f"{abs(row.diff):g} {what}; the count of {row.prev_count:g} on {fmt_date(row.prev_date)} "
                f"rolled forward gives {row.expected:g}",
            )
        )
    return out
