"""Use-case: preview draft rules by replaying them over the company's recent past, side by side with the
rules in force.

At each of the last ``weeks`` weekly checkpoints whose outcome is known (the newest is ``outcome_days``
before the data's last day), the SKU-locations are assessed twice, with the rules in force and with the
draft, using only what was known at that checkpoint (the backtest's rule: :mod:`stockwarden.risk.backtest`).
Both sides share the demand forecast and the lead-time model when the draft leaves the forecast, run and
lead-time settings alone (they do not depend on the risk rules), so the comparison costs one forecast per
checkpoint plus two assessments; forecasts are cached per dataset and forecast settings, so a second
preview on the same data only re-assesses. The learned model is off (speed; the projection alone), and
anomalies are left out (they only add reason codes, never change a level).

A draft that changes only what turns probabilities into levels or order quantities (level thresholds,
service levels, anything outside the ``risk``, ``leadtime``, ``forecast`` and ``run`` sections) has the
same demand paths and projection as the rules in force: its levels are recomputed from the in-force
assessment's probabilities with the draft's thresholds (:func:`stockwarden.risk.levels.assign_levels`),
which costs milliseconds instead of a Monte Carlo projection. This is exact: at each checkpoint the
recomputation is first checked to give back the in-force levels from the in-force thresholds, and the
draft is assessed in full when it does not. With the in-force side cached, such a preview on data
already previewed takes seconds.

Per checkpoint and side: the SKU-locations at or above the alert level (``alerts.open_level``), how many
of them were followed by a real stockout (:func:`stockwarden.risk.backtest.realised_stockouts`: the stock
ran out within the protection interval of the rules in force, with nothing new ordered), the stockouts that
had no alert (missed), and the value covered: the sales value per day (mean daily forecast x unit cost) of
the stockouts warned, as a share of all stockouts' value.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stockwarden.config import RulesConfig
from stockwarden.domain.actor import Actor, Permission
from stockwarden.errors import InputError, NotFound
from stockwarden.services.common import require
from stockwarden.services.context import AppContext

LEVEL_RANK = {"ok": 0, "watch": 1, "warning": 2, "critical": 3}
LEVEL_ONLY_RISK = frozenset(
    {
        "thresholds",
        "thresholds_by_category",
        "service_level",
        "service_level_by_abc",
        "service_level_by_category",
        "service_measure",
        "service_allocation",
        "service_level_floor",
        "service_level_ceiling",
        "chunk_series",
        "learned_model",
    }
)
"""Settings of ``[risk]`` that change levels or order quantities but not the projection's probabilities."""
LEVEL_INPUTS = [
    "sku",
    "location_id",
    "level",
    "category",
    "stockout_probability",
    "p_before_expedite",
    "p_order_window",
    "on_hand",
    "backorders",
    "mean_daily_forecast",
]
Progress = Callable[[int, int, str], None]
"""Called with (done, total, what) as the preview advances."""


@dataclass(frozen=True, slots=True)
class WeekResult:
    """One checkpoint of one side of the preview."""

    as_of: str
    alerts: int
    new_alerts: int
    hits: int
    missed: int
    stockouts: int
    unknown: int
    value_covered: float
    value_stockouts: float


@dataclass(frozen=True, slots=True)
class SideSummary:
    """The totals of one side (rules in force, or the draft) over every checkpoint."""

    alerts: int
    alerts_per_week: float
    new_alerts: int
    hits: int
    missed: int
    stockouts: int
    precision: float | None
    recall: float | None
    value_covered: float
    value_share: float | None


@dataclass(frozen=True, slots=True)
class PreviewResult:
    """The side-by-side replay of the rules in force and the draft."""

    checkpoints: list[str]
    current: list[WeekResult]
    draft: list[WeekResult]
    current_total: SideSummary
    draft_total: SideSummary
    series: int
    seconds: float
    shared_forecast: bool
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per part (history, forecast, lead_times, assess_current, labels, assess_draft, compare)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        from dataclasses import asdict

        return asdict(self)


def _sections(rules: RulesConfig, names: tuple[str, ...]) -> str:
    dumped = rules.model_dump(mode="json")
    return json.dumps({n: dumped.get(n) for n in names}, sort_keys=True, default=str)


