"""Order proposals from a risk assessment (pure): how much to order, from whom, by when.

A periodic-review (R, s, S) policy: on a SKU-location's review day (every review period R from
``orders.review_anchor_date``, :mod:`stockwarden.domain.review`) it is topped up to its order-up-to level S
whenever its inventory position is below S; on other days it is ordered only when its position is at or
below its reorder point s (urgent: it would run short before the next review's order arrives). Then::

    position = on hand + on order - backorders (+ exported orders not yet in the data)
    need     = order-up-to - position
    lot      = max(need, EOQ)                      (when rules.orders.use_eoq)
    lot      = min(lot, max(need, cover cap))      (when rules.orders.max_cover_days)
    qty      = ceil(lot / pack) * pack, at least MOQ rounded up to a pack

with EOQ = sqrt(2 * D * S / (h * c)) (Harris 1913; D yearly demand, S ordering cost, h holding rate,
c unit cost). Lines are grouped per supplier and receiving location into draft purchase orders,
topped up to the supplier's minimum order value (``actions/budget.py``) and, with a cash budget, ranked
by the stockout cost they avoid per unit of money and cut at the budget. A SKU-location whose position
is above its reorder point (for instance thanks to open or exported orders), or on a review day at or
above its order-up-to level, gets nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re

import numpy as np
import pandas as pd

from stockwarden.actions.budget import apply_budget, top_up_to_minimum
from stockwarden.config import RulesConfig
from stockwarden.domain.order import DraftPurchaseOrder, ProposalLine, ProposalSet
from stockwarden.domain.review import is_review_day
from stockwarden.errors import InputError
from stockwarden.ingest.dataset import Dataset

ASSESSMENT_COLUMNS: tuple[str, ...] = (
    "sku",
    "location_id",
    "level",
    "stockout_probability",
    "expected_stockout_date",
    "days_of_cover",
    "on_hand",
    "on_order",
    "reorder_point",
    "order_up_to",
)
# Optional extra columns of the assessment, first name found wins.
_BACKORDER_COLS = ("backorders", "backorder_qty", "qty_backordered")
_SHORT_COLS = ("expected_short", "expected_units_short", "expected_shortage", "units_short")
_LEAD_COLS = ("lead_time_days", "stated_lead_time_days")
_DEMAND_COLS = ("mean_daily_forecast", "daily_demand", "mean_daily_demand", "demand_mean_daily")

SKIP_COVERED = "covered_by_open_orders"
SKIP_ABOVE_ROP = "above_reorder_point"
SKIP_NO_ROP = "no_reorder_point"


def compute_eoq(*, annual_demand: float, ordering_cost: float, holding_rate: float, unit_cost: float) -> float:
    """Economic order quantity sqrt(2 D S / (h c)); 0 when any input makes it undefined.

    Args:
        annual_demand: units per year (D).
        ordering_cost: money per order (S).
        holding_rate: yearly holding cost as a fraction of the unit cost (h).
        unit_cost: money per unit (c).

    Example:
        >>> round(compute_eoq(annual_demand=1000, ordering_cost=10, holding_rate=0.5, unit_cost=1), 2)
        200.0
    """
    if not (annual_demand > 0 and ordering_cost > 0 and holding_rate > 0 and unit_cost > 0):
        return 0.0
    return math.sqrt(2.0 * annual_demand * ordering_cost / (holding_rate * unit_cost))


def round_to_pack(qty: np.ndarray, pack: np.ndarray) -> np.ndarray:
    """Round quantities UP to whole packs (a tolerance absorbs float noise: 24.0000001 / 12 is 2 packs)."""
    out: np.ndarray = np.ceil(qty / pack - 1e-9) * pack
    return out


def propose_orders(
    assessment: pd.DataFrame,
    ds: Dataset,
    *,
    as_of: dt.date | pd.Timestamp | str,
    rules: RulesConfig,
    exported: pd.DataFrame | None = None,
) -> ProposalSet:
    """Propose orders: at or below the reorder point any day, below the order-up-to level on a review day.

    Args:
        assessment: the risk assessment (issue-4 columns; optional extras of ``assess_risk`` used when
            present: ``backorders``, ``expected_short``, ``lead_time_days``, ``mean_daily_forecast``,
            ``review_period_days``, ``supplier_id`` when the item names none).
        ds: the dataset the assessment was made from (items, suppliers, sales, purchase orders).
        as_of: the assessment date (the proposal date).
        rules: business rules (``rules.orders``; review period and default lead time from other sections).
        exported: orders already exported from stockwarden, in the ``purchase_orders`` layout
            (:func:`stockwarden.actions.export.exported_orders_as_pos`). Lines whose ``po_id`` is not in
            ``ds.purchase_orders`` yet count as on order, so nothing is ordered twice.

    Returns:
        The draft purchase orders, budget-cut lines and the reason every other SKU-location was skipped.

    Raises:
        InputError: when the assessment lacks a required column or repeats a SKU-location.
    """
    day = pd.Timestamp(as_of).normalize()
    missing = [c for c in ASSESSMENT_COLUMNS if c not in assessment.columns]
    if missing:
        raise InputError(f"assessment lacks column(s) {', '.join(missing)} needed for order proposals")
    dup = assessment.duplicated(["sku", "location_id"], keep=False)
    if dup.any():
        keys = assessment.loc[dup, ["sku", "location_id"]].drop_duplicates().head(3).itertuples(index=False)
        raise InputError(
            f"assessment has {int(dup.sum())} rows for repeated SKU-locations (e.g. "
            + ", ".join(f"{k.sku}@{k.location_id}" for k in keys)
            + "); expected one row per SKU-location"
        )
    o = rules.orders
    frame = _enrich(assessment, ds, day=day, rules=rules, exported=exported)
    skipped = _skips(frame)
    todo = frame.loc[frame["_trigger"] & (frame["need_qty"] > 1e-9)].copy()
    lines = _line_dates_and_value(_size_lines(todo, rules=rules), day=day)
    orders = _group(lines, day=day, rules=rules)
    orders = [top_up_to_minimum(order, rules=o, cover_caps=_cover_caps(todo, rules)) for order in orders]
    orders_kept, cut = apply_budget(orders, budget=o.budget)
    return ProposalSet(
        as_of=day.date(),
        orders=tuple(orders_kept),
        cut_lines=tuple(cut),
        skipped=skipped,
        budget=o.budget,
        rules_version=rules.version(),
    )


def _first(frame: pd.DataFrame, names: tuple[str, ...], default: float) -> pd.Series:
    for name in names:
        if name in frame.columns:
            return pd.to_numeric(frame[name], errors="coerce").astype(float)
    return pd.Series(default, index=frame.index, dtype=float)


def _enrich(
    assessment: pd.DataFrame, ds: Dataset, *, day: pd.Timestamp, rules: RulesConfig, exported: pd.DataFrame | None
) -> pd.DataFrame:
    """The assessment plus item attributes, lead time, demand, margin and the position."""
    a = assessment.reset_index(drop=True).copy()
    a["sku"] = a["sku"].astype(str)
    a["location_id"] = a["location_id"].astype(str)
    for c in ("stockout_probability", "days_of_cover", "on_hand", "on_order", "reorder_point", "order_up_to"):
        a[c] = pd.to_numeric(a[c], errors="coerce").astype(float)
    a["expected_stockout_date"] = pd.to_datetime(a["expected_stockout_date"], errors="coerce")
    a["backorders"] = _first(a, _BACKORDER_COLS, 0.0).fillna(0.0).clip(lower=0)
    items = ds.items.drop_duplicates("sku").set_index("sku")
    for col, default in (("pack_size", 1.0), ("moq", 0.0), ("unit_cost", np.nan)):
        vals = a["sku"].map(items[col]) if col in items else pd.Series(np.nan, index=a.index)
        a[col] = pd.to_numeric(vals, errors="coerce").astype(float).fillna(default)
    a.loc[a["pack_size"] <= 0, "pack_size"] = 1.0
    assessed_supplier = a["supplier_id"] if "supplier_id" in a else pd.Series(None, index=a.index, dtype=object)
    supplier = a["sku"].map(items["supplier_id"]) if "supplier_id" in items else assessed_supplier
    supplier = supplier.fillna(assessed_supplier)
    a["supplier_id"] = supplier.astype(object).where(supplier.notna(), None)
    a["lead_time_days"] = _lead_time(a, ds, rules)
    demand, price = _recent_sales(ds, day=day, window_days=rules.orders.demand_window_days)
    keys = pd.MultiIndex.from_frame(a[["sku", "location_id"]])
    daily = _first(a, _DEMAND_COLS, np.nan)
    a["daily_demand"] = daily.fillna(pd.Series(demand.reindex(keys).to_numpy(), index=a.index)).fillna(0.0)
    a["price"] = price.reindex(keys).to_numpy()
    a["exported_qty"] = _exported_open_qty(exported, ds).reindex(keys).fillna(0.0).to_numpy()
    a["inventory_position"] = a["on_hand"].fillna(0) + a["on_order"].fillna(0) - a["backorders"] + a["exported_qty"]
    review = _review_period(a, ds, rules)
    up_to = a["order_up_to"].fillna(a["reorder_point"] + a["daily_demand"] * review)
    a["order_up_to"] = up_to
    a["need_qty"] = (up_to - a["inventory_position"]).fillna(0.0)
    a["review_period_days"] = review
    a["_review_day"] = is_review_day(day, review.to_numpy(), rules.orders.review_anchor_date)
    a["_urgent"] = a["inventory_position"] <= a["reorder_point"] + 1e-9
    a["_top_up"] = a["_review_day"] & (a["inventory_position"] < up_to - 1e-9) & a["reorder_point"].notna()
    a["_trigger"] = a["_urgent"] | a["_top_up"]
    a["at_reorder_point"] = a["_urgent"]  # the explanation's reason (itertuples drops "_" names)
    a["_net_stock"] = a["on_hand"].fillna(0) - a["backorders"]
    shorts = _first(a, _SHORT_COLS, np.nan)
    a["expected_units_short"] = shorts.fillna(a["stockout_probability"].fillna(0) * a["need_qty"].clip(lower=0))
    o = rules.orders
    if o.stockout_cost_per_unit is not None:
        a["cost_per_unit_short"] = o.stockout_cost_per_unit
    else:
        margin = (a["price"] - a["unit_cost"]).where(a["price"] > a["unit_cost"])
        a["cost_per_unit_short"] = margin.fillna(o.margin_rate * a["unit_cost"]).fillna(0.0)
    return a


def _review_period(a: pd.DataFrame, ds: Dataset, rules: RulesConfig) -> pd.Series:
    """Review period per row: the assessment's, else ``orders.review_period_days``, else the risk section's
    (per item category when set)."""
    if "review_period_days" in a:
        given = pd.to_numeric(a["review_period_days"], errors="coerce").astype(float)
    else:
        given = pd.Series(np.nan, index=a.index, dtype=float)
    if rules.orders.review_period_days is not None:
        return given.fillna(float(rules.orders.review_period_days))
    r = rules.risk
    items = ds.items.drop_duplicates("sku").set_index("sku")
    if r.review_period_days_by_category and "category" in items:
        by_cat = a["sku"].map(items["category"]).map(r.review_period_days_by_category).astype(float)
        given = given.fillna(by_cat)
    return given.fillna(float(r.review_period_days))


def _lead_time(a: pd.DataFrame, ds: Dataset, rules: RulesConfig) -> pd.Series:
    """Lead time per row: the assessment's, else the item's, else the supplier's, else the default."""
    lt = _first(a, _LEAD_COLS, np.nan)
    items = ds.items.drop_duplicates("sku").set_index("sku")
    if "lead_time_days" in items:
        lt = lt.fillna(a["sku"].map(items["lead_time_days"]).astype(float))
    sup = ds.suppliers.drop_duplicates("supplier_id").set_index("supplier_id")
    if "lead_time_days" in sup and len(sup):
        lt = lt.fillna(a["supplier_id"].map(sup["lead_time_days"]).astype(float))
    return lt.fillna(rules.forecast.default_lead_time_days).clip(lower=0)


