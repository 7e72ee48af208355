"""What the pages show, read from the database (read only; every change goes through the services).

The risk list, the overview and the heat map read one frame per run: every SKU-location of the latest
run with its level, probability, dates, levels (safety stock, reorder point, order-up-to), value at risk
and its live alert. The frame comes from the stored assessments of the latest run when the database
has them (table ``assessments``), otherwise from the live alerts (the SKU-locations at risk) with the
proposal lines for their stock levels. It is cached per process until the data changes (the newest
run, alert change or proposal change), and filtered, sorted and paged in memory: a page of 50 rows out
of 30,000 costs milliseconds.

Scope: rows outside the actor's locations or categories are removed before anything is counted.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from stockwarden.domain.actor import Actor
from stockwarden.domain.risk import LEVEL_RANK

LEVELS: tuple[str, ...] = ("critical", "warning", "watch", "ok")
SORTS: dict[str, tuple[list[str], list[bool]]] = {
    "urgency": (["level_rank", "stockout_probability", "expected_stockout_date"], [True, False, True]),
    "probability": (["stockout_probability", "level_rank"], [False, True]),
    "stockout_date": (["expected_stockout_date", "level_rank"], [True, True]),
    "value_at_risk": (["value_at_risk", "level_rank"], [False, True]),
}
RISK_COLUMNS: tuple[str, ...] = (
    "sku",
    "location_id",
    "name",
    "category",
    "supplier_id",
    "demand_class",
    "level",
    "stockout_probability",
    "expected_stockout_date",
    "days_of_cover",
    "on_hand",
    "on_order",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "suggested_order_qty",
    "expected_units_short",
    "unit_cost",
    "value_at_risk",
    "reasons",
    "alert_id",
    "alert_state",
    "as_of",
)


@dataclass(frozen=True, slots=True)
class RiskQuery:
    """Filters, sort and page of the risk list."""

    levels: tuple[str, ...] = ()
    location: str = ""
    category: str = ""
    supplier: str = ""
    demand_class: str = ""
    text: str = ""
    sort: str = "urgency"
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True, slots=True)
class RiskPage:
    """One page of the risk list and how many rows matched."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    source: str


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


class DataVersion(NamedTuple):
    """What the risk frame depends on, each part a row of its table's aggregates (None: table unreadable)."""

    runs: tuple[Any, ...] | None  # newest id, count, completed count
    alerts: tuple[Any, ...] | None  # newest updated_at, count
    alert_log: tuple[Any, ...] | None  # newest id
    approvals: tuple[Any, ...] | None  # newest order_approval_log id
    imports: tuple[Any, ...] | None  # newest import batch id


def data_version(engine: Engine) -> DataVersion:
    """A cheap fingerprint of what the risk frame depends on (newest run, alert and proposal change)."""
    parts: list[Any] = []
    with engine.connect() as conn:
        for sql in (
            "SELECT max(id), count(*), sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) FROM runs",
            "SELECT max(updated_at), count(*) FROM alerts",
            "SELECT max(id) FROM alert_log",
            "SELECT max(id) FROM order_approval_log",
            "SELECT max(id) FROM import_batches",
        ):
            try:
                parts.append(tuple(conn.execute(sa.text(sql)).one()))
            except sa.exc.DBAPIError:
                parts.append(None)
    return DataVersion(*parts)


@dataclass(frozen=True)
class RiskSummary:
    """The overview's counts of one scope: SKU-locations, per level, value at risk, heat map cells."""

    total: int
    counts: dict[str, int]
    value_at_risk: float
    heat: tuple[list[str], list[str], list[list[int]]]


FILTER_COLUMNS: tuple[str, ...] = ("location_id", "category", "supplier_id", "demand_class", "level")