def preview_checkpoints(ds: Any, *, weeks: int = 13, every_days: int = 7, outcome_days: int = 28) -> list[pd.Timestamp]:
    """The checkpoints replayed: ``weeks`` of them, ``every_days`` apart, the newest ``outcome_days`` before the
    data's last sales day (so that what followed each is known).

    Raises:
        InputError: the data are too short for even one checkpoint.
    """
    if weeks < 1 or every_days < 1:
        raise InputError(f"weeks and every_days must be at least 1, got {weeks} and {every_days}")
    if not len(ds.sales):
        raise InputError("no sales imported yet: nothing to replay the rules over")
    last = pd.Timestamp(ds.sales["date"].max()).normalize()
    first = pd.Timestamp(ds.sales["date"].min()).normalize()
    end = last - pd.Timedelta(days=outcome_days)
    days = [end - pd.Timedelta(days=every_days * i) for i in range(weeks)][::-1]
    days = [d for d in days if d > first + pd.Timedelta(days=28)]
    if not days:
        raise InputError(
            f"the sales history ({first.date()} to {last.date()}) is too short to replay {weeks} weekly checkpoints"
        )
    return days


def levels_only(current: RulesConfig, draft: RulesConfig) -> bool:
    """Whether ``draft`` differs from ``current`` only in what turns probabilities into levels (see the module)."""
    if _sections(current, ("leadtime", "forecast", "run")) != _sections(draft, ("leadtime", "forecast", "run")):
        return False
    a, b = current.risk.model_dump(mode="json"), draft.risk.model_dump(mode="json")
    return all(a.get(k) == b.get(k) for k in set(a) | set(b) if k not in LEVEL_ONLY_RISK)


def relevel(frame: pd.DataFrame, rules: RulesConfig) -> np.ndarray:
    """The levels of an assessment's rows (:data:`LEVEL_INPUTS`) under the thresholds of ``rules``."""
    from stockwarden.risk.levels import assign_levels, thresholds_for

    usable = frame["on_hand"].to_numpy(float) - frame["backorders"].to_numpy(float)
    return assign_levels(
        stockout_probability=frame["stockout_probability"].to_numpy(float),
        p_before_expedite=frame["p_before_expedite"].to_numpy(float),
        is_out_of_stock=(usable <= 0) & (frame["mean_daily_forecast"].to_numpy(float) > 0),
        thresholds=thresholds_for(frame["category"], rules.risk),
        p_order_window=frame["p_order_window"].to_numpy(float),
    )


def _alerting(frame: pd.DataFrame, rules: RulesConfig) -> np.ndarray:
    floor = LEVEL_RANK[str(rules.alerts.open_level)]
    return frame["level"].map(LEVEL_RANK).fillna(0).to_numpy() >= floor  # type: ignore[no-any-return]


def _week(
    frame: pd.DataFrame, labels: pd.DataFrame, rules: RulesConfig, previous: set[tuple[str, str]], day: pd.Timestamp
) -> tuple[WeekResult, set[tuple[str, str]]]:
    alert = _alerting(frame, rules)
    keys = list(zip(frame["sku"].astype(str), frame["location_id"].astype(str), strict=True))
    now = {k for k, a in zip(keys, alert, strict=True) if a}
    m = frame[["sku", "location_id"]].assign(_alert=alert).merge(labels, on=["sku", "location_id"], how="left")
    known = m["label"].notna().to_numpy()
    label = m["label"].fillna(0).to_numpy().astype(bool) & known
    value = m["value_per_day"].fillna(0.0).to_numpy()
    hit = m["_alert"].to_numpy() & label
    result = WeekResult(
        as_of=str(day.date()),
        alerts=int(alert.sum()),
        new_alerts=len(now - previous),
        hits=int(hit.sum()),
        missed=int((label & ~m["_alert"].to_numpy()).sum()),
        stockouts=int(label.sum()),
        unknown=int((~known).sum()),
        value_covered=float(value[hit].sum()),
        value_stockouts=float(value[label].sum()),
    )
    return result, now