def _recent_sales(ds: Dataset, *, day: pd.Timestamp, window_days: int) -> tuple[pd.Series, pd.Series]:
    """Mean daily demand and mean selling price per (sku, location_id) over the window ending at ``day``."""
    s = ds.sales
    s = s.loc[(s["date"] <= day) & (s["date"] > day - pd.Timedelta(days=window_days))]
    if s.empty:
        empty = pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=["sku", "location_id"]))
        return empty, empty
    g = s.groupby(["sku", "location_id"])
    demand = g["qty"].sum().clip(lower=0) / float(window_days)
    price = g["price"].mean() if "price" in s else pd.Series(np.nan, index=demand.index)
    return demand, price


def _exported_open_qty(exported: pd.DataFrame | None, ds: Dataset) -> pd.Series:
    """Open exported quantity per (sku, location_id) that the dataset's own POs do not hold yet.

    Every exported line counts, whatever its order date: it is known to any run made after the export.
    """
    idx = pd.MultiIndex.from_tuples([], names=["sku", "location_id"])
    if exported is None or exported.empty:
        return pd.Series(dtype=float, index=idx)
    e = exported.loc[~exported["po_id"].astype(str).isin(set(ds.purchase_orders["po_id"].astype(str)))]
    if "received_date" in e:
        e = e.loc[pd.to_datetime(e["received_date"]).isna()]
    if e.empty:
        return pd.Series(dtype=float, index=idx)
    return e.assign(qty=pd.to_numeric(e["qty"], errors="coerce")).groupby(["sku", "location_id"])["qty"].sum()


