"""The ``stockwarden`` policy with an oracle forecast: a measured ceiling of what forecasting can pay.

Benchmark only (``benchmarks/closed_loop.py --oracle-forecast``, never the product's path): on each
review day the product's own assessment and proposals run exactly as in :class:`StockwardenPolicy`
(lead-time model, safety stock, order-up-to, periodic review, packs and MOQs), but the demand
forecast is replaced by the truth: each SKU-location's expected daily demand is the mean of the
simulation's *real* demand over the next ``L + R`` days (``L`` the stated lead time, ``R`` the
review period; fewer at the end of the simulated period), flat over the forecast days, with
Poisson day noise and no level uncertainty (the level is known). So the forecast is as good as a
forecast of the mean can be, and whatever stockout days remain at a given inventory are due to the
rest of the machinery (lead-time risk, the safety-stock rule, rounding, the allocation of service).
Comparing its swept curve with ``textbook`` and ``reorder_level`` bounds the share of the targets
that better forecasting could reach.

The mean of the very days the order must cover also knows their noise (a clairvoyant, not a forecast).
``oracle_days = N`` averages the next ``N`` days instead (the same for every row): with ``N`` well
beyond ``L + R`` it knows the level demand runs at, not the day-to-day luck, which is closer to what
a perfect forecast of the mean can know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stockwarden.domain.demand import DAILY_COLUMNS, DemandForecast
from stockwarden.ingest.dataset import Dataset
from stockwarden.simulate.engine import DayView
from stockwarden.simulate.policies import StockwardenPolicy
from stockwarden.simulate.world import KEYS, World

ORACLE_NAME = "stockwarden_oracle"


def oracle_daily_mean(demand: np.ndarray, *, day: int, window_days: np.ndarray) -> np.ndarray:
    """(n,) mean daily demand of each row over days ``day + 1 .. day + window_days[i]`` of ``demand``.

    Days past the end of ``demand`` are left out (the mean of the days there are); a row with no day
    left gets its last day's demand.

    Example:
        >>> oracle_daily_mean(np.array([[1.0, 2.0, 4.0, 6.0]]), day=0, window_days=np.array([2]))
        array([3.])
    """
    n, t_days = demand.shape
    w = np.maximum(np.asarray(window_days, dtype=np.int64), 1)
    cum = np.zeros((n, t_days + 1))
    np.cumsum(demand, axis=1, out=cum[:, 1:])
    lo = min(day + 1, t_days)
    hi = np.minimum(day + 1 + w, t_days)
    days = hi - lo
    total = cum[np.arange(n), hi] - cum[:, lo]
    last = demand[:, -1] if t_days else np.zeros(n)
    return np.where(days > 0, total / np.maximum(days, 1), last)


def oracle_forecast(
    keys: pd.DataFrame,
    daily_mean: np.ndarray,
    *,
    as_of: pd.Timestamp,
    horizon_days: int,
    size: np.ndarray | None = None,
) -> DemandForecast:
    """A :class:`DemandForecast` whose mean is ``daily_mean`` every day (day noise of NB ``size``, default
    Poisson; no level noise)."""
    n = len(keys)
    mean = np.repeat(np.maximum(np.asarray(daily_mean, dtype=float), 0.0)[:, None], horizon_days, axis=1)
    series = (
        keys.loc[:, KEYS]
        .reset_index(drop=True)
        .assign(
            demand_class=np.where(mean[:, 0] > 0, "smooth", "no_demand"),
            abc=None,
            model="oracle",
            is_fallback=False,
            fallback_reason=None,
            mean_daily_demand=mean[:, 0],
        )
    )
    dates = pd.date_range(pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1), periods=horizon_days, freq="D")
    return DemandForecast(
        daily=pd.DataFrame(columns=list(DAILY_COLUMNS)),
        series=series,
        dates=dates,
        mean=mean,
        size=np.full(n, np.inf) if size is None else np.asarray(size, dtype=float),
        level_shape=np.full(n, np.inf),
        as_of=pd.Timestamp(as_of).normalize(),
    )


@dataclass
class OracleStockwardenPolicy(StockwardenPolicy):
    """:class:`StockwardenPolicy` fed the true future mean demand instead of the model's forecast."""

    name: str = ORACLE_NAME
    oracle_days: int | None = None
    world: World | None = None
    window_days: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        """Name the variant by its window (``stockwarden_oracle`` is ``L + R``, else ``..._<N>d``)."""
        if self.oracle_days is not None:
            if self.oracle_days < 1:
                raise ValueError(f"the oracle's window must be at least 1 day, got {self.oracle_days}")
            self.name = f"{ORACLE_NAME}_{self.oracle_days}d"

    def bind(self, world: World) -> None:
        """Keep the world's demand (read on purpose: this is the oracle) and each row's window."""
        super().bind(world)
        self.world = world
        if self.oracle_days is None:
            self.window_days = np.ceil(world.stated_lead_time_days + world.review_period_days).astype(np.int64)
        else:
            self.window_days = np.full(world.n_series, int(self.oracle_days), dtype=np.int64)

    def assessment(self, ds: Dataset, view: DayView) -> pd.DataFrame:
        """Today's assessment with the oracle forecast (the product's lead times, risk and levels)."""
        from stockwarden.risk.daily import assess_day, forecast_days

        w = self.world
        assert w is not None  # bound before day 0
        mean = oracle_daily_mean(w.demand, day=view.day, window_days=self.window_days)
        fc = oracle_forecast(w.keys, mean, as_of=view.date, horizon_days=forecast_days(ds, self.rules))
        return assess_day(ds, as_of=view.date, rules=self.rules, forecast=fc, with_anomalies=False).assessment