def _labels(ds: Any, frame: pd.DataFrame, items: pd.DataFrame | None, last_sale: pd.Timestamp) -> pd.DataFrame:
    """``sku, location_id, value_per_day, label`` (label NaN: the outcome is not known yet)."""
    from stockwarden.risk.backtest import realised_stockouts

    labelled = realised_stockouts(ds, frame, as_of=last_sale)[["sku", "location_id", "label"]]
    value = frame[["sku", "location_id", "mean_daily_forecast"]]
    if items is not None:
        value = value.merge(items, on="sku", how="left")
        value["value_per_day"] = value["mean_daily_forecast"] * value["unit_cost"].fillna(0.0)
    else:
        value = value.assign(value_per_day=value["mean_daily_forecast"])
    return value[["sku", "location_id", "value_per_day"]].merge(labelled, on=["sku", "location_id"], how="left")


def _total(weeks: list[WeekResult]) -> SideSummary:
    alerts = sum(w.alerts for w in weeks)
    hits = sum(w.hits for w in weeks)
    stockouts = sum(w.stockouts for w in weeks)
    covered = sum(w.value_covered for w in weeks)
    at_stake = sum(w.value_stockouts for w in weeks)
    return SideSummary(
        alerts=alerts,
        alerts_per_week=alerts / len(weeks) if weeks else 0.0,
        new_alerts=sum(w.new_alerts for w in weeks),
        hits=hits,
        missed=sum(w.missed for w in weeks),
        stockouts=stockouts,
        precision=hits / alerts if alerts else None,
        recall=hits / stockouts if stockouts else None,
        value_covered=covered,
        value_share=covered / at_stake if at_stake else None,
    )


