"""Zip uploads: traversal, links, bombs and lying headers are refused before anything is imported."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from stockwarden.errors import InputError, PayloadTooLarge
from stockwarden.services.data import extract_zip


def _zip(entries: dict[str, bytes], *, link: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = 0o120777 << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


def test_a_good_zip_is_extracted_flat(tmp_path: Path) -> None:
    names = extract_zip(_zip({"data/sales.csv": b"date,sku,qty\n", "README.txt": b"x"}), tmp_path, max_total=10**6)
    assert names == ["sales.csv"] and (tmp_path / "sales.csv").exists()


@pytest.mark.parametrize("name", ["../sales.csv", "/abs/sales.csv", "a/../../sales.csv", "C:/x/sales.csv"])
def test_traversal_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="unsafe path"):
        extract_zip(_zip({name: b"x"}), tmp_path, max_total=10**6)


def test_links_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="symbolic link"):
        extract_zip(_zip({}, link="sales.csv"), tmp_path, max_total=10**6)


def test_bombs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge):
        extract_zip(_zip({"sales.csv": b"0" * 5_000_000}), tmp_path, max_total=1_000_000)
    with pytest.raises(PayloadTooLarge, match="decompression bomb"):
        extract_zip(_zip({"sales.csv": b"0" * 50_000_000}), tmp_path, max_total=10**10)


def test_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a valid zip"):
        extract_zip(b"PK-not-really", tmp_path, max_total=10**6)