NAIVE_NAME = "stockwarden_naive"


def naive_demand(sales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(daily mean, NB size)`` the ``textbook`` policy reads: the mean of the last 28 days of sales and the
    day-to-day variance of the last 91 (NB size ``m^2 / (v - m)``, Poisson when ``v <= m``)."""
    from stockwarden.simulate.policies import AVERAGE_DAYS, VARIANCE_DAYS

    m = sales[:, -AVERAGE_DAYS:].mean(axis=1) if sales.shape[1] else np.zeros(len(sales))
    recent = sales[:, -VARIANCE_DAYS:]
    v = recent.var(axis=1, ddof=1) if recent.shape[1] > 1 else np.zeros(len(sales))
    over = (m > 0) & (v > m * (1 + 1e-9))
    size = np.where(over, m * m / np.where(over, v - m, 1.0), np.inf)
    return m, size


@dataclass
class NaiveForecastStockwardenPolicy(StockwardenPolicy):
    """:class:`StockwardenPolicy` fed ``textbook``'s forecast (28-day mean, 91-day variance) instead of the model's.

    A diagnosis, benchmark only: against ``textbook`` it isolates the product's machinery (lead-time model,
    safety stock over the lead-time mixture, proposals) from the forecast; against ``stockwarden`` it
    isolates the forecast model from the 28-day average.
    """

    name: str = NAIVE_NAME
    world: World | None = None

    def bind(self, world: World) -> None:
        """Keep the world's keys."""
        super().bind(world)
        self.world = world

    def assessment(self, ds: Dataset, view: DayView) -> pd.DataFrame:
        """Today's assessment with textbook's forecast (the product's lead times, risk and levels)."""
        from stockwarden.risk.daily import assess_day, forecast_days

        w = self.world
        assert w is not None  # bound before day 0
        mean, size = naive_demand(view.sales)
        fc = oracle_forecast(w.keys, mean, as_of=view.date, horizon_days=forecast_days(ds, self.rules), size=size)
        return assess_day(ds, as_of=view.date, rules=self.rules, forecast=fc, with_anomalies=False).assessment


NOISE_CHOICES = ("model", "poisson", "no_level")
"""What :class:`NoiseStockwardenPolicy` keeps of the model's uncertainty: all of it, Poisson day noise only (the
oracle's), or the model's day-to-day noise without the level uncertainty."""


@dataclass
class NoiseStockwardenPolicy(StockwardenPolicy):
    """:class:`StockwardenPolicy` with the model's own forecast mean (the rules' mode) but another uncertainty.

    A diagnosis, benchmark only (``benchmarks/closed_loop.py --forecast-noise``): ``poisson`` gives the model's
    mean the oracle's distribution (Poisson day noise, no level noise), ``no_level`` keeps the model's
    negative-binomial day noise and drops its level uncertainty. Against the oracle it separates what knowing the
    mean pays from what its distribution pays; against ``stockwarden`` what the model's uncertainty costs.
    """

    noise: str = "poisson"

    def __post_init__(self) -> None:
        """Check the noise and name the variant ``<name>_<noise>``."""
        if self.noise not in NOISE_CHOICES[1:]:
            raise ValueError(f"noise must be one of {', '.join(NOISE_CHOICES[1:])}, got {self.noise!r}")
        self.name = f"{self.name}_{self.noise}"

    def assessment(self, ds: Dataset, view: DayView) -> pd.DataFrame:
        """Today's assessment with the model's forecast mean and the chosen uncertainty."""
        from dataclasses import replace

        from stockwarden.risk.daily import assess_day, forecast_for

        fc = forecast_for(ds, as_of=view.date, rules=self.rules)
        n = len(fc.series)
        size = np.full(n, np.inf) if self.noise == "poisson" else fc.size
        fc = replace(fc, size=size, level_shape=np.full(n, np.inf))
        return assess_day(ds, as_of=view.date, rules=self.rules, forecast=fc, with_anomalies=False).assessment