def compare_rules(
    ds: Any,
    current: RulesConfig,
    draft: RulesConfig,
    *,
    weeks: int = 13,
    every_days: int = 7,
    outcome_days: int = 28,
    refit_every: int = 1,
    progress: Progress | None = None,
    cache: dict[str, Any] | None = None,
    cache_key: str = "",
    shortcut: bool = True,
    disk: Path | None = None,
) -> PreviewResult:
    """Replay ``current`` and ``draft`` over the last ``weeks`` checkpoints of ``ds`` (pure; see the module).

    Args:
        ds: the whole dataset (each checkpoint sees only what was known then).
        current, draft: the rules in force and the draft.
        weeks, every_days, outcome_days: the checkpoints (:func:`preview_checkpoints`).
        refit_every: refit the demand forecast every this many checkpoints and roll it in between.
        progress: called with (done, total, checkpoint) after each checkpoint.
        cache: a dict kept between calls (forecasts and lead-time models per checkpoint).
        cache_key: identifies the dataset in ``cache`` (e.g. the latest import batch).
        shortcut: recompute only the draft's levels when it changes nothing else (see the module); False
            assesses the draft in full (the same result, slower: for tests and benchmarks).
        disk: a folder keeping the in-force side of each checkpoint across processes and restarts
            (:func:`prepare_preview`); files of another ``cache_key`` there are ignored.
    """
    from stockwarden.forecast.history import build_demand_history
    from stockwarden.risk.assess import assess_risk
    from stockwarden.risk.backtest import roll_forecast
    from stockwarden.risk.daily import forecast_days, forecast_for, lead_times_for

    started = time.perf_counter()
    timings: dict[str, float] = {}

    def timed(part: str, since: float) -> float:
        now = time.perf_counter()
        timings[part] = timings.get(part, 0.0) + now - since
        return now

    days = preview_checkpoints(ds, weeks=weeks, every_days=every_days, outcome_days=outcome_days)
    no_learned = {"risk": {"learned_model": "never"}}
    cur = current.model_copy(update={"risk": current.risk.model_copy(update=no_learned["risk"])})
    dft = draft.model_copy(update={"risk": draft.risk.model_copy(update=no_learned["risk"])})
    fc_sections = ("forecast", "run")
    shared_fc = _sections(cur, fc_sections) == _sections(dft, fc_sections)
    shared_lt = _sections(cur, ("leadtime", "forecast")) == _sections(dft, ("leadtime", "forecast"))
    only_levels = shortcut and levels_only(cur, dft)
    relevelled = 0
    n_days = max(forecast_days(ds, cur), forecast_days(ds, dft)) + every_days * (max(refit_every, 1) - 1)
    store: dict[str, Any] = cache if cache is not None else {}
    if store.get("key") != cache_key or not cache_key:
        store.clear()
        store["key"] = cache_key

    def demand_history() -> Any:  # made once per dataset, and only when a forecast is needed
        if store.get("history") is None:
            t0 = time.perf_counter()
            store["history"] = build_demand_history(ds, as_of=days[-1])
            timed("history", t0)
        return store["history"]

    last_sale = pd.Timestamp(ds.sales["date"].max()).normalize()
    items = ds.items[["sku", "unit_cost"]].drop_duplicates("sku") if "unit_cost" in ds.items else None

    def forecast(rules: RulesConfig, i: int, day: pd.Timestamp) -> Any:
        key = f"fc|{_sections(rules, fc_sections)}|{n_days}|{refit_every}|{day.date()}"
        if key not in store:
            base_i = i - i % max(refit_every, 1)
            base_day = days[base_i]
            base_key = f"fc|{_sections(rules, fc_sections)}|{n_days}|{refit_every}|{base_day.date()}"
            if base_key not in store:
                store[base_key] = forecast_for(ds, as_of=base_day, rules=rules, history=demand_history(), days=n_days)
            store[key] = store[base_key] if base_day == day else roll_forecast(store[base_key], day)
        return store[key]

    def lead_times(rules: RulesConfig, day: pd.Timestamp) -> Any:
        key = f"lt|{_sections(rules, ('leadtime', 'forecast'))}|{day.date()}"
        if key not in store:
            store[key] = lead_times_for(ds, as_of=day, rules=rules)
        return store[key]

    sides: dict[str, list[WeekResult]] = {"current": [], "draft": []}
    previous: dict[str, set[tuple[str, str]]] = {"current": set(), "draft": set()}
    series = 0
    for i, day in enumerate(days):
        t0 = time.perf_counter()
        # the rules in force give the same frame and outcomes at every preview: kept in the cache
        cur_key = f"cur|{cur.version()}|{_sections(cur, fc_sections)}|{n_days}|{refit_every}|{day.date()}"
        if cur_key not in store and disk is not None and cache_key:
            kept_side = _load_side(disk, cache_key, cur_key)
            if kept_side is not None:
                store[cur_key] = kept_side
                t0 = timed("read_prepared", t0)
        if cur_key not in store:
            fc_cur = forecast(cur, i, day)
            t0 = timed("forecast", t0)
            lt_cur = lead_times(cur, day)
            t0 = timed("lead_times", t0)
            assessed = assess_risk(ds, as_of=day, forecast=fc_cur, lead_times=lt_cur, rules=cur)
            t0 = timed("assess_current", t0)
            kept = assessed[LEVEL_INPUTS].reset_index(drop=True)
            exact = bool((relevel(kept, cur) == kept["level"].to_numpy()).all())
            store[cur_key] = (kept, _labels(ds, assessed, items, last_sale), exact)
            t0 = timed("labels", t0)
        if disk is not None and cache_key and not _side_path(disk, cache_key, cur_key).is_file():
            _save_side(disk, cache_key, cur_key, store[cur_key])  # kept for other processes and restarts
        a_cur, labels, exact = store[cur_key]
        if only_levels and exact:
            a_dft = a_cur[["sku", "location_id"]].assign(level=relevel(a_cur, dft))
            relevelled += 1
            t0 = timed("relevel_draft", t0)
        else:
            fc_cur = forecast(cur, i, day)
            fc_dft = fc_cur if shared_fc else forecast(dft, i, day)
            t0 = timed("forecast", t0)
            lt_cur = lead_times(cur, day)
            lt_dft = lt_cur if shared_lt else lead_times(dft, day)
            t0 = timed("lead_times", t0)
            a_dft = assess_risk(ds, as_of=day, forecast=fc_dft, lead_times=lt_dft, rules=dft)
            t0 = timed("assess_draft", t0)
        series = max(series, len(a_cur))
        for name, frame, rules in (("current", a_cur, cur), ("draft", a_dft, dft)):
            week, previous[name] = _week(frame, labels, rules, previous[name], day)
            sides[name].append(week)
        timed("compare", t0)
        if progress is not None:
            progress(i + 1, len(days), str(day.date()))
    notes = []
    if not shared_fc:
        notes.append("the draft changes forecast or run settings: both sides were forecast separately")
    if relevelled:
        notes.append(
            f"the draft changes only levels or quantities: its levels were recomputed at {relevelled} checkpoints"
        )
    return PreviewResult(
        checkpoints=[str(d.date()) for d in days],
        current=sides["current"],
        draft=sides["draft"],
        current_total=_total(sides["current"]),
        draft_total=_total(sides["draft"]),
        series=series,
        seconds=time.perf_counter() - started,
        shared_forecast=shared_fc,
        notes=notes,
        timings={k: round(v, 2) for k, v in timings.items()},
    )


