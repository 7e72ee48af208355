"""Partitions of the daily run: every SKU-location in exactly one partition, each loading only its rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from stockwarden.ingest.sample import generate_company
from stockwarden.store.partition import load_master, load_partition, plan_partitions, store_fingerprint
from stockwarden.store.repo import import_dataset, load_dataset_from_db


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_company(tmp_path_factory.mktemp("co"), seed=2, n_skus=30, n_locations=4, days=90)


def test_with_enough_locations_partitions_hold_whole_locations() -> None:
    plan = plan_partitions(["A", "B", "C"], ["L1", "L2", "L3", "L4", "L5"], partitions=2)
    assert [(p.locations, p.skus, p.n_series) for p in plan] == [
        (("L1", "L2", "L3"), None, 9),
        (("L4", "L5"), None, 6),
    ]
    assert [p.label for p in plan] == ["1/2", "2/2"]


def test_with_few_locations_partitions_hold_hashed_skus_everywhere() -> None:
    skus = [f"S{i:03d}" for i in range(200)]
    plan = plan_partitions(skus, ["L1", "L2"], partitions=4)
    assert len(plan) == 4
    assert all(p.locations == ("L1", "L2") for p in plan)
    held = [s for p in plan for s in (p.skus or ())]
    assert sorted(held) == skus  # each SKU in exactly one partition
    assert all(30 <= len(p.skus or ()) <= 70 for p in plan)  # hashing spreads them


def test_the_plan_is_the_same_whatever_the_input_order() -> None:
    skus = [f"S{i}" for i in range(50)]
    a = plan_partitions(skus, ["L2", "L1"], partitions=3)
    b = plan_partitions(list(reversed(skus)), ["L1", "L2"], partitions=3)
    assert a == b


def test_partition_count_follows_the_series_per_partition() -> None:
    plan = plan_partitions([f"S{i}" for i in range(100)], [f"L{i}" for i in range(10)], max_series=250)
    assert len(plan) == 4
    with pytest.raises(ValueError, match="partitions must be at least 1"):
        plan_partitions(["A"], ["L"], partitions=0)


@pytest.mark.parametrize("partitions", [3, 6])  # by location (4 locations >= 3) and by hashed SKU (6 > 4)
def test_partitions_load_exactly_the_whole_dataset_between_them(
    folder: Path, engine: sa.Engine, partitions: int
) -> None:
    import_dataset(engine, folder)
    whole = load_dataset_from_db(engine)
    skus, locs = load_master(engine)
    assert (len(skus), len(locs)) == (30, 4)
    plan = plan_partitions(skus, locs, partitions=partitions)
    parts = [load_partition(engine, p) for p in plan]
    for name in ("sales", "inventory", "purchase_orders"):
        got = pd.concat([p.table(name) for p in parts], ignore_index=True).sort_values("line").reset_index(drop=True)
        want = whole.table(name).sort_values("line").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, obj=name)
    for part, ds in zip(plan, parts, strict=True):
        assert set(ds.sales["location_id"]) <= set(part.locations)
        if part.skus is not None:
            assert set(ds.items["sku"]) == set(part.skus)
        assert len(ds.suppliers) == len(whole.suppliers)
        promos = ds.promotions
        assert set(promos["location_id"].fillna("")) <= {"", *part.locations}


def test_the_store_fingerprint_follows_the_data_known_at_the_date(folder: Path, engine: sa.Engine) -> None:
    import datetime as dt

    import_dataset(engine, folder)
    sales = pd.read_csv(folder / "sales.csv")
    last = dt.date.fromisoformat(str(sales["date"].max()))
    before = last - dt.timedelta(days=1)
    fp_last, fp_before = store_fingerprint(engine, last), store_fingerprint(engine, before)
    assert fp_last != fp_before
    import_dataset(engine, folder)  # the same files again: nothing changes
    assert store_fingerprint(engine, last) == fp_last
    changed = sales.copy()
    changed.loc[changed["date"] == str(last), "qty"] += 1  # only the last day's sales change
    changed.to_csv(folder.parent / "sales_changed.csv", index=False)
    (folder.parent / "co2").mkdir(exist_ok=True)
    for f in folder.iterdir():
        (folder.parent / "co2" / f.name).write_bytes(f.read_bytes())
    changed.to_csv(folder.parent / "co2" / "sales.csv", index=False)
    import_dataset(engine, folder.parent / "co2")
    assert store_fingerprint(engine, last) != fp_last
    assert store_fingerprint(engine, before) == fp_before


def test_the_newest_date_comes_from_the_import_digests_and_else_from_the_rows(folder: Path, engine: sa.Engine) -> None:
    import datetime as dt

    from stockwarden.store.partition import last_date
    from stockwarden.store.tables import DIGESTS

    assert last_date(engine) is None
    import_dataset(engine, folder)
    newest = max(
        dt.date.fromisoformat(str(pd.read_csv(folder / f"{name}.csv")["date"].max())) for name in ("sales", "inventory")
    )
    assert last_date(engine) == newest
    with engine.begin() as conn:  # rows written without an import have no digests: their dates are read
        conn.execute(DIGESTS.delete())
    assert last_date(engine) == newest
