"""The sample company: valid, deterministic, and realistic in the ways the engine must cope with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stockwarden.ingest import read_dataset
from stockwarden.ingest.health import check_health
from stockwarden.ingest.sample import SampleCompany, build_company, generate_company

SMALL = {"n_skus": 60, "n_locations": 3, "days": 400}


@pytest.fixture(scope="module")
def company() -> SampleCompany:
    return build_company(seed=3, **SMALL)


def test_the_same_seed_gives_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    a = generate_company(tmp_path / "a", seed=1, n_skus=20, days=120)
    b = generate_company(tmp_path / "b", seed=1, n_skus=20, days=120)
    c = generate_company(tmp_path / "c", seed=2, n_skus=20, days=120)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert (a / "sales.csv").read_bytes() != (c / "sales.csv").read_bytes()


def test_the_generated_folder_imports_with_no_rejected_or_duplicate_row(tmp_path: Path) -> None:
    folder = generate_company(tmp_path / "co", seed=3, **SMALL)
    ds, result = read_dataset(folder)
    assert set(result.results) == {
        "items",
        "locations",
        "suppliers",
        "sales",
        "inventory",
        "purchase_orders",
        "promotions",
        "events",
    }
    for name, res in result.results.items():
        assert len(res.rejected) == 0, (name, res.rejected.head())
        assert res.n_duplicates == 0, name
        assert res.n_read == len(res.accepted), name
    assert len(ds.sales) > 10_000
    assert ds.last_date == pd.Timestamp("2025-10-26")
    # Healthy data apart from the overdue purchase orders a planner should chase.
    assert check_health(ds).codes() == ["po_overdue"]


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet"])
def test_other_file_formats_import_the_same_rows(tmp_path: Path, fmt: str) -> None:
    folder = generate_company(tmp_path / fmt, seed=1, n_skus=15, days=90, fmt=fmt)
    ds, result = read_dataset(folder)
    assert all(len(r.rejected) == 0 for r in result.results.values())
    plain, _ = read_dataset(generate_company(tmp_path / "csv", seed=1, n_skus=15, days=90))
    assert ds.sales["qty"].sum() == plain.sales["qty"].sum()
    assert len(ds.inventory) == len(plain.inventory)


def test_sizes_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="days"):
        build_company(days=10)
    with pytest.raises(ValueError, match="n_locations must be between 1 and 9999"):
        build_company(n_locations=0, days=100)
    with pytest.raises(ValueError, match="n_locations must be between 1 and 9999"):
        build_company(n_locations=10_000, days=100)


def test_past_the_six_named_locations_come_numbered_stores() -> None:
    company = build_company(seed=2, n_skus=10, n_locations=9, days=70)
    locations = company.tables["locations"]
    assert list(locations["location_id"])[5:] == ["ST-XA", "ST-0007", "ST-0008", "ST-0009"]
    assert set(locations["kind"].iloc[6:]) == {"store"}
    assert company.tables["sales"]["location_id"].nunique() == 9


def test_there_are_several_categories_and_the_promised_suppliers(company: SampleCompany) -> None:
    items = company.tables["items"]
    assert items["category"].nunique() >= 6
    assert len(company.tables["suppliers"]) == 6
    assert company.tables["suppliers"]["lead_time_days"].nunique() >= 5


def test_it_contains_intermittent_lumpy_slow_movers(company: SampleCompany) -> None:
    n_loc = 3
    demand = company.demand
    share_zero = (demand == 0).mean(axis=1)
    nonzero = np.where(demand > 0, demand, np.nan)
    cv2 = (np.nanstd(nonzero, axis=1) / np.nanmean(nonzero, axis=1)) ** 2
    intermittent = share_zero > 1 - 1 / 1.32  # ADI > 1.32
    lumpy = intermittent & (cv2 > 0.49)
    assert intermittent.mean() > 0.1
    assert lumpy.sum() >= 3
    assert (share_zero < 0.05).sum() >= len(demand) // (4 * n_loc)  # and fast movers too


def test_promotions_lift_sales_and_mark_them_with_a_lower_price(company: SampleCompany) -> None:
    sales = company.tables["sales"]
    assert len(company.tables["promotions"]) > 50
    promo = sales[sales["on_promotion"] == 1]
    assert len(promo) > 0.02 * len(sales)
    list_price = sales[sales["on_promotion"] == 0].groupby("sku")["price"].max()
    assert (promo["price"].to_numpy() < promo["sku"].map(list_price).to_numpy()).mean() > 0.95
    # Same series, promotion days sell more on average than other days.
    mean_qty = sales.groupby(["sku", "location_id", "on_promotion"])["qty"].mean().unstack().dropna()
    assert (mean_qty[1] > mean_qty[0]).mean() > 0.7


def test_promotions_and_events_are_planned_past_the_last_day(company: SampleCompany) -> None:
    last = company.dates[-1]
    assert (company.tables["promotions"]["start_date"] > last).any()
    events = company.tables["events"]
    assert (events["date"] > last).any()
    names = set(events["name"])
    assert {
        "Spring Festival",
        "618 Shopping Festival",
        "Double 11",
        "National Day",
        "Christmas",
        "Black Friday",
    } <= names


def test_purchase_orders_are_late_short_open_and_overdue(company: SampleCompany) -> None:
    po = company.tables["purchase_orders"]
    last = company.dates[-1]
    received = po[po["status"] == "received"]
    late_days = (received["received_date"] - received["promised_date"]).dt.days
    assert (late_days > 0).mean() > 0.05
    assert (received["received_qty"] < received["qty"]).any()
    is_open = po["status"] == "open"
    assert is_open.any()
    assert ((last - po.loc[is_open, "promised_date"]).dt.days > 14).any()
    assert (po["status"] == "cancelled").any()
    by_supplier = late_days.groupby(received["supplier_id"]).mean()
    assert by_supplier.idxmax() in {"SUP-02", "SUP-06"}
    # One supplier drifts later: its recent deliveries are later than its earlier ones.
    six = received[received["supplier_id"] == "SUP-06"]
    six_late = (six["received_date"] - six["promised_date"]).dt.days
    recent = six["order_date"] > last - pd.Timedelta(days=90)
    assert six_late[recent].mean() > six_late[~recent].mean() + 2


def test_stock_counts_sales_and_receipts_are_consistent(company: SampleCompany) -> None:
    """end-of-day stock = yesterday's + receipts - sales - (rare, small) unrecorded loss; sales <= demand."""
    t = company.tables
    inv = t["inventory"][t["inventory"]["location_id"] != "ST-GZ"]  # daily counts
    po = t["purchase_orders"].dropna(subset=["received_date"])
    rec = po.groupby(["received_date", "sku", "location_id"])["received_qty"].sum().rename("rec")
    sold = t["sales"].groupby(["date", "sku", "location_id"])["qty"].sum().rename("sold")
    frame = inv.set_index(["date", "sku", "location_id"]).join(rec.rename_axis(["date", "sku", "location_id"]))
    frame = frame.join(sold).fillna({"rec": 0.0, "sold": 0.0}).sort_index(level=["sku", "location_id", "date"])
    frame = frame.reset_index().sort_values(["sku", "location_id", "date"])
    prev = frame.groupby(["sku", "location_id"])["on_hand"].shift()
    loss = (prev + frame["rec"] - frame["sold"] - frame["on_hand"]).dropna()
    assert (loss >= 0).all()
    assert (loss > 0).mean() < 0.01
    assert loss.max() <= 2
    assert (frame["on_hand"] == 0).mean() > 0.01  # stockouts happen


