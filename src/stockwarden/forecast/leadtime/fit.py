"""Estimating a :class:`LeadTimeModel` from the purchase orders received by ``as_of``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.config import LeadTimeRules, RulesConfig
from stockwarden.domain.supply import LEADTIME_TABLE_COLUMNS, LeadTimeLevel, LeadTimeSource
from stockwarden.forecast.leadtime.changepoint import compute_regime_shifts
from stockwarden.forecast.leadtime.model import LeadTimeModel, _Resolved, received_po_history
from stockwarden.ingest.dataset import Dataset

_HISTORY_COLUMNS = ("supplier_id", "sku", "order_date", "received_date")
"""The PO columns the fit reads (besides the derived ones), for itself and the change points."""


class _Builder:
    """Accumulates pmf rows on one value grid ``lo .. lo + width - 1`` (days)."""

    def __init__(self, rules: LeadTimeRules) -> None:
        self.rules = rules
        self.lo = -rules.max_days
        self.hi_body = rules.max_days  # observed values are clipped into [lo, hi_body]
        self.width = 3 * rules.max_days + 1  # room for the late tail after hi_body
        self.rows: list[np.ndarray] = []
        self.body_max: list[int] = []
        self.bodies: list[np.ndarray] = []

    def index(self, values: np.ndarray) -> np.ndarray:
        return (np.clip(np.rint(values), self.lo, self.hi_body) - self.lo).astype(np.int64)

    def add(self, body: np.ndarray) -> int:
        """Add a row from a normalised body pmf (length ``width``); append the late tail; return its id."""
        r = self.rules
        nz = np.flatnonzero(body > 0)
        last = int(nz[-1]) if len(nz) else -self.lo
        row = (1 - r.late_tail_mass) * body
        q = 1.0 - 1.0 / max(r.late_tail_mean_days, 1.0)
        j = np.arange(1, self.width - last)
        row[last + 1 :] += r.late_tail_mass * (1 - q) * q ** (j - 1)
        self.rows.append(row)
        self.bodies.append(body)
        self.body_max.append(last + self.lo)
        return len(self.rows) - 1

    def normal(self, mean: float, sd: float, *, floor: float | None = None) -> np.ndarray:
        v = np.arange(self.width) + self.lo
        if sd < 0.5:
            body = (v == round(mean)).astype(float)
        else:
            body = np.exp(-0.5 * ((v - mean) / sd) ** 2)
        if floor is not None:
            body[v < floor] = 0.0
            if body.sum() == 0:
                body[int(floor) - self.lo] = 1.0
        body[v > self.hi_body] = 0.0
        return body / body.sum()  # type: ignore[no-any-return]

    def shift(self, body: np.ndarray, by: int, *, floor: int = 0) -> np.ndarray:
        """The distribution of ``by + X`` for X ~ body, clipped below at ``floor`` and above at hi_body."""
        v = np.arange(self.width) + self.lo
        out = np.zeros(self.width)
        target = np.clip(v + by, max(floor, self.lo), self.hi_body) - self.lo
        np.add.at(out, target, body)
        return out


def _grouped_hist(b: _Builder, codes: np.ndarray, n_groups: int, values: np.ndarray, w: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(values)
    flat = codes[ok] * b.width + b.index(values[ok])
    return np.bincount(flat, weights=w[ok], minlength=n_groups * b.width).reshape(n_groups, b.width)


def _shrink(hist: np.ndarray, prior: np.ndarray, k: float) -> np.ndarray:
    total = hist.sum()
    if total + k <= 0:
        return prior
    return (hist + k * prior) / (total + k)  # type: ignore[no-any-return]


def _short_stats(h: pd.DataFrame, w: np.ndarray, codes: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    known = h["fill_ratio"].notna().to_numpy()
    s = h["is_short"].to_numpy(bool) & known
    r = h["fill_ratio"].fillna(1.0).to_numpy()
    wk = np.bincount(codes[known], weights=w[known], minlength=n)
    ws = np.bincount(codes[s], weights=w[s], minlength=n)
    wsr = np.bincount(codes[s], weights=(w * r)[s], minlength=n)
    return wk, ws, wsr


def _stats(b: _Builder, lead: np.ndarray, delay: np.ndarray) -> dict[str, float]:
    v = np.arange(b.width) + b.lo
    cdf = np.cumsum(lead)
    return {
        "mean_lead_time_days": float((v * lead).sum()),
        "p50_lead_time_days": float(v[np.searchsorted(cdf, 0.5 - 1e-12)]),
        "p90_lead_time_days": float(v[np.searchsorted(cdf, 0.9 - 1e-12)]),
        "on_time_rate": float(delay[v <= 0].sum()),
        "mean_delay_days": float((v * delay).sum()),
    }


def estimate_lead_times(
    ds: Dataset, *, as_of: pd.Timestamp | str, rules: RulesConfig | LeadTimeRules | None = None
) -> LeadTimeModel:
    """Estimate lead-time, delay and short-delivery distributions from the POs received by ``as_of``.

    Args:
        ds: the dataset (rows after ``as_of`` are ignored; POs received later count as open).
        as_of: the date of the estimate.
        rules: the whole rules config or its ``leadtime`` section (defaults when None).

    Returns:
        A :class:`LeadTimeModel`; its ``table`` has one row per supplier and per supplier x SKU with at
        least ``min_pos_supplier_sku`` received POs.

    Example:
        >>> model = estimate_lead_times(ds, as_of="2016-01-31")  # doctest: +SKIP
        >>> pmf, source = model.lead_time_pmf("SUP-DRY", "FOODS_3_090")  # doctest: +SKIP
    """
    r = rules.leadtime if isinstance(rules, RulesConfig) else (rules or LeadTimeRules())
    d = pd.Timestamp(as_of).normalize()
    b = _Builder(r)
    k = r.prior_strength_pos
    h = received_po_history(ds, as_of=d, columns=_HISTORY_COLUMNS)
    w = 0.5 ** (h["age_days"].to_numpy(float) / r.half_life_days)
    # After a change point in a supplier's delays, older deliveries move by the estimated shift into
    # the current regime (see changepoint.py); zero for suppliers without one.
    shift = compute_regime_shifts(h, rules=r)["shift_days"].to_numpy(float)
    lead_v = np.clip(h["lead_time_days"].to_numpy(float) + shift, 0, None)
    delay_v = h["delay_days"].to_numpy(float) + shift

    # Global delay distribution: the spread given to nominal (fallback) lead times.
    zeros = np.zeros(len(h), dtype=np.int64)
    g_delay = _grouped_hist(b, zeros, 1, delay_v, w)[0]
    has_global = g_delay.sum() > 0
    g_delay = g_delay / g_delay.sum() if has_global else None
    wk, ws, wsr = (x[0] for x in _short_stats(h, w, zeros, 1))
    g_short = (ws / wk if wk > 0 else 0.0, wsr / ws if ws > 0 else 1.0)

    shorts: list[tuple[float, float]] = []
    nominal: dict[str, tuple[int, int, int, str]] = {}
    bodies: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def add_nominal(key: str, lt: float, source: LeadTimeSource) -> None:
        if key in nominal:
            return
        if g_delay is not None:
            delay_body = g_delay
            lead_body = b.shift(g_delay, round(lt), floor=0)
        else:
            delay_body = b.normal(0.0, r.fallback_cv * lt)
            lead_body = b.normal(lt, r.fallback_cv * lt, floor=0)
        shorts.append(g_short)
        nominal[key] = (b.add(lead_body), b.add(delay_body), len(shorts) - 1, str(source))
        bodies[key] = (lead_body, delay_body)

    add_nominal(str(LeadTimeSource.DEFAULT), r.default_lead_time_days, LeadTimeSource.DEFAULT)
    sup_nominal: dict[str, float] = {}
    for sup, lt in ds.suppliers[["supplier_id", "lead_time_days"]].itertuples(index=False):
        if isinstance(sup, str) and pd.notna(lt):
            sup_nominal[sup] = float(lt)
            add_nominal(f"{LeadTimeSource.SUPPLIER_NOMINAL}:{sup}", float(lt), LeadTimeSource.SUPPLIER_NOMINAL)
    item_nominal: dict[str, tuple[float | None, str | None]] = {}
    for sku, lt, sup in ds.items[["sku", "lead_time_days", "supplier_id"]].itertuples(index=False):
        item_nominal[sku] = (float(lt) if pd.notna(lt) else None, sup if isinstance(sup, str) else None)
        if pd.notna(lt):
            add_nominal(f"{LeadTimeSource.ITEM_NOMINAL}:{round(lt)}", float(lt), LeadTimeSource.ITEM_NOMINAL)

    keys: dict[tuple[str, str | None], _Resolved] = {}
    table_rows: list[dict[str, object]] = []
    if h["supplier_id"].isna().any():  # h is this function's own copy: no second one (GBs at 1M)
        h["supplier_id"] = h["supplier_id"].fillna("?")

    # Supplier level, shrunk toward the supplier's nominal distribution.
    s_codes, s_names = pd.factorize(h["supplier_id"])
    n_s = len(s_names)
    s_counts = np.bincount(s_codes, minlength=n_s)
    s_lead = _grouped_hist(b, s_codes, n_s, lead_v, w)
    s_delay = _grouped_hist(b, s_codes, n_s, delay_v, w)
    s_wk, s_ws, s_wsr = _short_stats(h, w, s_codes, n_s)
    sup_bodies: dict[str, tuple[np.ndarray, np.ndarray, tuple[float, float]]] = {}
    for i, sup in enumerate(s_names):
        if s_counts[i] < r.min_pos_supplier:
            continue
        pkey = f"{LeadTimeSource.SUPPLIER_NOMINAL}:{sup}" if sup in sup_nominal else str(LeadTimeSource.DEFAULT)
        p_lead, p_delay = bodies[pkey]
        lead_body, delay_body = _shrink(s_lead[i], p_lead, k), _shrink(s_delay[i], p_delay, k)
        p = (s_ws[i] + k * g_short[0]) / (s_wk[i] + k) if s_wk[i] + k > 0 else g_short[0]
        f = (s_wsr[i] + k * g_short[1]) / (s_ws[i] + k) if s_ws[i] + k > 0 else g_short[1]
        shorts.append((p, f))
        keys[(sup, None)] = _Resolved(
            b.add(lead_body), b.add(delay_body), len(shorts) - 1, str(LeadTimeSource.SUPPLIER_HISTORY)
        )
        sup_bodies[sup] = (lead_body, delay_body, (p, f))
        table_rows.append(
            {
                "level": str(LeadTimeLevel.SUPPLIER),
                "supplier_id": sup,
                "sku": None,
                "po_count": int(s_counts[i]),
                **_stats(b, lead_body, delay_body),
                "short_delivery_rate": p,
                "source": str(LeadTimeSource.SUPPLIER_HISTORY),
            }
        )
    # Suppliers without enough history: their fallback, marked.
    counts_by_sup = dict(zip(s_names, s_counts, strict=True))
    for sup in sorted(set(sup_nominal) | set(s_names)):
        if (sup, None) in keys or sup == "?":
            continue
        pkey = f"{LeadTimeSource.SUPPLIER_NOMINAL}:{sup}" if sup in sup_nominal else str(LeadTimeSource.DEFAULT)
        lead_body, delay_body = bodies[pkey]
        table_rows.append(
            {
                "level": str(LeadTimeLevel.SUPPLIER),
                "supplier_id": sup,
                "sku": None,
                "po_count": int(counts_by_sup.get(sup, 0)),
                **_stats(b, lead_body, delay_body),
                "short_delivery_rate": g_short[0],
                "source": nominal[pkey][3],
            }
        )

    # Supplier x SKU level, shrunk toward the supplier's.
    # Pairs as integer codes in order of first appearance (a "supplier|sku" string per received line was
    # 23.6M new strings, about 2 GB, at a million SKU-locations).
    # The supplier codes are the supplier level's (s_codes, s_names, above).
    sku_codes, sku_names = pd.factorize(h["sku"])
    n_sku = max(len(sku_names), 1)
    p_codes, p_first = pd.factorize(s_codes.astype(np.int64) * n_sku + sku_codes)
    p_names = [f"{s_names[c // n_sku]}\x1f{sku_names[c % n_sku]}" for c in p_first.tolist()]
    n_p = len(p_names)
    p_counts = np.bincount(p_codes, minlength=n_p)
    big = np.flatnonzero(p_counts >= r.min_pos_supplier_sku)
    if len(big):
        p_lead = _grouped_hist(b, p_codes, n_p, lead_v, w)
        p_delay = _grouped_hist(b, p_codes, n_p, delay_v, w)
        p_wk, p_ws, p_wsr = _short_stats(h, w, p_codes, n_p)
        for i in big.tolist():
            sup, sku = p_names[i].split("\x1f", 1)
            if sup in sup_bodies:
                pl, pd_, (ps, pf) = sup_bodies[sup]
            else:
                pkey = f"{LeadTimeSource.SUPPLIER_NOMINAL}:{sup}" if sup in sup_nominal else str(LeadTimeSource.DEFAULT)
                (pl, pd_), (ps, pf) = bodies[pkey], g_short
            lead_body, delay_body = _shrink(p_lead[i], pl, k), _shrink(p_delay[i], pd_, k)
            p = (p_ws[i] + k * ps) / (p_wk[i] + k) if p_wk[i] + k > 0 else ps
            f = (p_wsr[i] + k * pf) / (p_ws[i] + k) if p_ws[i] + k > 0 else pf
            shorts.append((p, f))
            keys[(sup, sku)] = _Resolved(
                b.add(lead_body), b.add(delay_body), len(shorts) - 1, str(LeadTimeSource.SUPPLIER_SKU_HISTORY)
            )
            table_rows.append(
                {
                    "level": str(LeadTimeLevel.SUPPLIER_SKU),
                    "supplier_id": sup,
                    "sku": sku,
                    "po_count": int(p_counts[i]),
                    **_stats(b, lead_body, delay_body),
                    "short_delivery_rate": p,
                    "source": str(LeadTimeSource.SUPPLIER_SKU_HISTORY),
                }
            )

    table = pd.DataFrame(table_rows, columns=list(LEADTIME_TABLE_COLUMNS))
    if len(table):
        table = table.sort_values(["supplier_id", "level", "sku"], na_position="first", kind="stable")
    table = table.reset_index(drop=True).astype({"po_count": "int64"})
    return LeadTimeModel(
        as_of=d,
        rules=r,
        value_lo=b.lo,
        pmfs=np.vstack(b.rows),
        body_max=np.array(b.body_max),
        short=np.array(shorts, dtype=float),
        keys=keys,
        nominal=nominal,
        item_nominal=item_nominal,
        table=table,
    )
