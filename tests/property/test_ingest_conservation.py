"""Property: whatever mix of good and broken rows a file holds, no row is lost and every good row arrives."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockwarden.ingest.read import read_raw_table
from stockwarden.ingest.validate import References, validate_table

GOOD_SKUS = ("A", "B", "商品")
KNOWN = References(skus=frozenset(GOOD_SKUS), locations=frozenset({"WH1", "MAIN"}))

good_row = st.builds(
    lambda day, sku, qty, loc, order: (f"2024-01-{day:02d}", sku, str(qty), loc, order),
    st.integers(1, 28),
    st.sampled_from(GOOD_SKUS),
    st.integers(-5, 500),
    st.sampled_from(["WH1", ""]),
    st.sampled_from(["", "o1", "o2"]),
)
broken_row = st.one_of(
    st.builds(lambda r: ("", *r[1:]), good_row),  # missing date
    st.builds(lambda r: ("2024-02-31", *r[1:]), good_row),  # impossible date
    st.builds(lambda r: (r[0], "", *r[2:]), good_row),  # missing sku
    st.builds(lambda r: (r[0], "UNKNOWN", *r[2:]), good_row),  # sku not in items
    st.builds(lambda r: (*r[:2], "lots", *r[3:]), good_row),  # qty not a number
    st.builds(lambda r: (*r[:3], "NOWHERE", r[4]), good_row),  # unknown location
)


def _csv(rows: list[tuple[str, ...]]) -> str:
    lines = ["date,sku,qty,location_id,order_id"] + [",".join(r) for r in rows]
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.booleans(), good_row, broken_row), min_size=0, max_size=40),
    malformed=st.lists(st.integers(0, 40), max_size=3),
)
def test_read_equals_accepted_plus_rejected_plus_duplicates_and_good_rows_arrive(
    rows: list[tuple[bool, tuple[str, ...], tuple[str, ...]]], malformed: list[int]
) -> None:
    chosen = [good if is_good else bad for is_good, good, bad in rows]
    lines = [",".join(r) for r in chosen]
    for at in sorted(malformed, reverse=True):
        lines.insert(min(at, len(lines)), "a,line,with,far,too,many,fields")
    text = "date,sku,qty,location_id,order_id\n" + "".join(line + "\n" for line in lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sales.csv"
        path.write_text(text, encoding="utf-8")
        res = validate_table(read_raw_table(path, "sales"), KNOWN)

    assert res.n_read == len(lines)
    assert res.n_read == len(res.accepted) + len(res.rejected) + res.n_duplicates
    # Every line is accounted for exactly once: accepted, rejected, or a repeat of an earlier line.
    seen: dict[str, int] = {}
    expected_good = []
    for number, line in enumerate(lines, start=2):
        fields = line.split(",")
        if len(fields) != 5:  # a malformed line is put aside each time it occurs
            seen[f"{line}@{number}"] = number
            continue
        if line in seen:
            continue
        seen[line] = number
        if tuple(fields) in {g for ok, g, _ in rows if ok}:
            expected_good.append(number)
    assert set(res.accepted["line"]) | set(res.rejected["line"]) == set(seen.values())
    assert set(expected_good) <= set(res.accepted["line"])
    assert set(res.accepted["line"]).isdisjoint(res.rejected["line"])
    # The good rows arrive with their values.
    by_line = res.accepted.set_index("line")
    for number in expected_good:
        day, sku, qty, loc, order = lines[number - 2].split(",")
        row = by_line.loc[number]
        assert row["date"] == pd.Timestamp(day) and row["sku"] == sku and row["qty"] == float(qty)
        assert row["location_id"] == (loc or "MAIN") and row["order_id"] == (order or None)
