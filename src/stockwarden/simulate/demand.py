"""The demand a simulation replays: a ``--demand`` file, or the sales with stocked-out days filled.

A ``--demand`` file has ``date, sku, location_id, qty`` (CSV, ``.csv.gz`` or parquet; one row per
SKU-location and day, absent days are zero demand): the real demand when it is known, as in
``replay_dev/true_demand.csv.gz``. Without it, demand is the dataset's own demand history
(:func:`stockwarden.forecast.history.build_demand_history`): the units sold each day, and on days that
ended out of stock (sales censored) the mean of the last 56 uncensored days instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from stockwarden.errors import InputError
from stockwarden.ingest.dataset import Dataset

DEMAND_COLUMNS = ("date", "sku", "location_id", "qty")


def read_demand_file(path: Path) -> pd.DataFrame:
    """Read and check a demand file.

    Raises:
        InputError: missing file or columns, an unparseable date, a missing, non-numeric or negative
            quantity (the first bad lines are named).
    """
    if not path.is_file():
        raise InputError(f"demand file {path} does not exist")
    try:
        if path.suffix == ".parquet":
            raw = pd.read_parquet(path)
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"demand file {path} cannot be read: {exc}") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in DEMAND_COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(
            f"demand file {path} lacks column(s) {', '.join(missing)}; expected {', '.join(DEMAND_COLUMNS)}"
        )
    return validate_demand(raw.loc[:, list(DEMAND_COLUMNS)], source=str(path))


def validate_demand(raw: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Typed demand rows; any bad row is an error naming its line (header = line 1)."""
    text_dates = raw["date"].astype(str).str.strip()
    dates = pd.to_datetime(text_dates, format="%Y-%m-%d", errors="coerce")
    qty = pd.to_numeric(raw["qty"].astype(str).str.strip(), errors="coerce")
    problems = []
    for name, bad, expected in (
        ("date", dates.isna(), "a date YYYY-MM-DD"),
        ("qty", qty.isna(), "a number"),
        ("qty", qty < 0, "a quantity >= 0"),
        ("sku", raw["sku"].astype(str).str.strip().isin(["", "nan", "None"]), "a sku"),
    ):
        idx = np.flatnonzero(bad.to_numpy())
        if len(idx):
            shown = ", ".join(f"line {i + 2} ({raw[name].iloc[i]!r})" for i in idx[:3])
            problems.append(f"{len(idx)} row(s) without {expected} in column {name}: {shown}")
    if problems:
        raise InputError(f"demand file {source}: " + "; ".join(problems))
    loc = raw["location_id"].astype(str).str.strip().replace({"": "MAIN", "nan": "MAIN"})
    return pd.DataFrame(
        {"date": dates, "sku": raw["sku"].astype(str).str.strip(), "location_id": loc, "qty": qty.astype(float)}
    )


def demand_from_dataset(ds: Dataset, *, end: pd.Timestamp) -> pd.DataFrame:
    """Daily demand from the dataset's sales, censored days filled by the demand history's imputation.

    Raises:
        InputError: when ``end`` is after the dataset's last sales or inventory date.
    """
    from stockwarden.forecast.history import build_demand_history

    last = ds.last_date
    if last is None or end > last:
        raise InputError(
            f"--end {end.date()} is after the dataset's last date ({'none' if last is None else last.date()}): "
            "without --demand the demand is taken from the sales; pass --demand FILE or an earlier --end"
        )
    h = build_demand_history(ds, as_of=end)
    return h.loc[:, ["date", "sku", "location_id"]].assign(qty=h["demand"].to_numpy(float))
