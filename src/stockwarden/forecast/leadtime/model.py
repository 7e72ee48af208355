"""Lead-time model: when will an order really arrive, learnt from purchase-order history.

For every supplier (and supplier x SKU where there is enough history) the model holds two discrete
distributions, both learnt from the POs *received by* ``as_of`` (no look-ahead):

* the **lead time** ``L = received_date - order_date`` (days), used for a new order placed at ``as_of``;
* the **delay** ``D = received_date - promised_date`` (days), used for an already-open PO with a promise.

Each is a recency-weighted histogram: a delivery received ``a`` days before ``as_of`` weighs
``w = 0.5 ** (a / half_life_days)``, so a supplier that became slower is seen slower. A sudden change
is followed faster: when a CUSUM on the supplier's deliveries finds a change point (``adapt_to_shifts``,
:mod:`~stockwarden.forecast.leadtime.changepoint`), the deliveries before it are moved by the estimated
shift into the current regime, so the location follows the new deliveries and the spread keeps the
long history. A thin history
is shrunk toward the broader estimate (a Dirichlet-style prior worth ``prior_strength_pos`` POs):

    p_sku(v) = (sum_i w_i [v_i = v] + k * p_supplier(v)) / (sum_i w_i + k)

and the supplier's own toward its nominal (fallback) distribution. With too little history the
fallback is the item's ``lead_time_days``, then the supplier's nominal one, then the configured default
(spread by the delays seen across all suppliers, else by ``fallback_cv``); the ``source`` says which.

Lateness beyond anything observed keeps a memoryless (geometric) tail of mass ``late_tail_mass`` and
mean ``late_tail_mean_days``: an open PO that is already later than every past delivery stays
uncertain (its remaining wait is geometric), it does not vanish. For an open PO with reference date
``r`` (promise, else order date) and ``x = as_of - r`` days elapsed, the arrival ``t`` days after
``as_of`` has ``P(t) = P(D = x + t) / P(D > x)`` for ``t >= 1``.

All arrays are indexed by whole days after ``as_of`` (index 0 = ``as_of`` itself) up to ``max_days``;
mass beyond ``max_days`` is left out, so rows may sum to slightly less than one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stockwarden.config import LeadTimeRules
from stockwarden.domain.supply import LeadTimeSource, ShortDeliveryInfo
from stockwarden.ingest.dataset import Dataset

_DAY = np.timedelta64(1, "D")


def received_po_history(
    ds: Dataset, *, as_of: pd.Timestamp | str, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The PO lines received by the end of ``as_of``, with lead time, delay and fill ratio.

    Args:
        ds: the dataset.
        as_of: the date.
        columns: the PO columns to keep (default: all of them); the derived columns are always there.
            A caller that reads a few columns of a large company's history asks for those only
            (each column of 23.6M lines is 190 MB).

    Returns:
        Frame sorted by receipt (``received_date, order_date, po_id``) with the PO columns plus
        ``lead_time_days``, ``delay_days`` (NaN without a promise), ``fill_ratio`` (received/ordered,
        NaN when unknown), ``is_short`` and ``age_days`` (as_of - received_date).
    """
    d = pd.Timestamp(as_of).normalize()
    po = ds.purchase_orders
    ok = po["received_date"].notna() & (po["received_date"] <= d) & (po["order_date"] <= d)
    if "status" in po:
        ok &= po["status"].fillna("received").ne("cancelled")
    # One copy of the PO lines, taken in receipt order (sorting the selected copy and renumbering it
    # made three more: 11 GB at a million SKU-locations' 23.6M lines).
    rows = np.flatnonzero(ok.to_numpy())
    by = ["received_date", "order_date", "po_id"]
    keys = po[by].take(rows).reset_index(drop=True)
    rows = rows[keys.sort_values(by, kind="stable").index.to_numpy()]
    del keys
    keep = list(po.columns) if columns is None else [c for c in po.columns if c in set(columns)]
    h = pd.DataFrame({c: _taken(po[c], rows) for c in keep}, copy=False)

    def col(name: str) -> pd.Series:
        return h[name] if name in h else pd.Series(po[name].to_numpy()[rows])

    received = col("received_date")
    h["lead_time_days"] = ((received - col("order_date")) / _DAY).clip(lower=0)
    h["delay_days"] = (received - col("promised_date")) / _DAY
    h["fill_ratio"] = (col("received_qty") / col("qty")).clip(0, 1)
    h["is_short"] = h["fill_ratio"] < 1 - 1e-9
    h["age_days"] = (d - received) / _DAY
    return h


