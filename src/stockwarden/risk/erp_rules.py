"""The ERP's own reorder rule beside ours (the optional ``reorder_rules`` table, format v1.1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stockwarden.ingest.dataset import Dataset

ERP_COLUMNS: tuple[str, ...] = ("erp_min_qty", "erp_max_qty", "erp_safety_stock", "erp_would_order")
"""Columns :func:`attach_erp_rules` adds."""


def attach_erp_rules(assessment: pd.DataFrame, ds: Dataset) -> pd.DataFrame:
    """The assessment plus the ERP's rule per SKU-location and whether it would order today.

    ``erp_would_order`` is True where the inventory position (``inventory_position``, else on hand +
    on order) is at or below the ERP's ``min_qty``; NaN columns and False where the ERP has no rule.
    """
    rules = ds.reorder_rules.loc[:, ["sku", "location_id", "min_qty", "max_qty", "safety_stock"]]
    rules = rules.rename(
        columns={"min_qty": "erp_min_qty", "max_qty": "erp_max_qty", "safety_stock": "erp_safety_stock"}
    )
    out = assessment.drop(columns=[c for c in ERP_COLUMNS if c in assessment.columns]).merge(
        rules, on=["sku", "location_id"], how="left"
    )
    if "inventory_position" in out.columns:
        position = out["inventory_position"].to_numpy(float)
    else:
        position = (out["on_hand"].fillna(0) + out["on_order"].fillna(0)).to_numpy(float)
    out["erp_would_order"] = np.where(out["erp_min_qty"].notna(), position <= out["erp_min_qty"].to_numpy(float), False)
    return out
