"""Issue 16: no file can hang the reader or make it raise anything but a clear input error.

Random bytes under every extension, and the pathological shapes of the issue (one line of millions of
empty fields, a normal header with a huge row, thousands of columns, deep and unbalanced quoting, values
spanning many lines, NUL bytes, broken UTF-16, fake magic numbers). Each read must end (a hard alarm stops
a hang long before the issue's 11 minutes) with either a result whose counts add up, or an ``InputError``
whose one-line message names the file. The timings themselves are measured by
``benchmarks/pathological_inputs.py``; the alarm here only turns a hang into a failure.
"""

from __future__ import annotations

import gzip
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockwarden.errors import InputError
from stockwarden.ingest.read import read_raw_table
from stockwarden.ingest.validate import validate_table

HANG_SECONDS = 60  # a read of these few-MB inputs takes well under a second; a hang took over 11 minutes


@contextmanager
def hard_limit(seconds: int) -> Iterator[None]:
    def stop(_sig: int, _frame: object) -> None:
        raise TimeoutError(f"the reader did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def read_safely(path: Path, table: str = "sales") -> str:
    """Read and validate ``path``; return ``"read"`` or ``"refused"``; anything else fails the test."""
    with hard_limit(HANG_SECONDS):
        try:
            res = validate_table(read_raw_table(path, table))
        except InputError as exc:
            message = str(exc)
            assert "\n" not in message.strip() and len(message) < 1000, message
            assert path.name in message, message
            return "refused"
    assert res.n_read == len(res.accepted) + len(res.rejected) + res.n_duplicates
    assert (res.rejected["reason"].str.len() > 0).all()
    return "read"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), ext=st.sampled_from([".csv", ".csv.gz", ".xlsx", ".parquet"]))
def test_random_bytes_under_any_extension_are_read_or_refused(data: bytes, ext: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"sales{ext}"
        path.write_bytes(data)
        read_safely(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(
        st.text(alphabet="\",;\t|\r\n ab1-.'=\x00年", max_size=40),
        max_size=30,
    ),
    header=st.sampled_from(["date,sku,qty", 'date,"sku",qty', "date;sku;qty", '"', "", "date,sku,qty,qty"]),
)
def test_random_csv_like_text_is_read_or_refused(body: list[str], header: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sales.csv"
        path.write_bytes((header + "\n" + "\n".join(body)).encode("utf-8"))
        read_safely(path)


def _shapes() -> dict[str, bytes]:
    head = b"date,sku,qty\n"
    row = b"2024-01-01,A,1\n"
    return {
        "5M empty fields on one line": b"," * 5_000_000 + b"\n",
        "header + a 5M-field row": head + row + b"," * 5_000_000 + b"\n",
        "header + a 900k-field row under the byte limit": head + b"," * 900_000 + b"\n",
        "100k columns in the header": b",".join(b"c%d" % i for i in range(100_000)) + b"\n" + row,
        "a line just under the byte limit": head + b"2024-01-01,A," + b"9" * 1_000_000 + b"\n",
        "a 2 MB line": head + b"2024-01-01,A," + b"9" * 2_000_000 + b"\n",
        "deep quotes": head + b"2024-01-01,A," + b'"' * 200_001 + b"\n",
        "balanced deep quotes": head + b'2024-01-01,"' + b'""' * 100_000 + b'",1\n',
        "an unclosed quote at the start": head + b'"' + row * 10_000,
        "a value spanning 50k lines": head + b'2024-01-01,"' + b"x\n" * 50_000 + b'",1\n',
        "many multi-line values": head + b'2024-01-01,"a\nb",1\n' * 20_000,
        "NUL bytes": head + b"2024-01-01,A\x00B,1\n" * 1000 + b"\x00" * 10_000,
        "bare CRs": head + b"2024-01-01,A,1\r" * 10_000,
        "broken UTF-16": b"\xff\xfe" + "date,sku,qty\n".encode("utf-16-le") + b"\x00\xd8" * 100,
        "gzip of junk": gzip.compress(b"\xff" * 100_000),
        "PK magic then junk": b"PK\x03\x04" + b"\x00" * 10_000,
        "PAR1 magic then junk": b"PAR1" + b"\x01" * 10_000,
        "100k blank lines": head + b"\n" * 100_000 + row,
        "100k separators of every kind": head + b";\t|," * 25_000 + b"\n",
    }


SHAPES = _shapes()


@pytest.mark.parametrize("name", list(SHAPES))
def test_a_pathological_shape_is_read_or_refused_quickly(tmp_path: Path, name: str) -> None:
    data = SHAPES[name]
    ext = (
        ".csv.gz"
        if name.startswith("gzip")
        else ".xlsx"
        if name.startswith("PK")
        else ".parquet"
        if name.startswith("PAR1")
        else ".csv"
    )
    path = tmp_path / f"sales{ext}"
    path.write_bytes(data)
    outcome = read_safely(path)
    if name in ("5M empty fields on one line", "header + a 5M-field row", "100k columns in the header", "a 2 MB line"):
        assert outcome == "refused"
