"""Test doubles and small datasets for the risk engine (no forecasting or lead-time fitting)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stockwarden.ingest.dataset import Dataset, empty_frame

AS_OF = pd.Timestamp("2024-03-31")


@dataclass(frozen=True)
class FakeForecast:
    """Poisson demand with a constant daily mean per series (a tiny stand-in for DemandForecast)."""

    series: pd.DataFrame
    dates: pd.DatetimeIndex
    rate: np.ndarray

    def sample_paths(self, n_paths: int, *, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        lam = np.broadcast_to(self.rate[:, None, None], (len(self.rate), n_paths, len(self.dates)))
        return rng.poisson(lam).astype(float)


def fake_forecast(
    keys: list[tuple[str, str]], rates: list[float], *, as_of: pd.Timestamp = AS_OF, days: int = 35
) -> FakeForecast:
    series = pd.DataFrame(keys, columns=["sku", "location_id"]).assign(abc="A", demand_class="smooth")
    dates = pd.date_range(as_of + pd.Timedelta(days=1), periods=days, freq="D")
    return FakeForecast(series=series, dates=dates, rate=np.asarray(rates, dtype=float))


@dataclass
class FakeLeadTimes:
    """Deterministic lead time ``lead_days`` for new orders; open POs arrive on their promise (+ ``delay``)."""

    lead_days: int = 7
    delay_days: int = 0
    max_days: int = 60
    p_short: float = 0.0
    table: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"level": ["supplier"], "supplier_id": ["SUP-1"], "on_time_rate": [1.0], "mean_delay_days": [0.0]}
        )
    )

    def lead_time_pmfs(self, keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        pmf = np.zeros((len(keys), self.max_days + 1))
        pmf[:, self.lead_days] = 1.0
        return pmf, np.array(["supplier_history"] * len(keys), dtype=object)

    def arrival_pmfs(self, open_pos: pd.DataFrame, as_of: pd.Timestamp | None = None) -> np.ndarray:
        a = pd.Timestamp(as_of)
        due = (pd.to_datetime(open_pos["promised_date"]) - a).dt.days.fillna(self.lead_days).to_numpy(int)
        day = np.clip(due + self.delay_days, 1, self.max_days)
        out = np.zeros((len(open_pos), self.max_days + 1))
        out[np.arange(len(open_pos)), day] = 1.0
        return out

    def short_delivery_frame(self, keys: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"p_short": self.p_short, "fill_ratio_when_short": 0.5}, index=keys.index)


def _frame(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    base = empty_frame(table)
    if not rows:
        return base
    f = pd.DataFrame(rows)
    for c in base.columns:
        if c not in f.columns:
            f[c] = np.nan
        if str(base[c].dtype).startswith("datetime"):
            f[c] = pd.to_datetime(f[c])
        elif base[c].dtype == float:
            f[c] = pd.to_numeric(f[c])
    return f.loc[:, list(base.columns)]


def make_risk_dataset(
    *,
    on_hand: float = 20.0,
    count_date: str = "2024-03-31",
    sales_after_count: list[tuple[str, float]] | None = None,
    open_po: list[dict[str, object]] | None = None,
    future_rows: bool = False,
    lead_time_days: float = 7,
) -> Dataset:
    """One SKU at one location with a stock count, a little sales history and optional open POs."""
    sales = [
        {"date": d.date().isoformat(), "sku": "SKU-1", "location_id": "WH1", "qty": 2.0}
        for d in pd.date_range("2024-03-01", "2024-03-31")
    ]
    for d, q in sales_after_count or []:
        sales.append({"date": d, "sku": "SKU-1", "location_id": "WH1", "qty": q})
    inv = [{"date": count_date, "sku": "SKU-1", "location_id": "WH1", "on_hand": on_hand}]
    pos = [
        {
            "po_id": "PO-OLD",
            "line_no": 1,
            "sku": "SKU-1",
            "location_id": "WH1",
            "supplier_id": "SUP-1",
            "qty": 50.0,
            "order_date": "2024-02-01",
            "promised_date": "2024-02-08",
            "received_date": "2024-02-08",
            "received_qty": 50.0,
            "status": "received",
        }
    ]
    pos += open_po or []
    if future_rows:
        sales += [{"date": "2024-04-02", "sku": "SKU-1", "location_id": "WH1", "qty": 99.0}]
        inv += [{"date": "2024-04-03", "sku": "SKU-1", "location_id": "WH1", "on_hand": 0.0}]
        pos += [
            {
                "po_id": "PO-FUT",
                "line_no": 1,
                "sku": "SKU-1",
                "location_id": "WH1",
                "supplier_id": "SUP-1",
                "qty": 500.0,
                "order_date": "2024-04-02",
                "promised_date": "2024-04-03",
                "status": "open",
            }
        ]
    return Dataset(
        items=_frame(
            "items",
            [
                {
                    "sku": "SKU-1",
                    "category": "cat",
                    "supplier_id": "SUP-1",
                    "pack_size": 6.0,
                    "moq": 12.0,
                    "lead_time_days": lead_time_days,
                }
            ],
        ),
        locations=_frame("locations", [{"location_id": "WH1"}]),
        suppliers=_frame("suppliers", [{"supplier_id": "SUP-1", "lead_time_days": 7.0}]),
        sales=_frame("sales", sales),
        inventory=_frame("inventory", inv),
        purchase_orders=_frame("purchase_orders", pos),
    )


def open_po(
    qty: float = 40.0, *, promised: str = "2024-04-05", ordered: str = "2024-03-25", po_id: str = "PO-1"
) -> dict[str, object]:
    return {
        "po_id": po_id,
        "line_no": 1,
        "sku": "SKU-1",
        "location_id": "WH1",
        "supplier_id": "SUP-1",
        "qty": qty,
        "order_date": ordered,
        "promised_date": promised,
        "status": "open",
    }
