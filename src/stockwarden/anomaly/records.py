"""Anomaly records: the frame every detector returns (columns of issue 5 plus ``affected``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from stockwarden.domain.supply import ANOMALY_COLUMNS, ANOMALY_EXTRA_COLUMNS

RECORD_COLUMNS: tuple[str, ...] = ANOMALY_COLUMNS + ANOMALY_EXTRA_COLUMNS
_DATES = ("detected_on", "started_on")
_NUMBERS = ("expected", "observed")


def anomaly_frame(records: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """A frame of anomaly records with the canonical columns and dtypes (missing values empty).

    ``affected`` holds the SKU-locations a record puts at risk as ``"sku@location;sku@location"``.
    """
    rows = list(records)
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS)) if rows else pd.DataFrame(columns=list(RECORD_COLUMNS))
    for c in _DATES:
        frame[c] = pd.to_datetime(frame[c])
    for c in _NUMBERS:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    for c in RECORD_COLUMNS:
        if c not in _DATES and c not in _NUMBERS:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


def join_keys(pairs: Iterable[tuple[object, object]]) -> str:
    """``"sku@location;..."`` for (sku, location) pairs, sorted and unique."""
    return ";".join(sorted({f"{s}@{loc}" for s, loc in pairs}))


def split_keys(affected: str | None) -> list[tuple[str, str]]:
    """The (sku, location) pairs of an ``affected`` string."""
    if not affected:
        return []
    return [tuple(p.rsplit("@", 1)) for p in affected.split(";") if "@" in p]  # type: ignore[misc]


def fmt_days(x: float) -> str:
    """A day count as a buyer reads it: ``4`` or ``4.5``."""
    return f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def fmt_date(d: pd.Timestamp) -> str:
    """ISO date."""
    return pd.Timestamp(d).date().isoformat()