# --- the in-force side prepared ahead, kept on disk -------------------------------------------------


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _side_path(disk: Path, cache_key: str, cur_key: str) -> Path:
    return disk / f"{_digest(cache_key)}-{_digest(cur_key)}.side.pkl"


def _load_side(disk: Path, cache_key: str, cur_key: str) -> tuple[pd.DataFrame, pd.DataFrame, bool] | None:
    """The in-force side of one checkpoint written by an earlier preview (None when absent or unreadable)."""
    path = _side_path(disk, cache_key, cur_key)
    if not path.is_file():
        return None
    try:
        kept, labels, exact = pd.read_pickle(path)  # our own file, under the server's data folder
    except Exception:  # a torn or old file: recomputed and rewritten
        return None
    return kept, labels, bool(exact)


def _save_side(disk: Path, cache_key: str, cur_key: str, side: tuple[pd.DataFrame, pd.DataFrame, bool]) -> None:
    """Write one checkpoint's in-force side atomically (a reader never sees half a file)."""
    try:
        disk.mkdir(parents=True, exist_ok=True)
        path = _side_path(disk, cache_key, cur_key)
        tmp = path.with_suffix(f".{uuid.uuid4().hex[:6]}.tmp")
        pd.to_pickle(side, tmp)
        tmp.replace(path)
    except OSError:  # a read-only or full disk: the preview still works, only not prepared ahead
        return


def preview_cache_dir(ctx: AppContext) -> Path | None:
    """Where prepared previews are kept: ``$STOCKWARDEN_PREVIEW_DIR``, else beside a SQLite database file
    (``<file>.preview/``), else ``~/.cache/stockwarden/preview/<database>``; None for an in-memory database."""
    import os

    env = os.environ.get("STOCKWARDEN_PREVIEW_DIR")
    if env:
        return Path(env)
    url = ctx.engine.url
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        return Path(url.database).with_name(Path(url.database).name + ".preview")
    return Path.home() / ".cache" / "stockwarden" / "preview" / _digest(url.render_as_string(hide_password=True))


@dataclass(frozen=True, slots=True)
class PrepareStatus:
    """How far the preview of the rules in force is prepared for the current data and rules version.

    ``state``: ``ready`` (every checkpoint kept), ``running`` (``done`` of ``total`` so far), ``failed``
    (``error``), ``stale`` (prepared for older data or rules: a new import or rules version since), ``none``.
    """

    state: str
    done: int = 0
    total: int = 0
    seconds: float | None = None
    error: str | None = None


def _status_path(disk: Path) -> Path:
    return disk / "status.json"


def _write_status(disk: Path, **values: Any) -> None:
    try:
        disk.mkdir(parents=True, exist_ok=True)
        tmp = disk / f"status.{uuid.uuid4().hex[:6]}.tmp"
        tmp.write_text(json.dumps({**values, "updated": time.time()}))
        tmp.replace(_status_path(disk))
    except OSError:
        return


PREVIEW_DEFAULTS: dict[str, Any] = {"weeks": 13, "every_days": 7, "outcome_days": 28, "refit_every": 1}


def _prepare_key(ctx: AppContext, options: dict[str, Any]) -> str:
    from stockwarden.services.rules import current_rules

    version, _rules = current_rules(ctx)
    return f"{_dataset_key(ctx)}|{version.id}|{sorted({**PREVIEW_DEFAULTS, **options}.items())}"


def preview_status(ctx: AppContext, **options: Any) -> PrepareStatus:
    """How far :func:`prepare_preview` has come for the current data, rules version and ``options``."""
    disk = preview_cache_dir(ctx)
    if disk is None or not _status_path(disk).is_file():
        return PrepareStatus("none")
    try:
        data = json.loads(_status_path(disk).read_text())
        key = _prepare_key(ctx, options)
    except Exception:
        return PrepareStatus("none")
    if data.get("key") != key:
        return PrepareStatus("stale")
    return PrepareStatus(
        state=str(data.get("state", "none")),
        done=int(data.get("done", 0)),
        total=int(data.get("total", 0)),
        seconds=data.get("seconds"),
        error=data.get("error"),
    )


