"""Configuration: infrastructure settings (environment) and business rules (rules.toml).

* :class:`Settings` holds infrastructure only: the database URL, the execution backend.
  Read from ``STOCKWARDEN_*`` environment variables; command-line options override them.
* :class:`RulesConfig` holds business rules (service levels, review periods, thresholds, ...), one
  section per pipeline step, parsed from ``rules.toml`` with unknown keys refused. Its
  :meth:`RulesConfig.version` hash is stored with every run so results can be reproduced.

Each section is owned by the step that uses it; every field has a default and a description
(a test fails on an undocumented one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from stockwarden.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///stockwarden.db"

# Bounds of values that also appear nested (per category, per ABC class, per supplier, per role): a nested
# value gets exactly the bounds of its top-level twin, so `{ parts = 1.5 }` is refused like `1.5` is.
ServiceLevel = Annotated[float, Field(gt=0, lt=1)]
Days = Annotated[int, Field(ge=0)]
Money = Annotated[float, Field(ge=0)]


class Settings(BaseSettings):
    """Infrastructure settings, from the environment (``STOCKWARDEN_DATABASE_URL``, ...)."""

    model_config = SettingsConfigDict(env_prefix="STOCKWARDEN_", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the database")
    exec_backend: str = Field(
        "local",
        description="where the daily run's partitions run: local (this machine) or dask (a Dask cluster); "
        "checked where it is used, with a one-line error naming the choices",
    )
    dask_scheduler: str | None = Field(
        None,
        description="Dask scheduler address (tcp://host:8786) for the dask backend; unset: start a local cluster",
    )
    secret_key: str | None = Field(
        None,
        description="key that signs browser-session cookies (unset: a random key generated once, kept in the database)",
    )
    max_upload_bytes: int = Field(
        200 * 1024 * 1024, gt=0, description="largest accepted upload (API imports), in bytes; larger answers 413"
    )
    max_unzipped_bytes: int = Field(
        2 * 1024 * 1024 * 1024, gt=0, description="largest total size a zip upload may inflate to, in bytes"
    )
    session_hours: float = Field(12.0, gt=0, description="lifetime of a browser session (sign-in), in hours")
    cookie_secure: bool = Field(
        False, description="mark the session cookie Secure (set it when the server is behind HTTPS)"
    )
    run_nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU priority the daily run (`stockwarden run`, `schedule`) lowers itself to (Unix nice: "
        "0 = unchanged, 19 = lowest), so people using the web app and the API during a run stay served first",
    )
    partition_above: int = Field(
        20_000,
        ge=0,
        description="a daily run of a company with more SKU-locations than this (SKUs x locations) runs in "
        "partitions of about 10,000 even without --partitions, so its memory stays bounded (0: only when asked)",
    )
    list_index_max_rows: int = Field(
        2_000_000,
        ge=0,
        description="largest run whose assessments each server process indexes in memory for the lists "
        "(about 700 bytes a row: 0.7 GB at a million); a larger run's lists are answered by SQL in the same "
        "order (0: always SQL)",
    )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthRules(_Section):
    """Data-health checks run after every import."""

    stale_count_days: int = Field(14, ge=0, description="warn when the newest stock count is older than this")
    overdue_po_days: int = Field(14, ge=0, description="warn when a PO is open this many days past its promise")
    stale_feed_days: int = Field(
        7, ge=0, description="warn when a location's newest sales lag the as-of date by more than this"
    )
    stale_po_feed_days: int = Field(
        45, ge=0, description="warn when no purchase order was placed or received for this many days"
    )


class IngestRules(_Section):
    """How dataset files are read: input limits (checked before parsing) and the default number/date forms.

    The limits bound the work a file can cause (a file arriving over HTTP must not hang the reader): a
    file over a limit is refused at once with a message naming the limit and where it was exceeded.
    """

    max_file_bytes: int = Field(
        2 * 1024**3, ge=1, description="largest table file accepted, in bytes (after gzip decompression)"
    )
    max_line_bytes: int = Field(1024**2, ge=64, description="longest line of a CSV file accepted, in bytes")
    max_columns: int = Field(256, ge=1, description="most columns a table file's header may have")
    max_fields_per_row: int = Field(
        1024, ge=1, description="most separated fields a CSV line may hold (a line past it refuses the file)"
    )
    date_order: Literal["ymd", "dmy", "mdy"] = Field(
        "ymd",
        description="order of day and month in dates that do not start with the year: ymd (default) accepts "
        "year-first forms only and rejects 05.03.2024 as ambiguous; dmy reads it as 5 March, mdy as May 3",
    )
    decimal_comma: bool = Field(
        False, description="read 1,5 as 1.5 and 1.234,5 as 1234.5 (a comma is then never a thousands separator)"
    )


class ForecastRules(_Section):
    """Demand forecasting."""

    horizon_days: int = Field(
        56,
        ge=1,
        le=3660,
        description="days forecast ahead (at least the longest protection interval); levels never depend on it",
    )
    history_days: int | None = Field(
        365,
        ge=28,
        description="days of demand history each forecast reads (None: all); the same for run, assess and backtest",
    )
    default_lead_time_days: float = Field(14.0, ge=0, description="lead time used when nothing else is known")


class LeadTimeRules(_Section):
    """Lead-time model estimated from purchase-order history (owner: forecast/leadtime.py)."""

    min_pos_supplier: int = Field(3, ge=1, description="received POs needed to use a supplier's own history")
    min_pos_supplier_sku: int = Field(8, ge=1, description="received POs needed for a supplier x SKU estimate")
    prior_strength_pos: float = Field(
        5.0, ge=0, description="weight, in POs, of the broader estimate a thin history is shrunk toward"
    )
    half_life_days: float = Field(
        90.0, gt=0, description="age at which a delivery counts half as much as one received today"
    )
    default_lead_time_days: float = Field(14.0, ge=0, description="lead time used when nothing else is known")
    fallback_cv: float = Field(0.3, ge=0, description="relative spread of a nominal (fallback) lead time")
    max_days: int = Field(120, ge=1, description="longest lead time / arrival delay represented, in days")
    late_tail_mass: float = Field(
        0.02, ge=0, lt=1, description="probability kept for a delivery later than anything seen so far"
    )
    late_tail_mean_days: float = Field(
        7.0, gt=0, description="mean extra wait of a PO later than anything seen (memoryless tail)"
    )
    adapt_to_shifts: bool = Field(
        True,
        description="detect change points in each supplier's delays (CUSUM per delivery) and move older "
        "deliveries by the estimated shift into the current regime",
    )
    shift_threshold: float = Field(
        6.0,
        gt=0,
        description="CUSUM alarm level (normal scores of the supplier's delays, reference value 0.5) for a change",
    )
    shift_min_days: float = Field(
        2.0, gt=0, description="smallest estimated shift in a supplier's delay that is adapted to, in days"
    )
    shift_baseline_deliveries: int = Field(
        10, ge=2, description="deliveries of a regime needed before it is tested for a change"
    )


class RiskThresholds(_Section):
    """Probability thresholds that turn a stockout probability into a level (one set per category).

    ``order_now_probability`` is a break-even probability: a warning asks a planner to review and
    order now, which costs about one review (c_review); it pays when it averts a stockout that an
    order placed today can still prevent (c_stockout). Warn when P(that stockout) * c_stockout >=
    c_review, i.e. P >= c_review / c_stockout; the default 1/3 says a preventable stockout costs
    about three needless reviews.
    """

    critical_probability: float = Field(
        0.5, ge=0, le=1, description="critical when P(stockout before an expedited order could arrive) reaches this"
    )
    warning_probability: float = Field(
        0.5,
        ge=0,
        le=1,
        description="warning when P(stockout within the protection interval) reaches this (a stockout is likely); "
        "an item already out of stock is critical from this probability on",
    )
    order_now_probability: float = Field(
        1 / 3,
        ge=0,
        le=1,
        description="warning ('order now or it is too late') when P(first stockout in the window an order placed "
        "today can still prevent: lead time .. lead time + review period) reaches this; break-even "
        "c_review / c_stockout (1/3: a preventable stockout costs about three needless reviews)",
    )
    watch_probability: float = Field(
        0.2, ge=0, le=1, description="watch when P(stockout within the protection interval) reaches this"
    )


class RiskRules(_Section):
    """Stockout risk assessment (risk/): protection interval, service levels, levels and reasons."""

    review_period_days: int = Field(7, ge=0, description="days between order reviews (added to the lead time)")
    review_period_days_by_category: dict[str, Days] = Field(
        default_factory=dict, description="review period per item category (overrides review_period_days)"
    )
    expedite_lead_time_days: float = Field(
        2.0, ge=0, description="days an expedited (rush) order needs to arrive; risk inside it is critical"
    )
    n_paths: int = Field(250, ge=20, description="Monte Carlo sample paths of demand and arrivals per SKU-location")
    seed: int = Field(0, description="random seed of the Monte Carlo projection")
    chunk_series: int = Field(1000, ge=1, description="SKU-locations simulated at once (bounds memory)")
    service_measure: Literal["cycle", "fill_rate"] = Field(
        "cycle", description="cycle: P(no stockout per cycle); fill_rate: share of demand served from stock"
    )
    service_level: float = Field(
        0.95, gt=0, lt=1, description="target service level when no class or category sets one"
    )
    service_level_by_abc: dict[str, ServiceLevel] = Field(
        default_factory=lambda: {"A": 0.98, "B": 0.95, "C": 0.90},
        description="target service level per ABC class (value share of the forecast's .series abc column)",
    )
    service_level_by_category: dict[str, ServiceLevel] = Field(
        default_factory=dict, description="target service level per item category (overrides the ABC class)"
    )
    service_allocation: Literal["flat", "stockout_days", "lost_sales"] = Field(
        "flat",
        description=(
            "flat: every SKU-location gets its class/category level; stockout_days or lost_sales: each "
            "category's target (its expected shortage at those levels) is kept, spread over its SKU-locations "
            "so that the last unit of inventory value buys the same stockout days (or lost sales value) "
            "everywhere (risk.allocation; cycle service only)"
        ),
    )
    independent_lead_times: bool = Field(
        True,
        description=(
            "true: every order's lead time is its own draw, so a later order may overtake a late one and the "
            "order-up-to level covers the demand still waiting for outstanding orders at the worst phase of the "
            "review cycle; false: one lead time for the whole lead time + review period (cycle service only)"
        ),
    )
    service_level_floor: float = Field(
        0.5, gt=0, lt=1, description="lowest level service_allocation may give a SKU-location"
    )
    service_level_ceiling: float = Field(
        0.999, gt=0, lt=1, description="highest level service_allocation may give a SKU-location"
    )
    thresholds: RiskThresholds = Field(default_factory=RiskThresholds, description="level thresholds (default)")
    thresholds_by_category: dict[str, RiskThresholds] = Field(
        default_factory=dict, description="level thresholds per item category"
    )
    stale_count_days: int = Field(14, ge=0, description="reason stale_count when the newest count is older than this")
    demand_surge_ratio: float = Field(
        1.5, gt=1, description="reason demand_surge when the forecast exceeds recent sales by this factor"
    )
    forecast_uncertain_cv: float = Field(
        1.0, gt=0, description="reason forecast_uncertain when the protection-interval demand CV exceeds this"
    )
    short_delivery_probability: float = Field(
        0.2, ge=0, le=1, description="reason short_delivery_risk when an open PO is short this often"
    )
    learned_model: Literal["auto", "never", "always"] = Field(
        "auto", description="learned classifier: use where it wins in backtest (auto), never, or always"
    )

    @model_validator(mode="after")
    def _allocation_is_consistent(self) -> RiskRules:
        if self.service_level_floor >= self.service_level_ceiling:
            raise ValueError(
                f"service_level_floor ({self.service_level_floor}) must be below service_level_ceiling "
                f"({self.service_level_ceiling})"
            )
        if self.service_allocation != "flat" and self.service_measure != "cycle":
            raise ValueError(
                f"service_allocation = {self.service_allocation!r} spreads cycle service levels; it needs "
                f'service_measure = "cycle" (got {self.service_measure!r}); set service_allocation = "flat" '
                "to keep a fill-rate target"
            )
        return self


class AlertRules(_Section):
    """Alert lifecycle: when an alert opens, when it clears (hysteresis), when it escalates."""

    open_level: Literal["watch", "warning", "critical"] = Field(
        "warning", description="lowest assessed level that opens an alert"
    )
    clear_after_runs: int = Field(
        2, ge=1, description="auto-resolve after this many consecutive runs below open_level (hysteresis)"
    )
    clear_probability: float = Field(
        0.05, ge=0, le=1, description="auto-resolve at once when below open_level and P(stockout) is under this"
    )
    escalate_after_hours: float = Field(
        24.0, gt=0, description="escalate a critical alert left unacknowledged this long"
    )


ChannelLevel = Literal["critical", "warning", "watch"]
_DEFAULT_CHANNEL_LEVELS: tuple[ChannelLevel, ...] = ("critical", "warning")


class NotifyChannel(_Section):
    """One notification channel (``[[notify.channels]]``): an apprise URL plus routing filters."""

    name: str = Field(description="channel name, shown in the outbox and logs")
    url: str = Field(description="any apprise URL (mailto://, wecombot://, dingtalk://, feishu://, json://, file://)")
    levels: list[ChannelLevel] = Field(
        default_factory=lambda: list(_DEFAULT_CHANNEL_LEVELS), description="alert levels this channel hears about"
    )
    categories: list[str] = Field(default_factory=list, description="item categories (empty: all)")
    locations: list[str] = Field(default_factory=list, description="location ids (empty: all)")
    roles: list[str] = Field(
        default_factory=list, description="roles (planner, buyer, store_manager, supplier_manager; empty: all)"
    )
    language: Literal["zh", "en"] = Field("en", description="language of the messages")
    immediate_critical: bool = Field(True, description="send new critical alerts at once, not only in the digest")
    quiet_hours: str | None = Field(
        None, description="HH:MM-HH:MM local time when digests are held (overrides notify.quiet_hours)"
    )


def _default_channels() -> list[NotifyChannel]:
    return [NotifyChannel(name="local-file", url="file://stockwarden-notifications.log")]


class NotifyRules(_Section):
    """Notifications: channels, quiet hours and outbox retries (not part of the rules hash)."""

    channels: list[NotifyChannel] = Field(
        default_factory=_default_channels, description="where messages go; default: a local file channel"
    )
    web_base_url: str | None = Field(None, description="base URL of the web UI; adds a link to every alert")
    quiet_hours: str | None = Field(None, description="HH:MM-HH:MM local time when digests are held")
    timezone: str = Field("UTC", description="IANA time zone of quiet hours and the schedule")
    max_attempts: int = Field(8, ge=1, description="delivery attempts before a message is parked as dead")
    retry_base_seconds: float = Field(60.0, gt=0, description="first retry delay; doubles on every failure")
    retry_max_seconds: float = Field(6 * 3600.0, gt=0, description="longest delay between retries")
    sending_lease_seconds: float = Field(
        300.0, gt=0, description="a message left 'sending' this long (a crash) is retried"
    )
    digest_max_alerts: int = Field(50, ge=1, description="alerts listed in one digest (the rest are counted)")
    immediate_max_per_run: int = Field(
        10, ge=0, description="immediate messages per channel and run; further ones are left to the digest"
    )


class RunRules(_Section):
    """The daily run (``stockwarden run``) and its schedule (``stockwarden schedule``)."""

    daily_at: str = Field("06:00", description="HH:MM local time (notify.timezone) of the scheduled daily run")
    seed: int = Field(0, description="random seed of forecasts and simulations")
    forecast_mode: Literal["auto", "fast", "stats"] = Field(
        "stats",
        description="forecast mode of run, assess and backtest (stats: the mode the warning quality is measured in)",
    )


class OrderRules(_Section):
    """Order proposals, approval limits and export (actions/)."""

    review_period_days: int | None = Field(
        None, ge=0, description="days until the next order review (None: the risk section's review period)"
    )
    review_anchor_date: dt.date = Field(
        dt.date(2024, 1, 1),
        description="a review day: reviews fall every review period from it (default Monday 2024-01-01: weekly "
        "reviews on Mondays); on a review day a SKU-location below its order-up-to level is topped up, on other "
        "days it is ordered only at or below its reorder point",
    )
    use_eoq: bool = Field(False, description="order at least the economic order quantity (EOQ) when it is larger")
    ordering_cost: float = Field(50.0, ge=0, description="fixed cost of placing one order line, for the EOQ")
    holding_rate: float = Field(
        0.25, gt=0, description="yearly holding cost as a fraction of the unit cost, for the EOQ"
    )
    demand_window_days: int = Field(
        90, ge=7, description="days of recent sales used for the daily demand (EOQ, cover cap) when not assessed"
    )
    max_cover_days: float | None = Field(
        None, gt=0, description="cap on days of demand an order may bring the position to (None: no cap)"
    )
    supplier_min_order_value: dict[str, Money] = Field(
        default_factory=dict, description="minimum order value per supplier id (orders below are topped up)"
    )
    default_min_order_value: float = Field(0.0, ge=0, description="minimum order value of other suppliers (0: none)")
    budget: float | None = Field(
        None, ge=0, description="cash budget for one proposal run; lines ranked by avoided stockout cost per money"
    )
    stockout_cost_per_unit: float | None = Field(
        None, ge=0, description="cost of one unit short (None: the margin from sales prices, else margin_rate)"
    )
    margin_rate: float = Field(0.3, ge=0, description="margin as a fraction of unit cost when no sales price is known")
    auto_approve_max_value: float = Field(
        0.0, ge=0, description="draft lines worth at most this are approved automatically (0: off)"
    )
    approver_roles: dict[str, Money] = Field(
        default_factory=lambda: {"buyer": 5000.0, "manager": 50000.0, "director": 1e12},
        description="role -> largest line value that role may approve",
    )
    po_prefix: str = Field("SW", min_length=1, description="prefix of proposed purchase order numbers")


class AnomalyRules(_Section):
    """Anomaly detectors: supply, demand and stock records (owner: anomaly/)."""

    overdue_grace_days: int = Field(0, ge=0, description="days past its promise before an open PO is overdue")
    overdue_warning_days: int = Field(3, ge=0, description="days late from which an overdue PO is a warning")
    overdue_critical_days: int = Field(10, ge=0, description="days late from which an overdue PO is critical")
    overdue_cover_days: float = Field(
        7.0, ge=0, description="an overdue PO is one step more severe when its SKU has less cover than this (days)"
    )
    short_fill_ratio: float = Field(0.9, ge=0, le=1, description="received/ordered below this is a short delivery")
    short_warning_fill_ratio: float = Field(0.5, ge=0, le=1, description="fill ratio below which it is a warning")
    recent_days: int = Field(14, ge=1, description="receipts and counts this recent are reported (short, mismatch)")
    drift_baseline_min_n: int = Field(20, ge=3, description="deliveries needed before drift is monitored")
    drift_baseline_max_n: int = Field(300, ge=10, description="most recent in-control deliveries kept as baseline")
    drift_min_shift_days: float = Field(2.0, gt=0, description="smallest delay shift worth detecting, in days")
    drift_min_shift_sd: float = Field(
        0.5, ge=0, description="smallest shift worth detecting, in baseline standard deviations"
    )
    drift_threshold: float = Field(
        11.0, gt=0, description="CUSUM log-likelihood-ratio alarm threshold (false alarm about 1 in e^h deliveries)"
    )
    drift_llr_clip: float = Field(3.0, gt=0, description="largest evidence one delivery can add (outlier guard)")
    drift_report_days: int = Field(90, ge=1, description="a detected shift is reported this long after its alarm")
    drift_critical_shift_days: float = Field(7.0, ge=0, description="an upward shift this large is critical")
    unreliable_window_n: int = Field(20, ge=5, description="recent deliveries compared with the past and others")
    unreliable_min_gap: float = Field(0.25, ge=0, le=1, description="on-time rate drop that counts as unreliable")
    unreliable_alpha: float = Field(1e-3, gt=0, lt=1, description="significance of the on-time rate drop")
    demand_baseline_days: int = Field(56, ge=14, description="days of history behind the demand baseline")
    demand_alpha: float = Field(1e-4, gt=0, lt=1, description="tail probability below which demand is anomalous")
    demand_min_units: float = Field(5.0, ge=0, description="smallest excess (or shortfall) in units reported")
    phantom_alpha: float = Field(
        1e-3, gt=0, lt=1, description="P(that many zero-sale days) below which stock is phantom"
    )
    phantom_min_days: int = Field(7, ge=1, description="fewest zero-sale days before phantom stock is considered")
    phantom_baseline_days: int = Field(90, ge=14, description="days of sales behind the zero-sale probability")
    stale_count_days: int = Field(14, ge=1, description="no count for this many days while selling is stale")
    mismatch_tolerance_units: float = Field(2.0, ge=0, description="count difference tolerated, in units")
    mismatch_tolerance_ratio: float = Field(0.1, ge=0, description="count difference tolerated, relative to stock")


class RulesConfig(_Section):
    """Business rules, from ``rules.toml``: one section per pipeline step."""

    health: HealthRules = Field(default_factory=HealthRules, description="data-health checks")
    ingest: IngestRules = Field(default_factory=IngestRules, description="reading dataset files: limits and forms")
    forecast: ForecastRules = Field(default_factory=ForecastRules, description="demand forecasting")
    risk: RiskRules = Field(default_factory=RiskRules, description="stockout risk assessment")
    leadtime: LeadTimeRules = Field(default_factory=LeadTimeRules, description="lead-time model")
    anomalies: AnomalyRules = Field(default_factory=AnomalyRules, description="anomaly detectors")
    alerts: AlertRules = Field(default_factory=AlertRules, description="alert lifecycle")
    notify: NotifyRules = Field(default_factory=NotifyRules, description="notification channels and outbox")
    run: RunRules = Field(default_factory=RunRules, description="daily run and schedule")
    orders: OrderRules = Field(default_factory=OrderRules, description="order proposals and approval")

    def version(self) -> str:
        """A short hash of the effective rules, stored with every run, alert and order."""
        # notify only routes messages (and holds channel URLs with secrets): it does not change results;
        # ingest says how files are read, and what was read is stored with the data.
        blob = json.dumps(self.model_dump(mode="json", exclude={"notify", "ingest"}), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def load_rules(path: Path | None) -> RulesConfig:
    """Read ``rules.toml`` (defaults when ``path`` is None or the file is absent... only if None).

    Raises:
        ConfigError: when the file is missing, not TOML, or has unknown or invalid keys.
    """
    if path is None:
        return RulesConfig()
    if not path.is_file():
        raise ConfigError(f"rules file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"rules file {path} is not valid TOML: {exc}") from exc
    try:
        return RulesConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"rules file {path}: {problems}") from exc
