"""Exporting approved orders to the ERP: CSV / XLSX import files, a JSON webhook, and feedback as open POs.

The export layout (:data:`EXPORT_COLUMNS`) is the issue-6 contract ``po_id, sku, location_id,
supplier_id, qty, order_date, expected_date, unit_cost, reason`` followed by ``line_no, promised_date,
status`` so the file is also a valid ``purchase_orders`` table of the dataset format (re-import it with
``read_dataset``). ``order_date`` is the day of the export (when the order is placed) and
``expected_date`` = ``promised_date`` = that day plus the line's lead time.

:func:`exported_orders_as_pos` turns exported lines into open purchase-order rows and
:func:`merge_exported_orders` adds them to a dataset, so the next assessment counts them as on order and
nothing is ordered twice (an exported line is dropped once the dataset holds a PO with its number).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import pandas as pd

from stockwarden.domain.order import ProposalLine
from stockwarden.errors import InputError, NotifyError
from stockwarden.ingest.dataset import Dataset, empty_frame
from stockwarden.ingest.options import neutralise_formula
from stockwarden.ingest.schema import CHINESE_HEADERS, TABLES

if TYPE_CHECKING:
    import httpx

EXPORT_COLUMNS: tuple[str, ...] = (
    "po_id",
    "sku",
    "location_id",
    "supplier_id",
    "qty",
    "order_date",
    "expected_date",
    "unit_cost",
    "reason",
    "line_no",
    "promised_date",
    "status",
)
# Chinese headers of the columns that have no alias in the dataset spec (never one of its aliases, so a
# re-import does not map two columns onto one).
EXTRA_CHINESE_HEADERS: dict[str, str] = {"expected_date": "计划到货日期", "reason": "采购原因"}
ExportFormat = Literal["csv", "xlsx", "json"]


def proposal_lines_frame(lines: Iterable[ProposalLine]) -> pd.DataFrame:
    """Proposal lines as a frame: every field, ``reasons`` joined by ``;``, plus ``value``."""
    rows = []
    for line in lines:
        row = asdict(line)
        row["reasons"] = ";".join(line.reasons)
        row["status"] = line.status.value
        row["value"] = line.value
        rows.append(row)
    if not rows:
        cols = [*ProposalLine.__dataclass_fields__, "value"]
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(rows)


def _reason(line: ProposalLine, override: str | None) -> str:
    text = f"{line.level} P(stockout)={line.stockout_probability:.2f}"
    if line.reasons:
        text += ": " + ";".join(line.reasons)
    if override:
        text += f" [override: {override}]"
    return text


def build_export(
    lines: Iterable[ProposalLine], *, order_date: dt.date, overrides: Mapping[int, str] | None = None
) -> pd.DataFrame:
    """The ERP import rows of ``lines`` (:data:`EXPORT_COLUMNS`), ordered by ``po_id, line_no``.

    Args:
        lines: proposal lines to export.
        order_date: the day the orders are placed (usually today).
        overrides: override reason code per ``proposal_id``, added to the ``reason`` text.
    """
    overrides = overrides or {}
    rows = []
    for line in lines:
        expected = order_date + dt.timedelta(days=math.ceil(line.lead_time_days))
        rows.append(
            {
                "po_id": line.po_id,
                "sku": line.sku,
                "location_id": line.location_id,
                "supplier_id": line.supplier_id,
                "qty": line.qty,
                "order_date": order_date,
                "expected_date": expected,
                "unit_cost": line.unit_cost if line.unit_cost == line.unit_cost else None,
                "reason": _reason(line, overrides.get(line.proposal_id) if line.proposal_id is not None else None),
                "line_no": line.line_no,
                "promised_date": expected,
                "status": "open",
            }
        )
    frame = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
    return frame.sort_values(["po_id", "line_no"], kind="mergesort").reset_index(drop=True)


def chinese_headers() -> dict[str, str]:
    """Export column -> Chinese header: the dataset spec's first alias, else our own for attribute columns.

    A ``purchase_orders`` column without a Chinese alias in the spec keeps its canonical name, so the
    file still re-imports (canonical names are always recognised).
    """
    po_columns = set(TABLES["purchase_orders"].column_names)
    out = {}
    for c in EXPORT_COLUMNS:
        if c in CHINESE_HEADERS:
            out[c] = CHINESE_HEADERS[c]
        elif c in po_columns:
            out[c] = c
        else:
            out[c] = EXTRA_CHINESE_HEADERS[c]
    return out


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("order_date", "expected_date", "promised_date"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    for col in ("qty", "line_no", "unit_cost"):
        out[col] = out[col].map(_num)
    return out


def _num(x: object) -> object:
    if x is None or (isinstance(x, float) and x != x):
        return None
    f = float(x)  # type: ignore[arg-type]
    return round(f) if abs(f - round(f)) < 1e-9 else f


def webhook_payload(frame: pd.DataFrame, *, generated_at: dt.datetime) -> dict[str, object]:
    """The JSON webhook body: one object per purchase order with its lines (English keys)."""
    text = _text_frame(frame)
    orders = []
    for po_id, grp in text.groupby("po_id", sort=True):
        first = grp.iloc[0]
        lines = [
            {
                k: (None if pd.isna(v) else v)
                for k, v in row.items()
                if k not in ("po_id", "supplier_id", "order_date", "status")
            }
            for row in grp.to_dict("records")
        ]
        value = sum((ln["qty"] or 0) * (ln["unit_cost"] or 0) for ln in lines)
        orders.append(
            {
                "po_id": po_id,
                "supplier_id": first["supplier_id"],
                "order_date": first["order_date"],
                "total_value": round(float(value), 2),
                "lines": lines,
            }
        )
    return {"event": "orders.exported", "generated_at": generated_at.isoformat(), "count": len(frame), "orders": orders}


def write_export(
    frame: pd.DataFrame,
    path: Path,
    *,
    fmt: ExportFormat | None = None,
    chinese: bool = False,
    generated_at: dt.datetime | None = None,
) -> Path:
    """Write the export rows to ``path`` as CSV (UTF-8 with BOM, so Excel shows Chinese), XLSX or JSON.

    Args:
        frame: rows from :func:`build_export`.
        path: file to write (parent folders are created).
        fmt: ``csv``, ``xlsx`` or ``json``; None = from the file extension (default csv).
        chinese: use Chinese column headers (CSV/XLSX only).
        generated_at: timestamp written into the JSON payload (required for ``json``).

    Raises:
        InputError: when the format is unknown or a JSON export has no timestamp.
    """
    fmt = fmt or _format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        if generated_at is None:
            raise InputError("a JSON export needs generated_at")
        body = webhook_payload(frame, generated_at=generated_at)
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
        return path
    out = safe_for_spreadsheet(_text_frame(frame))
    if chinese:
        out = out.rename(columns=chinese_headers())
    if fmt == "csv":
        out.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        out.to_excel(path, index=False, engine="openpyxl", sheet_name="purchase_orders")
    else:
        raise InputError(f"unknown export format '{fmt}'; use csv, xlsx or json")
    return path


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas (CSV/XLSX injection).

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``
    (OWASP "CSV injection"); numbers are left alone. Our readers take the ``'`` off again
    (``ingest.options.unneutralise_formula``), so re-importing our own export gives the exact values.
    JSON output is never escaped.
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            out[col] = s.map(lambda v: neutralise_formula(v) if isinstance(v, str) else v)
    return out


def _format_of(path: Path) -> ExportFormat:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".json":
        return "json"
    return "csv"


def validate_webhook_url(url: str) -> None:
    """Check that ``url`` can be posted to.

    Raises:
        NotifyError: when it is not an http(s) URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotifyError(f"webhook URL {url!r} must start with http:// or https:// and name a host")