def prepare_preview(
    ctx: AppContext, *, actor: Actor | None = None, progress: Progress | None = None, **options: Any
) -> PrepareStatus:
    """Replay the rules in force over the preview's checkpoints and keep each checkpoint's side on disk, so
    that any later preview (another process, after a restart) only replays the draft: for thresholds and
    service levels, seconds. Call it when a daily run has completed (or ``stockwarden preview prepare``);
    a new import or rules version makes the prepared files stale (their key changes) and they are removed
    at the next preparation. Progress (``done`` of ``total`` checkpoints) is written to the status file that
    :func:`preview_status` reads.

    ``options``: as the rules editor passes them to :func:`preview_rules` (``weeks`` ...); they must match
    for the prepared sides to be found.
    """
    from stockwarden.domain.actor import SYSTEM_ACTOR
    from stockwarden.services.rules import current_rules, rules_to_toml

    who = actor or SYSTEM_ACTOR
    require(who, Permission.RULES_READ)
    disk = preview_cache_dir(ctx)
    key = _prepare_key(ctx, options)
    started = time.perf_counter()
    _version, rules = current_rules(ctx)
    total = int(options.get("weeks", 13))
    if disk is not None:
        prefix = _digest(_dataset_key(ctx)) + "-"
        for old in disk.glob("*.side.pkl") if disk.is_dir() else []:
            if not old.name.startswith(prefix):  # prepared for data since replaced
                old.unlink(missing_ok=True)
        _write_status(disk, key=key, state="running", done=0, total=total)

    def step(done: int, of: int, what: str) -> None:
        if disk is not None:
            _write_status(disk, key=key, state="running", done=done, total=of, current=what)
        if progress is not None:
            progress(done, of, what)

    try:
        preview_rules(ctx, rules_to_toml(rules), actor=who, progress=step, **options)
    except Exception as exc:
        if disk is not None:
            _write_status(disk, key=key, state="failed", done=0, total=total, error=str(exc).splitlines()[0])
        raise
    seconds = round(time.perf_counter() - started, 1)
    if disk is not None:
        _write_status(disk, key=key, state="ready", done=total, total=total, seconds=seconds)
    return PrepareStatus("ready", done=total, total=total, seconds=seconds)


def prepare_preview_in_background(ctx: AppContext, **options: Any) -> threading.Thread:
    """:func:`prepare_preview` in a daemon thread (the hook a completed daily run calls); errors are kept in
    the status file, never raised into the caller."""

    def work() -> None:
        try:
            prepare_preview(ctx, **options)
        except Exception:  # recorded in the status file by prepare_preview
            return

    thread = threading.Thread(target=work, name="preview-prepare", daemon=True)
    thread.start()
    return thread


@dataclass
class PreviewJob:
    """A preview running in the background: progress, then the result or the error."""

    job_id: str
    username: str
    done: int = 0
    total: int = 0
    current: str = ""
    state: str = "starting"
    result: PreviewResult | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)


def _dataset_key(ctx: AppContext) -> str:
    import sqlalchemy as sa

    with ctx.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT MAX(id), COUNT(*) FROM import_batches")).one()
    return f"{row[0]}:{row[1]}"


def preview_rules(
    ctx: AppContext,
    draft_text: str,
    *,
    actor: Actor,
    weeks: int = 13,
    every_days: int = 7,
    outcome_days: int = 28,
    refit_every: int = 1,
    progress: Progress | None = None,
) -> PreviewResult:
    """Replay the draft rules (TOML text, validated as ``services.rules`` validates) and the rules in force.

    Raises:
        FieldErrors: the draft is not valid. InputError: no data, or too little history.
    """
    from stockwarden.services.rules import current_rules, parse_rules_text
    from stockwarden.store.repo import load_dataset_from_db

    require(actor, Permission.RULES_READ)
    draft = parse_rules_text(draft_text)
    _version, current = current_rules(ctx)
    key = _dataset_key(ctx)
    cache: dict[str, Any] = ctx.cache.setdefault("rules_preview", {})
    lock: threading.Lock = ctx.cache.setdefault("rules_preview_lock", threading.Lock())
    with lock:  # one preview at a time per process (they share the cache, and the machine)
        ds = cache.get("dataset") if cache.get("key") == key else None
        if ds is None:
            ds = load_dataset_from_db(ctx.engine)
        result = compare_rules(
            ds,
            current,
            draft,
            weeks=weeks,
            every_days=every_days,
            outcome_days=outcome_days,
            refit_every=refit_every,
            progress=progress,
            cache=cache,
            cache_key=key,
            disk=preview_cache_dir(ctx),
        )
        cache["dataset"] = ds
    return result


