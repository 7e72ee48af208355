"""Data health: every warning fires on its own hand-made case, and none fires on healthy data."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from stockwarden.config import HealthRules
from stockwarden.ingest.dataset import Dataset, empty_frame
from stockwarden.ingest.health import WarningCode, check_health

AS_OF = pd.Timestamp("2025-03-31")
ALL = frozenset({"items", "locations", "suppliers", "sales", "inventory", "purchase_orders"})


def frame(table: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    """A typed table frame from a few rows (columns not given stay missing)."""
    base = empty_frame(table)
    if not rows:
        return base
    out = pd.DataFrame(rows).reindex(columns=base.columns)
    for col in base.columns:
        out[col] = out[col].astype(base[col].dtype)
    return out


def day(offset: int) -> str:
    return (AS_OF + pd.Timedelta(days=offset)).date().isoformat()


def healthy() -> Dataset:
    """Two SKUs at two locations: fresh sales and daily counts, an open PO on time, a received one."""
    skus, locs = ("A", "B"), ("WH1", "ST1")
    sales = [
        {"date": day(-k), "sku": s, "location_id": loc, "qty": 2.0} for k in range(30) for s in skus for loc in locs
    ]
    counts = [
        {"date": day(-k), "sku": s, "location_id": loc, "on_hand": 10.0}
        for k in range(30)
        for s in skus
        for loc in locs
    ]
    pos = [
        {
            "po_id": "P1",
            "line_no": 1.0,
            "sku": "A",
            "location_id": "WH1",
            "supplier_id": "S1",
            "qty": 10.0,
            "order_date": day(-5),
            "promised_date": day(2),
            "status": "open",
        },
        {
            "po_id": "P0",
            "line_no": 1.0,
            "sku": "B",
            "location_id": "WH1",
            "supplier_id": "S1",
            "qty": 10.0,
            "order_date": day(-90),
            "promised_date": day(-83),
            "received_date": day(-60),
            "received_qty": 10.0,
            "status": "received",
        },
        {
            "po_id": "P9",
            "line_no": 1.0,
            "sku": "B",
            "location_id": "ST1",
            "supplier_id": "S1",
            "qty": 10.0,
            "order_date": day(-90),
            "promised_date": day(-83),
            "status": "cancelled",
        },
    ]
    return Dataset(
        items=frame("items", [{"sku": s, "supplier_id": "S1", "pack_size": 1.0, "moq": 0.0} for s in skus]),
        locations=frame("locations", [{"location_id": loc} for loc in locs]),
        suppliers=frame("suppliers", [{"supplier_id": "S1", "lead_time_days": 7.0}]),
        sales=frame("sales", sales),
        inventory=frame("inventory", counts),
        purchase_orders=frame("purchase_orders", pos),
        present=ALL,
    )


def codes(ds: Dataset, **kw: object) -> list[str]:
    return check_health(ds, **kw).codes()  # type: ignore[arg-type]


def test_healthy_data_raises_no_warning_and_is_summarised() -> None:
    report = check_health(healthy())
    assert report.warnings == ()
    assert report.as_of == AS_OF
    sales = next(t for t in report.tables if t.table == "sales")
    assert (sales.rows, sales.skus, sales.locations) == (120, 2, 2)
    assert (sales.first_date, sales.last_date) == (AS_OF - pd.Timedelta(days=29), AS_OF)
    assert [t.table for t in report.tables][:3] == ["items", "locations", "suppliers"]
    assert not next(t for t in report.tables if t.table == "promotions").is_present


def _drop_counts(ds: Dataset, mask: pd.Series) -> Dataset:
    return replace(ds, inventory=ds.inventory.loc[~mask].reset_index(drop=True))


def test_a_location_whose_newest_count_is_too_old_is_reported() -> None:
    ds = healthy()
    inv = ds.inventory
    ds = _drop_counts(ds, (inv["location_id"] == "ST1") & (inv["date"] > AS_OF - pd.Timedelta(days=20)))
    report = check_health(ds)
    stale = [w for w in report.warnings if w.code == WarningCode.STALE_COUNT]
    assert len(stale) == 1 and "ST1" in stale[0].message and "20 days" in stale[0].message
    assert WarningCode.STALE_SKU_COUNT not in report.codes()  # the location warning says it already


def test_the_stale_count_limit_comes_from_the_rules() -> None:
    ds = healthy()
    inv = ds.inventory
    ds = _drop_counts(ds, (inv["location_id"] == "ST1") & (inv["date"] > AS_OF - pd.Timedelta(days=10)))
    assert "stale_count" not in codes(ds)
    assert "stale_count" in codes(ds, rules=HealthRules(stale_count_days=7))


def test_a_selling_sku_no_longer_counted_at_a_counted_location_is_reported() -> None:
    ds = healthy()
    inv = ds.inventory
    ds = _drop_counts(
        ds, (inv["sku"] == "B") & (inv["location_id"] == "WH1") & (inv["date"] > AS_OF - pd.Timedelta(days=20))
    )
    (w,) = [w for w in check_health(ds).warnings if w.code == WarningCode.STALE_SKU_COUNT]
    assert w.count == 1 and w.examples[0].startswith("B @ WH1")


def test_skus_with_sales_but_no_count_are_reported_with_their_number() -> None:
    ds = healthy()
    extra = frame(
        "sales",
        [
            {"date": day(-1), "sku": "C", "location_id": "WH1", "qty": 1.0},
            {"date": day(-2), "sku": "D", "location_id": "ST1", "qty": 1.0},
        ],
    )
    ds = replace(ds, sales=pd.concat([ds.sales, extra], ignore_index=True))
    (w,) = [w for w in check_health(ds).warnings if w.code == WarningCode.SALES_WITHOUT_COUNT]
    assert w.count == 2 and w.table == "inventory"
    assert w.examples == ("C @ WH1", "D @ ST1")


@pytest.mark.parametrize(
    ("promised", "status", "received", "fires"),
    [
        (-20, "open", None, True),
        (-10, "open", None, False),
        (-20, "received", -1, False),
        (-20, "cancelled", None, False),
        (-20, "open", 5, True),
    ],  # received after as-of: still open then
)
def test_purchase_orders_open_far_past_their_promise_are_reported(
    promised: int, status: str, received: int | None, fires: bool
) -> None:
    ds = healthy()
    row = {
        "po_id": "LATE",
        "line_no": 1.0,
        "sku": "B",
        "location_id": "ST1",
        "supplier_id": "S1",
        "qty": 5.0,
        "order_date": day(promised - 7),
        "promised_date": day(promised),
        "status": status,
        "received_date": day(received) if received is not None else None,
        "received_qty": 5.0 if received is not None else None,
    }
    ds = replace(
        ds, purchase_orders=pd.concat([ds.purchase_orders, frame("purchase_orders", [row])], ignore_index=True)
    )
    warnings = [w for w in check_health(ds).warnings if w.code == WarningCode.PO_OVERDUE]
    assert bool(warnings) is fires
    if fires:
        assert warnings[0].count == 1 and warnings[0].examples[0].startswith("LATE: S1 -> ST1")
        assert "20 days late" in warnings[0].examples[0]


def test_an_open_po_without_a_promise_is_due_after_the_lead_time() -> None:
    ds = healthy()
    row = {
        "po_id": "NOPROM",
        "line_no": 1.0,
        "sku": "A",
        "location_id": "WH1",
        "supplier_id": "S1",
        "qty": 5.0,
        "order_date": day(-40),
        "status": "open",
    }  # supplier lead time 7 -> due day -33
    ds = replace(
        ds, purchase_orders=pd.concat([ds.purchase_orders, frame("purchase_orders", [row])], ignore_index=True)
    )
    assert "po_overdue" in codes(ds)
    assert "po_overdue" not in codes(ds, rules=HealthRules(overdue_po_days=40))


def test_a_location_whose_sales_stopped_is_a_stale_feed() -> None:
    ds = healthy()
    s = ds.sales
    ds = replace(ds, sales=s.loc[~((s["location_id"] == "ST1") & (s["date"] > AS_OF - pd.Timedelta(days=10)))])
    (w,) = [w for w in check_health(ds).warnings if w.code == WarningCode.STALE_FEED]
    assert w.table == "sales" and "1 of 2 locations" in w.message and w.examples[0].startswith("ST1")
    assert "stale_feed" not in codes(ds, rules=HealthRules(stale_feed_days=12))


def test_purchase_orders_that_stopped_arriving_are_a_stale_feed() -> None:
    ds = healthy()
    ds = replace(ds, purchase_orders=ds.purchase_orders[ds.purchase_orders["po_id"] != "P1"])
    (w,) = [w for w in check_health(ds).warnings if w.code == WarningCode.STALE_FEED]
    assert w.table == "purchase_orders" and "60 days" in w.message


def test_missing_optional_tables_and_unknown_lead_times_are_reported() -> None:
    ds = healthy()
    no_items = replace(
        ds,
        present=ALL - {"items", "purchase_orders"},
        items=empty_frame("items"),
        purchase_orders=empty_frame("purchase_orders"),
    )
    found = check_health(no_items).warnings
    assert sorted(w.table for w in found if w.code == WarningCode.MISSING_TABLE) == ["items", "purchase_orders"]
    no_lead = replace(ds, suppliers=frame("suppliers", [{"supplier_id": "S1"}]))
    (w,) = [w for w in check_health(no_lead).warnings if w.code == WarningCode.NO_LEAD_TIME]
    assert w.count == 2 and w.severity == "info"


def test_rows_after_the_as_of_date_are_an_info_and_checks_use_that_date() -> None:
    report = check_health(healthy(), as_of=AS_OF - pd.Timedelta(days=3))
    future = [w for w in report.warnings if w.code == WarningCode.FUTURE_ROWS]
    assert {w.table for w in future} == {"sales", "inventory"}
    assert next(w for w in future if w.table == "sales").count == 12
    assert all(w.severity == "info" for w in future)
    assert report.warnings[-1].severity == "info"  # warnings come before infos


def test_an_empty_dataset_reports_that_there_is_no_data() -> None:
    report = check_health(Dataset(present=frozenset({"sales", "inventory"})))
    assert report.codes() == ["no_data"] and report.as_of is None


def test_warnings_have_the_documented_json_shape() -> None:
    ds = healthy()
    ds = replace(
        ds,
        sales=pd.concat(
            [ds.sales, frame("sales", [{"date": day(0), "sku": "Z", "location_id": "WH1", "qty": 1.0}])],
            ignore_index=True,
        ),
    )
    (item,) = check_health(ds).warnings_json()
    assert list(item) == ["code", "table", "severity", "message", "count", "examples"]
    assert item["code"] == "sales_without_count" and item["examples"] == ["Z @ WH1"]
    assert check_health(ds).to_dict()["as_of"] == "2025-03-31"


def test_rows_after_the_as_of_date_do_not_change_any_warning_but_future_rows() -> None:
    from stockwarden.ingest.sample import build_company

    t = build_company(seed=5, n_skus=30, n_locations=3, days=200).tables
    ds = Dataset(**t, present=frozenset(t))  # type: ignore[arg-type]
    cut = ds.last_date - pd.Timedelta(days=40)  # type: ignore[operator]
    inv = ds.inventory  # ST-GZ stopped counting 30 days before the cut: a warning to keep
    ds = replace(ds, inventory=inv[~((inv["location_id"] == "ST-GZ") & (inv["date"] > cut - pd.Timedelta(days=30)))])
    future = ds.sales["date"] > cut
    changed = replace(
        ds,
        sales=ds.sales.assign(qty=ds.sales["qty"].where(~future, 0.0)),
        inventory=ds.inventory[ds.inventory["date"] <= cut + pd.Timedelta(days=3)],
        purchase_orders=ds.purchase_orders[ds.purchase_orders["order_date"] <= cut],
    )

    def known(report_ds: Dataset) -> list[dict[str, object]]:
        return [w for w in check_health(report_ds, as_of=cut).warnings_json() if w["code"] != "future_rows"]

    assert known(ds) == known(changed)
    assert "stale_count" in [w["code"] for w in known(ds)]
