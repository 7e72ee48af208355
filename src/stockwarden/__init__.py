"""stockwarden: intelligent stockout early warning.

Will this run out before a replenishment can arrive, how likely, when, why, and what should we order now?
"""

from stockwarden.errors import StockwardenError
from stockwarden.ingest import Dataset, ImportResult, load_dataset, read_dataset

__version__ = "0.1.0"

__all__ = ["Dataset", "ImportResult", "StockwardenError", "__version__", "load_dataset", "read_dataset"]