def start_preview(ctx: AppContext, draft_text: str, *, actor: Actor, **options: Any) -> PreviewJob:
    """Start :func:`preview_rules` in a background thread; follow it with :func:`get_preview`.

    Raises:
        FieldErrors: the draft is not valid (checked before the thread starts).
    """
    from stockwarden.services.rules import parse_rules_text

    require(actor, Permission.RULES_READ)
    parse_rules_text(draft_text)
    job = PreviewJob(job_id=uuid.uuid4().hex[:12], username=actor.username)
    jobs: dict[str, PreviewJob] = ctx.cache.setdefault("preview_jobs", {})
    jobs[job.job_id] = job
    while len(jobs) > 50:
        jobs.pop(next(iter(jobs)))

    def progress(done: int, total: int, what: str) -> None:
        job.done, job.total, job.current, job.state = done, total, what, "running"

    def work() -> None:
        try:
            job.state = "running"
            job.result = preview_rules(ctx, draft_text, actor=actor, progress=progress, **options)
            job.state = "done"
        except Exception as exc:  # the job's boundary: recorded for the page, never raised into the server
            job.state, job.error = "failed", str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    threading.Thread(target=work, name=f"preview-{job.job_id}", daemon=True).start()
    return job


def warm_preview(ctx: AppContext, *, actor: Actor, **options: Any) -> bool:
    """Replay the rules in force in the background (once per dataset and rules version), so that a later
    preview of a draft finds that side in the cache and, for a draft of thresholds or service levels, only
    recomputes levels. Returns whether a warm-up was started (False: done or going already, or no data).
    """
    from stockwarden.services.rules import current_rules, rules_to_toml

    require(actor, Permission.RULES_READ)
    version, rules = current_rules(ctx)
    try:
        key = f"{_dataset_key(ctx)}|{version.id}|{sorted(options.items())}"
    except Exception:  # no import table yet: nothing to warm
        return False
    state: dict[str, Any] = ctx.cache.setdefault("rules_preview_warm", {})
    if state.get(key):
        return False
    state.clear()
    state[key] = True
    text = rules_to_toml(rules)
    disk = preview_cache_dir(ctx)
    if disk is not None and preview_status(ctx, **options).state not in ("ready", "running"):
        weeks = int({**PREVIEW_DEFAULTS, **options}["weeks"])  # the page shows "0 of 13" at once
        _write_status(disk, key=_prepare_key(ctx, options), state="running", done=0, total=weeks)

    def work() -> None:
        try:
            if preview_status(ctx, **options).state == "ready":  # prepared ahead: only read it into memory
                preview_rules(ctx, text, actor=actor, **options)
            else:
                prepare_preview(ctx, actor=actor, **options)  # progress in the status file, kept on disk
        except Exception:  # a warm-up only fills a cache; the preview itself reports any problem
            state.pop(key, None)

    threading.Thread(target=work, name="preview-warm", daemon=True).start()
    return True


def get_preview(ctx: AppContext, job_id: str, *, actor: Actor) -> PreviewJob:
    """A preview started by this user in this process.

    Raises:
        NotFound: no such preview (or another user's).
    """
    require(actor, Permission.RULES_READ)
    job: PreviewJob | None = ctx.cache.get("preview_jobs", {}).get(job_id)
    if job is None or job.username != actor.username:
        raise NotFound(f"rules preview {job_id!r} is not known to this server")
    return job


__all__ = [
    "LEVEL_ONLY_RISK",
    "PrepareStatus",
    "PreviewJob",
    "PreviewResult",
    "SideSummary",
    "WeekResult",
    "compare_rules",
    "get_preview",
    "levels_only",
    "prepare_preview",
    "prepare_preview_in_background",
    "preview_cache_dir",
    "preview_checkpoints",
    "preview_rules",
    "preview_status",
    "relevel",
    "start_preview",
    "warm_preview",
]
