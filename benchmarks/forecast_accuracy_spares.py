"""MASE on intermittent spare-parts demand (carparts, RAF, OIL, MAN, AUTO) vs Croston and SBA.

Part of ``forecast_accuracy.py``. Cleaning follows the reference repository of the data
(negatives and NaN -> 0; OIL: Nov-1997 dropped and demand capped at the installed base; MAN and OIL:
items with fewer than 2 demands in the first 70% of periods dropped). The last ``h`` periods are
held out; MASE = test MAE / in-sample one-step naive MAE (items with a zero scale are left out).

stockwarden's intermittent route is the engine's: the statistical candidates (SBA, TSB, IMAPA,
ADIDA and their mean) run through ``stockwarden.forecast.models.forecast_stats`` and one is chosen per
series by a rolling-origin backtest on its own training history (``choose_by_backtest``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.forecast.engine import choose_by_backtest
from stockwarden.forecast.models import forecast_stats

CANDIDATES = ("croston_sba+tsb+imapa+adida", "croston_sba", "tsb", "imapa", "adida")
SETS = {  # name -> (loader, horizon)
    "carparts": 12,
    "RAF": 12,
    "OIL": 12,
    "MAN": 12,
    "AUTO": 6,
}


def _load(data: Path, name: str) -> np.ndarray:
    if name == "carparts":
        w = pd.read_csv(data / "carparts" / "carparts_wide.csv", index_col="month")
        y = w.to_numpy(dtype=float).T
    else:
        file = {"RAF": "RAF_monthly", "OIL": "OIL_monthly", "MAN": "MAN_weekly", "AUTO": "AUTO_monthly"}[name]
        w = pd.read_csv(data / "spare_parts" / f"{file}.csv.gz")
        cols = [c for c in w.columns if c not in ("item", "price", "total_installed")]
        if name == "OIL":
            cols = [c for c in cols if not c.startswith("1997-11")]
        y = w[cols].to_numpy(dtype=float)
        if name == "OIL":
            cap = w["total_installed"].to_numpy(dtype=float)[:, None]
            y = np.where(np.isfinite(cap), np.minimum(y, cap), y)
    y = np.clip(np.nan_to_num(y, nan=0.0), 0.0, None)
    if name in ("MAN", "OIL"):
        first = y[:, : int(0.7 * y.shape[1])]
        y = y[(first > 0).sum(axis=1) >= 2]
    return y


def _panel(y: np.ndarray) -> pd.DataFrame:
    n, t = y.shape
    days = pd.date_range("2000-01-01", periods=t, freq="D")  # periods as consecutive days; no season used
    return pd.DataFrame({"unique_id": np.repeat(np.arange(n), t), "ds": np.tile(days, n), "y": y.ravel()})


def _mase(y_train: np.ndarray, y_test: np.ndarray, f: np.ndarray) -> np.ndarray:
    scale = np.mean(np.abs(np.diff(y_train, axis=1)), axis=1)
    ok = scale > 0
    return np.mean(np.abs(y_test - f), axis=1)[ok] / scale[ok]


def run_set(data: Path, name: str, h: int) -> dict:
    y = _load(data, name)
    train, test = y[:, :-h], y[:, -h:]
    panel = _panel(train)
    t0 = time.perf_counter()
    base = forecast_stats(panel, h=h, names=["croston_classic", "croston_sba"], n_jobs=2, input_days=10_000)
    choice, final = choose_by_backtest(panel, CANDIDATES, h=h, n_windows=2, n_jobs=2)
    seconds = time.perf_counter() - t0
    res = {}
    for label, f in (("croston", base["croston_classic"]), ("sba", base["croston_sba"]), ("stockwarden", final)):
        res[label] = round(float(np.mean(_mase(train, test, np.nan_to_num(np.asarray(f)).reshape(-1, h)))), 4)
    res["items"] = int(y.shape[0])
    res["horizon"] = h
    res["seconds"] = round(seconds, 1)
    res["choice"] = pd.Series(choice).value_counts().to_dict()
    return res


def run_spares(data: Path) -> dict:
    """MASE per set, printed and returned."""
    out = {}
    print(f"{'set':9s} {'items':>6s} {'h':>3s} {'Croston':>8s} {'SBA':>8s} {'ours':>8s}")
    for name, h in SETS.items():
        r = run_set(data, name, h)
        out[name] = r
        print(f"{name:9s} {r['items']:6d} {h:3d} {r['croston']:8.4f} {r['sba']:8.4f} {r['stockwarden']:8.4f}")
    return out
