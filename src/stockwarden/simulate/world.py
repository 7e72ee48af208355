"""The simulated company at ``--start``: SKU-locations, demand, stock, open orders and item facts.

:func:`build_world` reads a :class:`~stockwarden.ingest.dataset.Dataset` once and returns the arrays
every policy is simulated on. Day 0 is ``start``; the state at its beginning is what was known at the
end of the day before: the on-hand position (newest count rolled forward by later sales and receipts)
and the purchase-order lines open then, which arrive when and as they really did (their
``received_date`` and ``received_qty``; a line never received stays on order).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stockwarden.domain.review import first_review_offset
from stockwarden.errors import InputError
from stockwarden.ingest.dataset import Dataset
from stockwarden.simulate.supply import DeliveryModel, realised_deliveries

KEYS = ["sku", "location_id"]
PAST_DAYS = 365
"""Days of real sales before ``start`` kept for the rules' averages (a year: what a consultant reads)."""


@dataclass(frozen=True)
class OpenLine:
    """A purchase-order line open at the start (real), with its real outcome."""

    series: int
    qty: float
    order_day: int
    arrival_day: int | None
    received_qty: float


@dataclass(frozen=True)
class World:
    """Everything fixed for one simulation: the same for every policy.

    Attributes:
        keys: (n rows) ``sku, location_id`` of the simulated SKU-locations.
        dates: the T simulated days (day 0 = start).
        demand: (n, T) demand per day.
        on_hand_start: (n,) on hand at the beginning of day 0.
        open_lines: purchase-order lines open at the start.
        past_sales: (n, P) real daily sales over the P days before the start (oldest first).
        unit_cost, price, pack_size, moq: (n,) item facts (price: mean selling price, else unit cost).
        stated_lead_time_days: (n,) item, else supplier, else default lead time.
        review_period_days: (n,) days between reviews (every policy reviews on the same days).
        review_offset_days: (n,) day of the first review (0 = the start); then every review period.
        category, supplier_id: (n,) item category and supplier.
        deliveries: the delivery model of new orders (common random numbers).
        shrink_draws: (n, T) uniforms deciding shrink (a unit lost when below the shrink rate).
        known: the dataset as known at the end of the day before the start (trimmed to
            ``history_days``), the past every simulated dataset starts from.
        real_purchase_orders: the real PO lines ordered before the start, with their real receipts
            (a simulated dataset shows a receipt only once its day has come).
        skipped: SKU-locations of the dataset without demand, left out (sku@location).
    """

    keys: pd.DataFrame
    dates: pd.DatetimeIndex
    demand: np.ndarray
    on_hand_start: np.ndarray
    open_lines: tuple[OpenLine, ...]
    past_sales: np.ndarray
    unit_cost: np.ndarray
    price: np.ndarray
    pack_size: np.ndarray
    moq: np.ndarray
    stated_lead_time_days: np.ndarray
    review_period_days: np.ndarray
    category: np.ndarray
    supplier_id: np.ndarray
    deliveries: DeliveryModel
    shrink_draws: np.ndarray
    known: Dataset
    real_purchase_orders: pd.DataFrame
    skipped: tuple[str, ...] = field(default_factory=tuple)
    review_offset_days: np.ndarray | None = None

    def review_due(self, t: int) -> np.ndarray:
        """(n,) whether day ``t`` is a review day of each SKU-location."""
        offset = 0 if self.review_offset_days is None else self.review_offset_days
        due: np.ndarray = (t >= offset) & ((t - offset) % self.review_period_days == 0)
        return due

    @property
    def n_series(self) -> int:
        """Number of SKU-locations."""
        return len(self.keys)

    @property
    def n_days(self) -> int:
        """Number of simulated days."""
        return len(self.dates)


def demand_matrix(demand: pd.DataFrame, keys: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """(n, T) demand of ``keys`` over ``dates`` from a long ``date, sku, location_id, qty`` frame (absent = 0)."""
    d = demand.loc[(demand["date"] >= dates[0]) & (demand["date"] <= dates[-1])]
    row = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[KEYS]))
    r = row.reindex(pd.MultiIndex.from_frame(d[KEYS])).to_numpy(float)
    keep = ~np.isnan(r)
    col = (d["date"].to_numpy("datetime64[D]") - dates[0].to_datetime64().astype("datetime64[D]")).astype(np.int64)
    out = np.zeros((len(keys), len(dates)))
    np.add.at(out, (r[keep].astype(np.int64), col[keep]), d["qty"].to_numpy(float)[keep])
    return out