def post_webhook(
    url: str, payload: Mapping[str, object], *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None
) -> int:
    """POST the payload as JSON to ``url``; return the HTTP status.

    Raises:
        NotifyError: when the URL is not http(s), the receiver cannot be reached, or answers with an error.
    """
    import httpx

    validate_webhook_url(url)
    try:
        with httpx.Client(timeout=timeout_s, transport=transport) as client:
            resp = client.post(url, json=payload, headers={"User-Agent": "stockwarden"})
    except httpx.HTTPError as exc:
        raise NotifyError(f"webhook {url}: {type(exc).__name__}: {exc}") from exc
    if resp.status_code >= 400:
        raise NotifyError(f"webhook {url} answered HTTP {resp.status_code}: {resp.text[:200]}")
    return resp.status_code


def exported_orders_as_pos(frame: pd.DataFrame) -> pd.DataFrame:
    """Exported lines (:data:`EXPORT_COLUMNS`) as open rows of the dataset's ``purchase_orders`` table.

    The result has the canonical columns and dtypes of ``purchase_orders`` (``promised_date`` = the
    expected date, ``status`` open, nothing received).
    """
    base = empty_frame("purchase_orders")
    if frame.empty:
        return base
    out = pd.DataFrame(
        {
            "po_id": frame["po_id"].astype(str).to_numpy(),
            "sku": frame["sku"].astype(str).to_numpy(),
            "qty": pd.to_numeric(frame["qty"]).astype(float).to_numpy(),
            "order_date": pd.to_datetime(frame["order_date"]).dt.normalize().to_numpy(),
            "location_id": frame["location_id"].astype(str).to_numpy(),
            "supplier_id": frame["supplier_id"].astype(object).where(frame["supplier_id"].notna(), None).to_numpy(),
            "line_no": pd.to_numeric(frame["line_no"]).astype(float).to_numpy(),
            "promised_date": pd.to_datetime(frame["expected_date"]).dt.normalize().to_numpy(),
            "received_date": pd.NaT,
            "received_qty": float("nan"),
            "status": "open",
        }
    )
    return out[list(TABLES["purchase_orders"].column_names)].astype(base.dtypes.to_dict())


def merge_exported_orders(ds: Dataset, exported_pos: pd.DataFrame) -> Dataset:
    """The dataset with exported orders added as open POs, unless it already holds a PO with that number.

    Call it before ``Dataset.as_of``: an exported line counts as on order from its ``order_date`` on.
    """
    if exported_pos.empty:
        return ds
    known = set(ds.purchase_orders["po_id"].astype(str))
    new = exported_pos.loc[~exported_pos["po_id"].astype(str).isin(known)]
    if new.empty:
        return ds
    merged = pd.concat([ds.purchase_orders, new], ignore_index=True) if len(ds.purchase_orders) else new.copy()
    return replace(ds, purchase_orders=merged.reset_index(drop=True))