def _taken(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """``column``'s values at positions ``rows``, numbered from 0 (one copy: no second one to renumber)."""
    out = column.take(rows)
    out.index = pd.RangeIndex(len(rows))
    return out


@dataclass(frozen=True)
class _Resolved:
    """Rows of the model's arrays behind one (supplier, sku) key."""

    lead_row: int
    delay_row: int
    short_row: int
    source: str


class LeadTimeModel:
    """Lead-time and arrival distributions per supplier and supplier x SKU, as of one date.

    Attributes:
        as_of: the date the model was estimated at (only POs received by then were used).
        max_days: last day index of every pmf array.
        table: one row per supplier (``level == "supplier"``) and per supplier x SKU with enough
            history (``level == "supplier_sku"``); columns ``LEADTIME_TABLE_COLUMNS``.
    """

    def __init__(
        self,
        *,
        as_of: pd.Timestamp,
        rules: LeadTimeRules,
        value_lo: int,
        pmfs: np.ndarray,
        body_max: np.ndarray,
        short: np.ndarray,
        keys: dict[tuple[str, str | None], _Resolved],
        nominal: dict[str, tuple[int, int, int, str]],
        item_nominal: Mapping[str, tuple[float | None, str | None]],
        table: pd.DataFrame,
    ) -> None:
        self.as_of = as_of
        self.rules = rules
        self.max_days = rules.max_days
        self._lo = value_lo
        self._pmfs = pmfs
        self._body_max = body_max
        self._short = short
        self._keys = keys
        self._nominal = nominal
        self._item_nominal = item_nominal
        self.table = table

    # ----------------------------------------------------------------- resolution
    def _resolve(self, supplier_id: str | None, sku: str | None) -> _Resolved:
        sup = supplier_id if isinstance(supplier_id, str) else None
        if sup is not None:
            hit = self._keys.get((sup, sku)) or self._keys.get((sup, None))
            if hit is not None:
                return hit
        item_lt, item_sup = self._item_nominal.get(sku, (None, None)) if sku is not None else (None, None)
        if sup is None and item_sup is not None and (item_sup, None) in self._keys:
            return self._resolve(item_sup, sku)
        if item_lt is not None:
            key = f"{LeadTimeSource.ITEM_NOMINAL}:{round(item_lt)}"
        elif sup is not None and f"{LeadTimeSource.SUPPLIER_NOMINAL}:{sup}" in self._nominal:
            key = f"{LeadTimeSource.SUPPLIER_NOMINAL}:{sup}"
        else:
            key = str(LeadTimeSource.DEFAULT)
        lead, delay, short, source = self._nominal[key]
        return _Resolved(lead, delay, short, source)

    def _resolve_many(self, supplier_ids: pd.Series, skus: pd.Series) -> list[_Resolved]:
        pairs = pd.DataFrame({"s": supplier_ids.to_numpy(object), "k": skus.to_numpy(object)})
        codes, uniq = pd.factorize(pd.MultiIndex.from_frame(pairs.fillna({"s": "\x00"})))
        resolved = [self._resolve(None if s == "\x00" else s, k) for s, k in uniq]
        return [resolved[c] for c in codes]

    # ----------------------------------------------------------------- new orders
    def lead_time_pmf(self, supplier_id: str | None, sku: str | None) -> tuple[np.ndarray, str]:
        """Distribution of the lead time of a new order placed at ``as_of``.

        This is the observed (recency-weighted, shrunk) distribution, without the memoryless late tail:
        that tail keeps an *open* PO that is later than every past delivery uncertain
        (:meth:`arrival_pmfs`); planning a new order's safety stock on it would put every high service
        level's quantile in a tail that no delivery has ever shown.

        Returns:
            ``(pmf, source)``: ``pmf[k]`` = P(arrives ``k`` days after ordering), ``k = 0..max_days``;
            ``source`` is a :class:`LeadTimeSource` value.
        """
        r = self._resolve(supplier_id, sku)
        return self._new_order(np.array([r.lead_row]))[0], r.source

    def lead_time_pmfs(self, keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`lead_time_pmf` for a frame with ``supplier_id`` and ``sku`` columns.

        Returns:
            ``(pmfs, sources)``: array ``(len(keys), max_days + 1)`` and an object array of sources.
        """
        res = self._resolve_many(keys["supplier_id"], keys["sku"])
        rows = np.fromiter((r.lead_row for r in res), dtype=np.int64, count=len(res))
        return self._new_order(rows), np.array([r.source for r in res], dtype=object)

    def _new_order(self, rows: np.ndarray) -> np.ndarray:
        """Lead-time pmfs of new orders: the rows' bodies up to their longest observed value, renormalised."""
        out = self._gather(rows, np.zeros(len(rows), dtype=np.int64))
        out = np.where(np.arange(out.shape[1])[None, :] > self._body_max[rows][:, None], 0.0, out)
        total = out.sum(axis=1, keepdims=True)
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), out)

    # ----------------------------------------------------------------- open POs
    def arrival_pmf(self, po: Mapping[str, object] | pd.Series, as_of: pd.Timestamp | str | None = None) -> np.ndarray:
        """Distribution of the arrival day of one open PO, in days after ``as_of`` (see module doc)."""
        frame = pd.DataFrame([dict(po)])
        for c in ("order_date", "promised_date"):
            frame[c] = pd.to_datetime(frame.get(c), errors="coerce")
        return self.arrival_pmfs(frame, as_of)[0]

    def arrival_pmfs(self, open_pos: pd.DataFrame, as_of: pd.Timestamp | str | None = None) -> np.ndarray:
        """Arrival distributions of open POs, conditional on not having arrived by the end of ``as_of``.

        Args:
            open_pos: frame with ``supplier_id, sku, order_date, promised_date`` (promised may be NaT).
            as_of: the date the POs are known open at (default: the model's ``as_of``).

        Returns:
            Array ``(len(open_pos), max_days + 1)``; ``[i, t]`` = P(PO i arrives on ``as_of + t``);
            column 0 is zero. A PO later than any past delivery keeps a geometric tail.
        """
        n = len(open_pos)
        if n == 0:
            return np.zeros((0, self.max_days + 1))
        a = pd.Timestamp(as_of).normalize() if as_of is not None else self.as_of
        res = self._resolve_many(open_pos["supplier_id"], open_pos["sku"])
        promised = pd.to_datetime(open_pos["promised_date"]).to_numpy("datetime64[ns]")
        ordered = pd.to_datetime(open_pos["order_date"]).to_numpy("datetime64[ns]")
        has_promise = ~np.isnat(promised)
        ref = np.where(has_promise, promised, ordered)
        x = ((np.datetime64(a.to_datetime64()) - ref) / _DAY).astype(np.int64)
        rows = np.array([r.delay_row if hp else r.lead_row for r, hp in zip(res, has_promise, strict=True)])
        return self._conditional(rows, x)

    def _gather(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``out[i, t] = P_rows[i](value = x[i] + t)`` for ``t = 0..max_days`` (zero off-grid)."""
        t = np.arange(self.max_days + 1)
        cols = x[:, None] + t[None, :] - self._lo
        valid = (cols >= 0) & (cols < self._pmfs.shape[1])
        out = np.where(valid, self._pmfs[rows[:, None], np.clip(cols, 0, self._pmfs.shape[1] - 1)], 0.0)
        return out  # type: ignore[no-any-return]

    def _conditional(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        # Beyond the observed maximum only the memoryless tail is left: conditioning on any later
        # elapsed time gives the same answer, so clip there (keeps the grid finite).
        x_eff = np.minimum(x, self._body_max[rows])
        out = self._gather(rows, x_eff)
        out[:, 0] = 0.0
        cdf = np.cumsum(self._pmfs, axis=1)
        col = x_eff - self._lo
        below = np.where(col < 0, 0.0, cdf[rows, np.clip(col, 0, cdf.shape[1] - 1)])
        surv = 1.0 - below
        geo = _geometric(self.rules.late_tail_mean_days, self.max_days)
        dead = surv <= 1e-12
        out[~dead] /= surv[~dead, None]
        out[dead] = geo
        return out

    # ----------------------------------------------------------------- short deliveries
    def short_delivery(self, supplier_id: str | None, sku: str | None) -> ShortDeliveryInfo:
        """P(short delivery) and its size for the next delivery of ``sku`` from ``supplier_id``."""
        r = self._resolve(supplier_id, sku)
        p, fill = self._short[r.short_row]
        return ShortDeliveryInfo(float(p), float(fill), float(1 - p * (1 - fill)), r.source)

    def short_delivery_frame(self, keys: pd.DataFrame) -> pd.DataFrame:
        """Vectorised :meth:`short_delivery`: ``p_short, fill_ratio_when_short, expected_fill_ratio, source``."""
        res = self._resolve_many(keys["supplier_id"], keys["sku"])
        rows = np.fromiter((r.short_row for r in res), dtype=np.int64, count=len(res))
        p, fill = self._short[rows, 0], self._short[rows, 1]
        return pd.DataFrame(
            {
                "p_short": p,
                "fill_ratio_when_short": fill,
                "expected_fill_ratio": 1 - p * (1 - fill),
                "source": [r.source for r in res],
            },
            index=keys.index,
        )


def _geometric(mean_days: float, max_days: int) -> np.ndarray:
    """pmf over 0..max_days of a geometric wait >= 1 day with the given mean."""
    q = 1.0 - 1.0 / max(mean_days, 1.0)
    t = np.arange(max_days + 1)
    out = (1 - q) * q ** np.maximum(t - 1, 0)
    out[0] = 0.0
    return out  # type: ignore[no-any-return]