def build_world(
    ds: Dataset,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    demand: pd.DataFrame,
    review_period_days: dict[str, int] | int = 7,
    default_lead_time_days: float = 7.0,
    history_days: int | None = 730,
    seed: int = 0,
    review_anchor: dt.date | pd.Timestamp | str | None = None,
) -> World:
    """The world of a simulation from ``start`` to ``end`` (inclusive).

    Args:
        ds: the company's dataset (its rows after the day before ``start`` are used only for the
            real outcome of the POs open at the start and for suppliers' delivery behaviour).
        start, end: first and last simulated day.
        demand: long ``date, sku, location_id, qty`` demand; the SKU-locations simulated are those of
            the dataset known before ``start`` that have demand rows.
        review_period_days: review period per category (``{"": default}`` style dict with key
            ``"*"`` as the default) or one number for all.
        default_lead_time_days: lead time when neither item nor supplier states one.
        history_days: days of sales and counts before ``start`` kept in ``known`` (None: all).
        seed: seed of the delivery and shrink draws.
        review_anchor: a review day of the rules (``orders.review_anchor_date``): reviews fall every review
            period from it, as in the daily proposals (:mod:`stockwarden.domain.review`); None: every review
            period from ``start``.

    Raises:
        InputError: when no SKU-location of the dataset has demand, or the dates are reversed.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise InputError(f"--end {end.date()} is before --start {start.date()}")
    eve = start - pd.Timedelta(days=1)
    known_all = ds.as_of(eve)
    from stockwarden.risk.position import compute_positions

    pos = compute_positions(ds, as_of=eve)
    in_demand = demand.loc[:, KEYS].drop_duplicates()
    keys = pos.loc[:, KEYS].merge(in_demand, on=KEYS, how="inner").sort_values(KEYS).reset_index(drop=True)
    missing = pos.loc[:, KEYS].merge(in_demand, on=KEYS, how="left", indicator=True)
    skipped = tuple(f"{r.sku}@{r.location_id}" for r in missing.loc[missing["_merge"] == "left_only"].itertuples())
    if keys.empty:
        raise InputError(
            f"no SKU-location of the dataset known by {eve.date()} has demand rows; check the demand file's "
            "sku and location_id values against the dataset"
        )
    dates = pd.date_range(start, end, freq="D")
    n = len(keys)
    on_hand = keys.merge(pos, on=KEYS, how="left")["on_hand"].fillna(0.0).to_numpy(float)

    items = ds.items.drop_duplicates("sku").set_index("sku")
    sku = keys["sku"]

    def item_col(name: str, default: float) -> np.ndarray:
        if name not in items.columns:
            return np.full(n, default)
        return pd.to_numeric(sku.map(items[name]), errors="coerce").fillna(default).to_numpy(float)

    unit_cost = item_col("unit_cost", np.nan)
    pack = item_col("pack_size", 1.0)
    pack[pack <= 0] = 1.0
    moq = item_col("moq", 0.0)
    category = sku.map(items["category"]).fillna("").astype(str).to_numpy() if "category" in items else np.full(n, "")

    po_all = ds.purchase_orders.sort_values("order_date", kind="stable")
    supplier = sku.map(items["supplier_id"]) if "supplier_id" in items else pd.Series(None, index=keys.index)
    last_sup = po_all.dropna(subset=["supplier_id"]).groupby(KEYS)["supplier_id"].last().rename("_s")
    supplier = supplier.fillna(keys.merge(last_sup.reset_index(), on=KEYS, how="left")["_s"])
    supplier_id = supplier.astype(object).where(supplier.notna(), None).to_numpy()
    sup_lt = ds.suppliers.drop_duplicates("supplier_id").set_index("supplier_id")["lead_time_days"]
    stated = pd.to_numeric(sku.map(items["lead_time_days"]), errors="coerce") if "lead_time_days" in items else None
    lt = stated if stated is not None else pd.Series(np.nan, index=keys.index)
    lt = lt.fillna(pd.Series(supplier_id, index=keys.index).map(sup_lt)).fillna(default_lead_time_days)

    if isinstance(review_period_days, dict):
        default_r = int(review_period_days.get("*", 7))
        review = np.array([int(review_period_days.get(c, default_r)) for c in category], dtype=np.int64)
    else:
        review = np.full(n, int(review_period_days), dtype=np.int64)
    review = np.maximum(review, 1)
    offset = np.zeros(n, dtype=np.int64) if review_anchor is None else first_review_offset(start, review, review_anchor)

    sales = known_all.sales
    past_dates = pd.date_range(start - pd.Timedelta(days=PAST_DAYS), eve, freq="D")
    pos_sales = sales.loc[sales["qty"] > 0]
    past = demand_matrix(pos_sales.loc[:, ["date", *KEYS, "qty"]], keys, past_dates)
    recent = pos_sales.loc[pos_sales["date"] > start - pd.Timedelta(days=PAST_DAYS)]
    if "price" in recent.columns and recent["price"].notna().any():
        r = recent.dropna(subset=["price"])
        value = (r["price"] * r["qty"]).groupby([r["sku"], r["location_id"]]).sum()
        units = r.groupby(KEYS)["qty"].sum()
        mean_price = (value / units).rename("p").reset_index()
        price = keys.merge(mean_price, on=KEYS, how="left")["p"].to_numpy(float)
    else:
        price = np.full(n, np.nan)
    price = np.where(np.isnan(price), unit_cost, price)

    open_lines = _open_lines(ds, keys, eve=eve, start=start, n_days=len(dates))
    rng = np.random.default_rng([int(seed), 2024])
    deliveries = DeliveryModel(
        supplier_of=tuple(None if s is None else str(s) for s in supplier_id),
        stated_lead_time_days=lt.to_numpy(float),
        histories=realised_deliveries(ds.purchase_orders),
        draws=rng.random((n, len(dates))),
        first_day=int(start.to_datetime64().astype("datetime64[D]").astype(np.int64)),
    )
    shrink = np.random.default_rng([int(seed), 7]).random((n, len(dates)))
    known = known_all
    if history_days is not None:
        cut = start - pd.Timedelta(days=int(history_days))
        from dataclasses import replace

        known = replace(
            known_all,
            sales=known_all.sales.loc[known_all.sales["date"] >= cut],
            inventory=known_all.inventory.loc[known_all.inventory["date"] >= cut],
        )
    # the real outcome of the lines open at the start is applied by the simulation, never shown early
    return World(
        keys=keys,
        dates=dates,
        demand=demand_matrix(demand, keys, dates),
        on_hand_start=on_hand,
        open_lines=open_lines,
        past_sales=past,
        unit_cost=np.nan_to_num(unit_cost),
        price=np.nan_to_num(price),
        pack_size=pack,
        moq=moq,
        stated_lead_time_days=lt.to_numpy(float),
        review_period_days=review,
        category=category,
        supplier_id=supplier_id,
        deliveries=deliveries,
        shrink_draws=shrink,
        known=known,
        real_purchase_orders=ds.purchase_orders.loc[ds.purchase_orders["order_date"] <= eve],
        skipped=skipped,
        review_offset_days=offset,
    )


def _open_lines(ds: Dataset, keys: pd.DataFrame, *, eve: pd.Timestamp, start: pd.Timestamp, n_days: int) -> tuple:
    """Lines open at the end of ``eve`` with their real receipt (day index from ``start``), if any."""
    po = ds.purchase_orders
    status = po["status"].fillna("").astype(str).str.lower()
    is_open = (po["order_date"] <= eve) & ~(po["received_date"] <= eve) & (status != "cancelled")
    po = po.loc[is_open]
    row = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[KEYS]))
    series = row.reindex(pd.MultiIndex.from_frame(po[KEYS])).to_numpy(float)
    out = []
    for s, r in zip(series, po.itertuples(index=False), strict=True):
        if np.isnan(s):
            continue
        rec = r.received_date
        day = None if pd.isna(rec) else int((pd.Timestamp(rec) - start).days)
        got = float(r.qty if pd.isna(r.received_qty) else r.received_qty)
        out.append(
            OpenLine(
                series=int(s),
                qty=float(r.qty),
                order_day=int((pd.Timestamp(r.order_date) - start).days),
                arrival_day=day if day is not None and day < n_days else None,
                received_qty=got,
            )
        )
    return tuple(out)