def _skips(a: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Why each SKU-location without a line got none: no reorder point; open (or exported) orders cover
    what it would otherwise need (its own stock is at or below the reorder point, or under the order-up-to
    level on a review day); or it is above the reorder point (and, on a review day, at the order-up-to)."""
    out: dict[tuple[str, str], str] = {}
    no_rop = a["reorder_point"].isna()
    own_short = (a["_net_stock"] <= a["reorder_point"]) | (a["_review_day"] & (a["_net_stock"] < a["order_up_to"]))
    covered = ~a["_trigger"] & own_short
    covered |= a["_trigger"] & (a["need_qty"] <= 1e-9)
    for (sku, loc), flag_no, flag_cov, trig in zip(
        zip(a["sku"], a["location_id"], strict=True), no_rop, covered, a["_trigger"], strict=True
    ):
        if flag_no:
            out[(sku, loc)] = SKIP_NO_ROP
        elif flag_cov:
            out[(sku, loc)] = SKIP_COVERED
        elif not trig:
            out[(sku, loc)] = SKIP_ABOVE_ROP
    return out


def _cover_caps(a: pd.DataFrame, rules: RulesConfig) -> dict[tuple[str, str], float]:
    """Largest quantity per SKU-location allowed by the maximum cover (absent: no cap)."""
    days = rules.orders.max_cover_days
    if days is None or a.empty:
        return {}
    cap = (a["daily_demand"] * days - a["inventory_position"]).clip(lower=0)
    return dict(zip(zip(a["sku"], a["location_id"], strict=True), cap, strict=True))


def _size_lines(a: pd.DataFrame, *, rules: RulesConfig) -> pd.DataFrame:
    """Quantity and explanation per line (vectorised arithmetic, one string per line)."""
    o = rules.orders
    need = a["need_qty"].to_numpy(float)
    pack = a["pack_size"].to_numpy(float)
    moq = a["moq"].to_numpy(float)
    lot = need.copy()
    eoq = np.zeros_like(need)
    if o.use_eoq:
        eoq = np.array(
            [
                compute_eoq(
                    annual_demand=d * 365.0, ordering_cost=o.ordering_cost, holding_rate=o.holding_rate, unit_cost=c
                )
                for d, c in zip(a["daily_demand"], a["unit_cost"], strict=True)
            ]
        )
        lot = np.maximum(lot, eoq)
    cap = np.full_like(need, np.inf)
    if o.max_cover_days is not None:
        cap = np.maximum(a["daily_demand"].to_numpy(float) * o.max_cover_days - a["inventory_position"].to_numpy(), 0)
        lot = np.minimum(lot, np.maximum(need, cap))
    packed = round_to_pack(lot, pack)
    moq_packed = round_to_pack(moq, pack)
    qty = np.maximum(packed, moq_packed)
    a = a.assign(qty=qty, eoq=eoq, cover_cap=cap)
    a["explanation"] = [
        _explain(r, lot=lt, packed=pk, moq_packed=mp, rules=rules)
        for r, lt, pk, mp in zip(a.itertuples(index=False), lot, packed, moq_packed, strict=True)
    ]
    return a


def fmt_qty(x: float) -> str:
    """A quantity for explanations: whole numbers without decimals, others with up to two."""
    if x != x:
        return "?"
    if abs(x - round(x)) < 1e-9:
        return str(round(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _explain(r: object, *, lot: float, packed: float, moq_packed: float, rules: RulesConfig) -> str:
    def g(name: str) -> float:
        return float(getattr(r, name))

    pos = g("inventory_position")
    parts = [
        f"position {fmt_qty(pos)} (on hand {fmt_qty(g('on_hand'))} + on order {fmt_qty(g('on_order'))}"
        + (f" + exported {fmt_qty(g('exported_qty'))}" if g("exported_qty") else "")
        + f" − backorders {fmt_qty(g('backorders'))})"
        + (
            f" ≤ reorder point {fmt_qty(g('reorder_point'))}"
            if bool(getattr(r, "at_reorder_point", True))
            else f" < order-up-to {fmt_qty(g('order_up_to'))} at the review (every {fmt_qty(g('review_period_days'))}"
            " days)"
        ),
    ]
    need = g("need_qty")
    step = f"order-up-to {fmt_qty(g('order_up_to'))} − position {fmt_qty(pos)} = {fmt_qty(need)}"
    if rules.orders.use_eoq and g("eoq") > need:
        step += f"; EOQ {fmt_qty(g('eoq'))} (demand {fmt_qty(g('daily_demand') * 365)}/yr) is larger"
    if rules.orders.max_cover_days is not None and lot < max(need, g("eoq")) - 1e-9:
        step += f"; capped at {fmt_qty(lot)} by {fmt_qty(rules.orders.max_cover_days)} days of cover"
    step += f" → {fmt_qty(packed)} (pack {fmt_qty(g('pack_size'))})"
    parts.append(step)
    moq = g("moq")
    if moq > 0:
        if packed + 1e-9 >= moq:
            parts.append(f"MOQ {fmt_qty(moq)} ok")
        else:
            parts.append(f"raised to MOQ {fmt_qty(moq)} → {fmt_qty(moq_packed)}")
    return "; ".join(parts)


def _line_dates_and_value(a: pd.DataFrame, *, day: pd.Timestamp) -> pd.DataFrame:
    """Order-by and arrival dates, avoided stockout cost and its ratio to the money spent (vectorised).

    The order-by date is the expected stockout (else today + days of cover) minus the lead time, never
    before today; the arrival is today + the lead time rounded up to whole days.
    """
    if a.empty:
        return a.assign(
            order_by=pd.Series(dtype="datetime64[ns]"),
            arrival=pd.Series(dtype="datetime64[ns]"),
            avoided=pd.Series(dtype=float),
            per_money=pd.Series(dtype=float),
        )
    lead = pd.to_timedelta(a["lead_time_days"], unit="D")
    cover = a["days_of_cover"].where(np.isfinite(a["days_of_cover"]))
    out_date = a["expected_stockout_date"].fillna(day + pd.to_timedelta(cover, unit="D"))
    order_by = (out_date - lead).dt.normalize().clip(lower=day).fillna(day)
    arrival = day + pd.to_timedelta(np.ceil(a["lead_time_days"].to_numpy(float)), unit="D")
    avoided = np.minimum(a["expected_units_short"], a["qty"]) * a["cost_per_unit_short"]
    value = a["qty"] * a["unit_cost"]
    per_money = (avoided / value.where(value > 0)).fillna(np.inf)
    return a.assign(
        order_by=order_by,
        arrival=arrival,
        avoided=avoided,
        per_money=per_money,
        stockout_probability=a["stockout_probability"].fillna(0.0),
    )


_PLAIN_SUPPLIER = re.compile(r"[A-Za-z0-9._-]+")
_PLAIN_LOCATION = re.compile(r"[A-Za-z0-9._]+")
NO_SUPPLIER = "NOSUP"


def draft_po_id(prefix: str, day: pd.Timestamp, supplier: str | None, location: str) -> str:
    """The number of the draft PO of one (supplier, location) on ``day``: distinct pairs, distinct numbers.

    Plain ids (ASCII letters, digits, ``.``, ``_``, and ``-`` in the supplier) are written as they are,
    ``SW-20240415-SUP-1-WH1`` (the location is the part after the last ``-``); no supplier is ``NOSUP``.
    Any other pair is written readably (other characters as ``_``) followed by ``~`` and 10 hex digits of
    a SHA-256 of the exact ids, so ``WH'1`` and ``WH_1`` never share a number (``~`` never appears in a
    plain number).
    """
    sup = supplier or ""
    plain_sup = not sup or (_PLAIN_SUPPLIER.fullmatch(sup) is not None and sup != NO_SUPPLIER)
    if plain_sup and _PLAIN_LOCATION.fullmatch(location):
        return f"{prefix}-{day:%Y%m%d}-{sup or NO_SUPPLIER}-{location}"
    readable = [
        "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in x) for x in (sup, location)
    ]
    digest = hashlib.sha256(json.dumps([sup, location], ensure_ascii=False).encode("utf-8")).hexdigest()[:10]
    return f"{prefix}-{day:%Y%m%d}-{readable[0] or NO_SUPPLIER}-{readable[1]}~{digest}"


def _group(a: pd.DataFrame, *, day: pd.Timestamp, rules: RulesConfig) -> list[DraftPurchaseOrder]:
    """Lines grouped per (supplier, location) into draft POs, most at-risk lines first."""
    if a.empty:
        return []
    a = a.assign(
        _sup=a["supplier_id"].fillna(""),
        _risk=-a["stockout_probability"].fillna(0),
        _cover=a["days_of_cover"].fillna(np.inf),
    )
    a = a.sort_values(["_sup", "location_id", "_risk", "_cover", "sku"], kind="mergesort")
    orders = []
    o = rules.orders
    for (sup, loc), grp in a.groupby(["_sup", "location_id"], sort=True):
        supplier = sup or None
        po_id = draft_po_id(o.po_prefix, day, supplier, str(loc))
        lines = tuple(_line(r, po_id=po_id, line_no=i + 1) for i, r in enumerate(grp.to_dict("records")))
        min_value = o.supplier_min_order_value.get(sup, o.default_min_order_value) if supplier else 0.0
        orders.append(
            DraftPurchaseOrder(
                po_id=po_id,
                supplier_id=supplier,
                location_id=str(loc),
                order_date=day.date(),
                order_by_date=min(line.order_by_date for line in lines),
                expected_arrival_date=max(line.expected_arrival_date for line in lines),
                lines=lines,
                min_order_value=float(min_value),
            )
        )
    return orders


def _date_or_none(x: object) -> dt.date | None:
    return None if x is None or pd.isna(x) else pd.Timestamp(x).date()


def _line(r: dict[str, object], *, po_id: str, line_no: int) -> ProposalLine:
    reasons = r.get("reasons")
    reason_codes = tuple(x.strip() for x in reasons.split(";") if x.strip()) if isinstance(reasons, str) else ()
    f = {
        k: float(r[k])  # type: ignore[arg-type]
        for k in (
            "qty",
            "need_qty",
            "inventory_position",
            "on_hand",
            "on_order",
            "exported_qty",
            "backorders",
            "reorder_point",
            "order_up_to",
            "pack_size",
            "moq",
            "unit_cost",
            "lead_time_days",
            "stockout_probability",
            "expected_units_short",
            "avoided",
            "per_money",
        )
    }
    supplier = r["supplier_id"]
    return ProposalLine(
        sku=str(r["sku"]),
        location_id=str(r["location_id"]),
        supplier_id=None if supplier is None else str(supplier),
        po_id=po_id,
        line_no=line_no,
        qty=f["qty"],
        need_qty=f["need_qty"],
        inventory_position=f["inventory_position"],
        on_hand=f["on_hand"],
        on_order=f["on_order"] + f["exported_qty"],
        backorders=f["backorders"],
        reorder_point=f["reorder_point"],
        order_up_to=f["order_up_to"],
        pack_size=f["pack_size"],
        moq=f["moq"],
        unit_cost=f["unit_cost"],
        lead_time_days=f["lead_time_days"],
        stockout_probability=f["stockout_probability"],
        level=str(r["level"]),
        expected_stockout_date=_date_or_none(r["expected_stockout_date"]),
        order_by_date=_date_or_none(r["order_by"]) or dt.date.min,
        expected_arrival_date=_date_or_none(r["arrival"]) or dt.date.min,
        expected_units_short=f["expected_units_short"],
        avoided_stockout_cost=f["avoided"],
        avoided_cost_per_money=f["per_money"],
        reasons=reason_codes,
        explanation=str(r["explanation"]),
    )