class RiskIndex:
    """The risk frame prepared for paging: the filter columns as integer codes, one row order per sort
    (made once, on first use), the filter choices per scope. A request then costs a few boolean
    masks over 30,000 codes and the 50 rows it shows, not a copy, a sort and a string conversion of
    the whole frame (measured: ``benchmarks/web_speed.py``)."""

    def __init__(self, frame: pd.DataFrame, source: str) -> None:
        self.frame = frame
        self.source = source
        self.codes: dict[str, tuple[dict[str, int], np.ndarray, list[str]]] = {}
        for col in FILTER_COLUMNS:
            # hashed, then only the distinct values sorted (np.unique sorts every string: 27 s at a million)
            codes, uniques = pd.factorize(frame[col].astype(str).to_numpy(), sort=True)
            names = [str(u) for u in uniques]
            self.codes[col] = ({v: i for i, v in enumerate(names)}, codes.astype(np.int32), names)
        self.search = frame["search"]
        self.columns = [c for c in RISK_COLUMNS if c in frame.columns]
        self._orders: dict[str, np.ndarray] = {}
        self._choices: dict[tuple[Any, ...], dict[str, list[str]]] = {}
        self._summaries: dict[tuple[Any, ...], RiskSummary] = {}
        self._keys: pd.Index | None = None
        self._lock = threading.Lock()

    def order(self, sort: str) -> np.ndarray:
        """Row positions of the whole frame in the order of ``sort`` (stable, missing values last)."""
        with self._lock:
            if sort not in self._orders:
                keys, ascending = SORTS.get(sort, SORTS["urgency"])
                ordered = self.frame[keys].reset_index(drop=True)
                ordered = ordered.sort_values(keys, ascending=ascending, kind="stable", na_position="last")
                self._orders[sort] = ordered.index.to_numpy()
            return self._orders[sort]

    def _equals(self, col: str, value: str) -> np.ndarray:
        lookup, codes, _names = self.codes[col]
        code = lookup.get(value)
        return codes == code if code is not None else np.zeros(len(codes), dtype=bool)

    def scope_mask(self, actor: Actor) -> np.ndarray:
        """Rows inside the actor's locations and categories."""
        mask = np.ones(len(self.frame), dtype=bool)
        for col, allowed in (("location_id", actor.scope.locations), ("category", actor.scope.categories)):
            if allowed:
                lookup, codes, _names = self.codes[col]
                wanted = [lookup[v] for v in allowed if v in lookup]
                mask &= np.isin(codes, np.asarray(wanted, dtype=np.int32))
        return mask

    def mask(self, actor: Actor, q: RiskQuery) -> np.ndarray:
        """Rows in scope matching the filters of ``q`` (text last, on the rows left)."""
        mask = self.scope_mask(actor)
        if q.levels:
            lookup, codes, _names = self.codes["level"]
            mask &= np.isin(codes, np.asarray([lookup[lv] for lv in q.levels if lv in lookup], dtype=np.int32))
        for col, value in (
            ("location_id", q.location),
            ("category", q.category),
            ("supplier_id", q.supplier),
            ("demand_class", q.demand_class),
        ):
            if value:
                mask &= self._equals(col, value)
        text = q.text.strip().lower()
        if text:
            rows = np.flatnonzero(mask)
            hit = self.search.iloc[rows].str.contains(text, regex=False).to_numpy(dtype=bool)
            mask = np.zeros(len(mask), dtype=bool)
            mask[rows[hit]] = True
        return mask

    def page(self, actor: Actor, q: RiskQuery) -> RiskPage:
        """One page of the filtered, sorted list (the same rows as :func:`risk_page` on the scoped frame)."""
        mask = self.mask(actor, q)
        order = self.order(q.sort)
        matched = order[mask[order]]
        total = len(matched)
        pages = max(1, -(-total // q.per_page))
        page = min(max(1, q.page), pages)
        rows = matched[(page - 1) * q.per_page : page * q.per_page]
        chunk = self.frame.take(rows)[self.columns]  # the 50 rows, then only the columns a page shows
        return RiskPage(rows=records(chunk), total=total, page=page, pages=pages, source=self.source)

    def with_frame(self, frame: pd.DataFrame) -> RiskIndex:
        """This index over ``frame``: the same rows in the same order with other values in columns that
        no filter, sort or count reads (the live alert); codes, orders and counts are kept."""
        out = copy.copy(self)
        out.frame = frame
        out._lock = threading.Lock()
        return out

    def positions(self, skus: np.ndarray, locations: np.ndarray) -> np.ndarray:
        """The row of each (SKU, location) pair, -1 where there is none (a hash of the keys, made once)."""
        with self._lock:
            if self._keys is None:
                self._keys = pd.Index(self.frame["sku"].astype(str) + "\x1f" + self.frame["location_id"].astype(str))
            keys = self._keys
        wanted = pd.Series(skus, dtype=object).astype(str) + "\x1f" + pd.Series(locations, dtype=object).astype(str)
        return np.asarray(keys.get_indexer(wanted), dtype=np.int64)

    def find(self, sku: str, location_id: str) -> int | None:
        """The row of one SKU-location, or None: the location's code first, then the SKU among its rows
        (a string comparison over every row costs a second at a million)."""
        lookup, codes, _names = self.codes["location_id"]
        code = lookup.get(location_id)
        if code is None:
            return None
        rows = np.flatnonzero(codes == code)
        hit = rows[self.frame["sku"].to_numpy()[rows] == sku]
        return int(hit[0]) if len(hit) else None

    def summary(self, actor: Actor) -> RiskSummary:
        """What the overview counts in the actor's scope (made once per scope, as :func:`level_counts`,
        :func:`heat_map` and the value at risk give it on the scoped frame, from the integer codes)."""
        key = ("summary", tuple(sorted(actor.scope.locations or ())), tuple(sorted(actor.scope.categories or ())))
        with self._lock:
            if key in self._summaries:
                return self._summaries[key]
        mask = self.scope_mask(actor)
        lv_lookup, lv_codes, lv_names = self.codes["level"]
        per_level = np.bincount(lv_codes[mask], minlength=len(lv_names))
        counts = {lv: int(per_level[lv_lookup[lv]]) if lv in lv_lookup else 0 for lv in LEVELS}
        _c, cat_codes, cat_names = self.codes["category"]
        _l, loc_codes, loc_names = self.codes["location_id"]
        cats = sorted({cat_names[i] or "—" for i in np.unique(cat_codes[mask])})
        locs = sorted({loc_names[i] for i in np.unique(loc_codes[mask])})
        risky = [lv_lookup[lv] for lv in ("critical", "warning") if lv in lv_lookup]
        at_risk = mask & np.isin(lv_codes, np.asarray(risky, dtype=np.int32))
        pairs = np.bincount(
            cat_codes[at_risk].astype(np.int64) * len(loc_names) + loc_codes[at_risk],
            minlength=len(cat_names) * len(loc_names),
        ).reshape(len(cat_names), len(loc_names))
        cat_of = {(n or "—"): i for i, n in enumerate(cat_names)}
        loc_of = {n: i for i, n in enumerate(loc_names)}
        cells = [[li, ci, int(pairs[cat_of[c], loc_of[x]])] for ci, c in enumerate(cats) for li, x in enumerate(locs)]
        out = RiskSummary(
            total=int(mask.sum()),
            counts=counts,
            value_at_risk=float(self.frame["value_at_risk"].to_numpy()[mask].sum()) if mask.any() else 0.0,
            heat=(cats, locs, cells),
        )
        with self._lock:
            self._summaries[key] = out
        return out

    def choices(self, actor: Actor) -> dict[str, list[str]]:
        """The values offered in the filters for the actor's scope (made once per scope)."""
        key = (tuple(sorted(actor.scope.locations or ())), tuple(sorted(actor.scope.categories or ())))
        with self._lock:
            if key in self._choices:
                return self._choices[key]
        mask = self.scope_mask(actor)
        out: dict[str, list[str]] = {}
        for col in ("location_id", "category", "supplier_id", "demand_class"):
            _lookup, codes, names = self.codes[col]
            present = np.unique(codes[mask])
            out[col] = sorted(v for v in (names[i] for i in present) if v and v != "nan")
        with self._lock:
            self._choices[key] = out
        return out


class RiskCache:
    """The risk frame of the latest run, rebuilt when :func:`data_version` changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: DataVersion | None = None
        self._frame: pd.DataFrame | None = None
        self._index: RiskIndex | None = None
        self._source = ""

    def frame(self, engine: Engine) -> tuple[pd.DataFrame, str]:
        """The whole risk frame (all scopes) and where it came from (``assessments`` or ``alerts``)."""
        index = self.index(engine)
        return index.frame, index.source

    def index(self, engine: Engine) -> RiskIndex:
        """The risk frame prepared for paging (:class:`RiskIndex`), rebuilt when the data change; when only
        alerts changed (an ack, a snooze: the run, the imports are the same), only the live-alert columns
        of the stored assessments are read again (the rebuild reads every assessment of the run)."""
        version = data_version(engine)
        with self._lock:
            if self._index is None or version != self._version:
                old = self._index
                if old is not None and old.source == "assessments" and _same_run(version, self._version):
                    assert self._version is not None  # _same_run checked it
                    changed = changed_live_alerts(engine, old, since=self._version)
                    self._index = old.with_frame(changed if changed is not None else with_live_alerts(engine, old))
                else:
                    frame, source = build_risk_frame(engine)
                    self._index = RiskIndex(frame, source)
                self._frame, self._source, self._version = self._index.frame, self._index.source, version
            return self._index


def _same_run(version: DataVersion, before: DataVersion | None) -> bool:
    """Same runs and imports: only alerts or proposals moved."""
    return before is not None and version.runs == before.runs and version.imports == before.imports


def changed_live_alerts(engine: Engine, index: RiskIndex, *, since: DataVersion) -> pd.DataFrame | None:
    """The index's frame with the alerts changed since the :func:`data_version` ``since`` applied in place
    (those with a newer handling-log row or a newer ``updated_at``), or None when only a full re-read of
    the live alerts can say (alerts added, a change to another kind, no live risk alert left)."""
    if since.alerts is None or since.alert_log is None:
        return None
    (newest, count), (last_log,) = since.alerts, since.alert_log
    with engine.connect() as conn:
        now_count = conn.execute(sa.text("SELECT count(*) FROM alerts")).scalar()
        if now_count != count:
            return None
        changed = pd.read_sql_query(
            sa.text(
                "SELECT id, sku, location_id, state, kind FROM alerts WHERE updated_at >= :newest "
                "OR id IN (SELECT alert_id FROM alert_log WHERE id > :last_log) ORDER BY id"
            ),
            conn,
            params={"newest": newest, "last_log": last_log if last_log is not None else -1},
        )
    if (changed["kind"] != "stockout_risk").any():
        return None
    frame = index.frame
    alert_id = frame["alert_id"].to_numpy(dtype=float, copy=True)
    state = frame["alert_state"].to_numpy(dtype=object, copy=True)
    rows = index.positions(changed["sku"].to_numpy(), changed["location_id"].to_numpy())
    live = changed["state"].to_numpy() != "resolved"
    for row, aid, st, is_live in zip(rows, changed["id"].to_numpy(), changed["state"].to_numpy(), live, strict=True):
        if row < 0:
            continue
        if is_live:
            alert_id[row], state[row] = float(aid), st
        elif alert_id[row] == aid:  # this row's alert was resolved: no live alert left on it
            alert_id[row], state[row] = np.nan, np.nan
    if np.isnan(alert_id).all():
        return None  # without a live risk alert the list falls back to alerts of other kinds
    out = frame.copy(deep=False)
    out["alert_id"], out["alert_state"] = alert_id, state
    return out


def with_live_alerts(engine: Engine, index: RiskIndex) -> pd.DataFrame:
    """The index's frame (from stored assessments) with its ``alert_id`` / ``alert_state`` read again, rows
    in place: the live alerts are placed by key (a join of a million rows on two text keys takes seconds)."""
    frame = index.frame
    alerts = _live_alerts(engine) if "alerts" in _tables(engine) else pd.DataFrame()
    out = frame.copy(deep=False)
    if alerts.empty:
        out["alert_id"], out["alert_state"] = np.nan, np.nan
        return out
    rows = index.positions(alerts["sku"].to_numpy(), alerts["location_id"].to_numpy())
    placed = alerts.loc[rows >= 0, ["alert_id", "alert_state"]].set_axis(rows[rows >= 0], axis=0)
    placed = placed.reindex(pd.RangeIndex(len(frame)))  # rows without a live alert: missing, as a left join
    out["alert_id"], out["alert_state"] = placed["alert_id"].to_numpy(), placed["alert_state"].to_numpy()
    return out


def _read(engine: Engine, sql: str, **params: Any) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql_query(sa.text(sql), conn, params=params)


def build_risk_frame(engine: Engine) -> tuple[pd.DataFrame, str]:
    """Every SKU-location of the latest run (see the module docstring) with :data:`RISK_COLUMNS`."""
    tables = _tables(engine)
    if "assessments" in tables:
        frame = _from_assessments(engine)
        source = "assessments"
    else:
        frame = _from_alerts(engine)
        source = "alerts"
    items = (
        _read(engine, "SELECT sku, name, category, supplier_id, unit_cost FROM items") if "items" in tables else None
    )
    if items is not None and not items.empty:
        items = items.drop_duplicates("sku", keep="last")
        frame = frame.drop(columns=[c for c in ("name", "category", "supplier_id", "unit_cost") if c in frame]).merge(
            items, on="sku", how="left"
        )
    alerts = _live_alerts(engine) if "alerts" in tables else pd.DataFrame(columns=["sku", "location_id"])
    if not alerts.empty and source == "assessments":
        frame = frame.drop(columns=[c for c in ("alert_id", "alert_state") if c in frame]).merge(
            alerts[["sku", "location_id", "alert_id", "alert_state"]], on=["sku", "location_id"], how="left"
        )
    for col in RISK_COLUMNS:
        if col not in frame:
            frame[col] = np.nan if col not in ("reasons", "name", "category", "supplier_id", "demand_class") else ""
    frame["expected_stockout_date"] = pd.to_datetime(frame["expected_stockout_date"], errors="coerce")
    for col in ("stockout_probability", "expected_units_short", "unit_cost", "days_of_cover"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    short = frame["expected_units_short"].fillna(0.0)
    frame["value_at_risk"] = short * frame["unit_cost"].fillna(0.0)
    frame["level_rank"] = frame["level"].map(LEVEL_RANK).fillna(9).astype(int)
    for col in ("name", "category", "supplier_id", "demand_class", "reasons"):
        frame[col] = frame[col].fillna("").astype(str)
    frame["search"] = (
        frame["sku"].astype(str) + " " + frame["name"] + " " + frame["location_id"].astype(str)
    ).str.lower()
    frame = frame.sort_values(["level_rank", "stockout_probability"], ascending=[True, False], kind="stable")
    return frame.reset_index(drop=True), source


LATEST_COMPLETED_RUN = (
    "SELECT max(r.id) FROM runs r WHERE r.status = 'completed' "
    "AND EXISTS (SELECT 1 FROM assessments a WHERE a.run_id = r.id)"
)
"""The run readers see (as ``store.assessment_repo.latest_assessed_run``): a run in progress, or one that
failed after writing its assessments, stays invisible."""


ASSESSMENT_READ: tuple[str, ...] = (
    *(c for c in RISK_COLUMNS if c not in ("name", "unit_cost", "value_at_risk", "alert_id", "alert_state")),
    "reason_details",
)
"""What the pages show of a stored assessment (``expected_units_short`` is stored as ``expected_short``): a
run's forty-odd columns read for a million rows would double the time of every rebuild."""


def _from_assessments(engine: Engine) -> pd.DataFrame:
    columns = ", ".join("expected_short" if c == "expected_units_short" else c for c in ASSESSMENT_READ)
    frame = _read(engine, f"SELECT {columns} FROM assessments WHERE run_id = ({LATEST_COMPLETED_RUN})")
    return frame.rename(columns={"expected_short": "expected_units_short"})


def _live_alerts(engine: Engine) -> pd.DataFrame:
    frame = _read(
        engine,
        "SELECT id AS alert_id, sku, location_id, level, state AS alert_state, stockout_probability, "
        "expected_stockout_date, reasons, days_of_cover, suggested_order_qty, category, last_as_of AS as_of "
        "FROM alerts WHERE state <> 'resolved' AND kind = 'stockout_risk'",
    )
    if frame.empty:
        frame = _read(
            engine,
            "SELECT id AS alert_id, sku, location_id, level, state AS alert_state, stockout_probability, "
            "expected_stockout_date, reasons, days_of_cover, suggested_order_qty, category, last_as_of AS as_of "
            "FROM alerts WHERE state <> 'resolved'",
        )
    return frame.drop_duplicates(["sku", "location_id"], keep="first")


def _from_alerts(engine: Engine) -> pd.DataFrame:
    frame = _live_alerts(engine)
    lines = _read(
        engine,
        "SELECT sku, location_id, on_hand, on_order, reorder_point, order_up_to, expected_units_short "
        "FROM order_proposal_lines ORDER BY id",
    ).drop_duplicates(["sku", "location_id"], keep="last")
    return frame.merge(lines, on=["sku", "location_id"], how="left")


def in_scope(frame: pd.DataFrame, actor: Actor) -> pd.DataFrame:
    """Rows inside the actor's locations and categories."""
    scope = actor.scope
    mask = np.ones(len(frame), dtype=bool)
    if scope.locations:
        mask &= frame["location_id"].astype(str).isin(scope.locations).to_numpy()
    if scope.categories:
        mask &= frame["category"].astype(str).isin(scope.categories).to_numpy()
    return frame[mask] if not mask.all() else frame


def filter_risk(frame: pd.DataFrame, q: RiskQuery) -> pd.DataFrame:
    """Rows matching the filters, sorted as asked."""
    mask = np.ones(len(frame), dtype=bool)
    if q.levels:
        mask &= frame["level"].isin(q.levels).to_numpy()
    for col, value in (
        ("location_id", q.location),
        ("category", q.category),
        ("supplier_id", q.supplier),
        ("demand_class", q.demand_class),
    ):
        if value:
            mask &= (frame[col].astype(str) == value).to_numpy()
    if q.text.strip():
        mask &= frame["search"].str.contains(q.text.strip().lower(), regex=False).to_numpy()
    out = frame[mask]
    keys, ascending = SORTS.get(q.sort, SORTS["urgency"])
    return out.sort_values(keys, ascending=ascending, kind="stable", na_position="last")


def risk_page(frame: pd.DataFrame, q: RiskQuery, source: str) -> RiskPage:
    """One page of the filtered, sorted list."""
    matched = filter_risk(frame, q)
    total = len(matched)
    pages = max(1, -(-total // q.per_page))
    page = min(max(1, q.page), pages)
    chunk = matched.iloc[(page - 1) * q.per_page : page * q.per_page]
    return RiskPage(rows=records(chunk), total=total, page=page, pages=pages, source=source)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN/NaT as None and timestamps as dates."""
    out: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                clean[key] = None if pd.isna(value) else value.date()
            elif (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
                clean[key] = None
            else:
                clean[key] = value
        out.append(clean)
    return out


def choices(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The values offered in the filters (locations, categories, suppliers, demand classes)."""
    out: dict[str, list[str]] = {}
    for col in ("location_id", "category", "supplier_id", "demand_class"):
        values = frame[col].dropna().astype(str)
        out[col] = sorted(v for v in values.unique() if v)
    return out


def level_counts(frame: pd.DataFrame) -> dict[str, int]:
    """SKU-locations per level (every level present, zero when none)."""
    counts = frame["level"].value_counts()
    return {lv: int(counts.get(lv, 0)) for lv in LEVELS}


def heat_map(frame: pd.DataFrame) -> tuple[list[str], list[str], list[list[int]]]:
    """Category x location counts of SKU-locations at warning or critical: (categories, locations, cells)."""
    at_risk = frame[frame["level"].isin(["critical", "warning"])]
    cats = sorted({str(c) or "—" for c in frame["category"].unique()})
    locs = sorted({str(x) for x in frame["location_id"].unique()})
    counts = at_risk.assign(category=at_risk["category"].replace("", "—")).groupby(["category", "location_id"]).size()
    cells = [[li, ci, int(counts.get((c, loc), 0))] for ci, c in enumerate(cats) for li, loc in enumerate(locs)]
    return cats, locs, cells


def alert_ages(engine: Engine, actor: Actor, *, now: dt.datetime) -> dict[str, int]:
    """Open (not resolved) alerts by age since opened: under 1 day, 1-7, 8-30, over 30 days."""
    frame = _read(engine, "SELECT location_id, category, opened_at FROM alerts WHERE state <> 'resolved'")
    frame = in_scope(frame.assign(category=frame["category"].fillna("")), actor)
    opened = pd.to_datetime(frame["opened_at"], utc=True, errors="coerce")
    age = (pd.Timestamp(now).tz_convert("UTC") - opened).dt.total_seconds() / 86400.0
    bins = {"lt1": age < 1, "d1_7": (age >= 1) & (age <= 7), "d8_30": (age > 7) & (age <= 30), "gt30": age > 30}
    return {k: int(v.sum()) for k, v in bins.items()}


def overdue_pos(engine: Engine, actor: Actor, *, as_of: dt.date) -> pd.DataFrame:
    """Open PO lines past their promised date as of ``as_of``: po, sku, location, supplier, days late."""
    frame = _read(
        engine,
        "SELECT po_id, sku, location_id, supplier_id, qty, promised_date, status FROM purchase_orders "
        "WHERE received_date IS NULL AND promised_date IS NOT NULL AND promised_date < :d "
        "AND (status IS NULL OR lower(status) NOT IN ('cancelled', 'canceled', 'closed', 'received'))",
        d=as_of,
    )
    if frame.empty:
        return frame.assign(days_late=pd.Series(dtype=int), category="")
    frame["category"] = ""
    frame = in_scope(frame, actor) if actor.scope.locations else frame
    frame["days_late"] = (pd.Timestamp(as_of) - pd.to_datetime(frame["promised_date"])).dt.days
    return frame.sort_values("days_late", ascending=False)


def latest_as_of(engine: Engine) -> dt.date | None:
    """The as-of date of the newest completed run (None before the first run)."""
    with engine.connect() as conn:
        try:
            value = conn.execute(sa.text("SELECT max(as_of) FROM runs WHERE status = 'completed'")).scalar()
        except sa.exc.DBAPIError:
            return None
    if value is None:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


__all__ = [
    "LEVELS",
    "RISK_COLUMNS",
    "SORTS",
    "RiskCache",
    "RiskPage",
    "RiskQuery",
    "RiskSummary",
    "alert_ages",
    "build_risk_frame",
    "choices",
    "filter_risk",
    "heat_map",
    "in_scope",
    "latest_as_of",
    "level_counts",
    "overdue_pos",
    "records",
    "risk_page",
]
