"""In-memory datasets for forecasting tests (no files): daily sales panels with known shapes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.ingest.dataset import Dataset, empty_frame


def frame_for(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with every canonical column of ``table`` (missing ones empty), in canonical dtypes."""
    base = empty_frame(table)
    out = pd.concat([base, rows], ignore_index=True) if len(rows) else base
    for c in base.columns:
        if str(base[c].dtype).startswith("datetime"):
            out[c] = pd.to_datetime(out[c])
        elif base[c].dtype == float:
            out[c] = out[c].astype(float)
    return out


def sales_from_matrix(
    qty: np.ndarray,
    *,
    start: str = "2024-01-01",
    skus: list[str] | None = None,
    location: str = "L1",
    price: float = 2.0,
) -> pd.DataFrame:
    """Sale rows (only positive days) from a (n_series, days) matrix of daily quantities."""
    n, days = qty.shape
    skus = skus or [f"S{i:03d}" for i in range(n)]
    dates = pd.date_range(start, periods=days, freq="D")
    i, t = np.nonzero(qty)
    return pd.DataFrame(
        {
            "date": dates[t],
            "sku": np.asarray(skus, dtype=object)[i],
            "location_id": location,
            "qty": qty[i, t].astype(float),
            "price": price,
            "on_promotion": 0.0,
        }
    )


def make_forecast_dataset(
    qty: np.ndarray,
    *,
    start: str = "2024-01-01",
    inventory: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    promotions: pd.DataFrame | None = None,
    extra_sales: pd.DataFrame | None = None,
) -> Dataset:
    """A Dataset with the given daily sales matrix (and optional counts, events, promotions)."""
    sales = sales_from_matrix(qty, start=start)
    if extra_sales is not None:
        sales = pd.concat([sales, extra_sales], ignore_index=True)
    return Dataset(
        sales=frame_for("sales", sales),
        inventory=frame_for("inventory", inventory if inventory is not None else pd.DataFrame()),
        events=frame_for("events", events if events is not None else pd.DataFrame()),
        promotions=frame_for("promotions", promotions if promotions is not None else pd.DataFrame()),
        present=frozenset({"sales", "inventory"}),
    )


def poisson_matrix(n_series: int, days: int, *, rate: float | np.ndarray = 3.0, seed: int = 0) -> np.ndarray:
    """Daily Poisson demand with a weekly pattern (weekends x1.5)."""
    rng = np.random.default_rng(seed)
    week = np.where(pd.date_range("2024-01-01", periods=days).dayofweek.to_numpy() >= 5, 1.5, 1.0)
    lam = np.asarray(rate, dtype=float).reshape(-1, 1) * np.ones((n_series, 1)) * week[None, :]
    return rng.poisson(lam).astype(float)
