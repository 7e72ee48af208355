"""Ingest: read dataset files, validate rows, build the in-memory :class:`Dataset`."""

from stockwarden.ingest.dataset import Dataset, ImportResult, load_dataset, read_dataset

__all__ = ["Dataset", "ImportResult", "load_dataset", "read_dataset"]