def test_sales_are_demand_censored_by_stock(company: SampleCompany) -> None:
    t = company.tables
    n_loc = 3
    items = t["items"]["sku"].tolist()
    locs = t["locations"]["location_id"].tolist()
    sales = t["sales"]
    item_pos = np.array([items.index(k) for k in sales["sku"]])
    s = item_pos * n_loc + np.array([locs.index(k) for k in sales["location_id"]])
    d = np.searchsorted(company.dates, sales["date"])
    demand = company.demand[s, d]
    assert (sales["qty"].to_numpy() <= demand).all()
    short = sales["qty"].to_numpy() < demand
    assert short.any()  # lost sales on stockout days
    counts = t["inventory"].set_index(["date", "sku", "location_id"])["on_hand"]
    keys = pd.MultiIndex.from_frame(sales.loc[short, ["date", "sku", "location_id"]])
    known = counts.reindex(keys).dropna()
    assert len(known) > 0 and (known == 0).all()


def test_weekly_counted_locations_are_counted_on_sundays_only(company: SampleCompany) -> None:
    inv = company.tables["inventory"]
    weekly = inv[inv["location_id"] == "ST-GZ"]
    daily = inv[inv["location_id"] == "WH-SH"]
    assert (weekly["date"].dt.dayofweek == 6).all()
    assert daily["date"].dt.dayofweek.nunique() == 7


@pytest.mark.parametrize(("n_skus", "n_locations", "days"), [(1, 1, 60), (2, 6, 60), (7, 2, 90), (3, 3, 200)])
def test_tiny_companies_are_valid_too(tmp_path: Path, n_skus: int, n_locations: int, days: int) -> None:
    folder = generate_company(tmp_path / "tiny", seed=n_skus, n_skus=n_skus, n_locations=n_locations, days=days)
    ds, result = read_dataset(folder)
    assert all(len(r.rejected) == 0 and r.n_duplicates == 0 for r in result.results.values())
    assert len(ds.items) == n_skus and len(ds.locations) == n_locations
    assert ds.inventory["date"].nunique() >= days // 7
