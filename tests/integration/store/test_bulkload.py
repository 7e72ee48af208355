"""The bulk loader: an empty database loaded chunk by chunk holds what ``stockwarden import`` would store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from stockwarden.errors import SchemaError, StoreError
from stockwarden.ingest.read import read_raw_table
from stockwarden.ingest.sample.large import generate_large_company
from stockwarden.ingest.schema import TABLE_ORDER
from stockwarden.store.bulkload import arrow_text, bulk_import
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.repo import import_dataset, load_dataset_from_db
from stockwarden.store.tables import BATCHES, DIGESTS


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("large")
    generate_large_company(folder, seed=4, n_skus=40, n_locations=8, days=90, block_series=100)
    return folder


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if c != "line"]
    by = ["line", *cols] if "line" in frame.columns else cols
    return frame.sort_values(by, kind="stable").reset_index(drop=True) if by else frame.reset_index(drop=True)


def test_the_generator_writes_one_row_group_per_block(company: Path) -> None:
    sales = pq.ParquetFile(company / "sales.parquet")
    assert sales.num_row_groups == 4  # 40 items, 12 per block of 100 series at 8 locations
    locs = pd.read_parquet(company / "locations.parquet")
    assert list(locs["location_id"])[-2:] == ["ST-0007", "ST-0008"]


def test_arrow_text_matches_the_text_of_a_whole_file_read(company: Path) -> None:
    for name in ("sales", "inventory", "purchase_orders"):
        whole = read_raw_table(company / f"{name}.parquet", name).frame
        fast = arrow_text(pq.read_table(company / f"{name}.parquet"))
        pd.testing.assert_frame_equal(fast.astype(object), whole.astype(object), check_dtype=False)


def test_a_bulk_load_stores_what_an_import_stores(company: Path, engine: sa.Engine, tmp_path: Path) -> None:
    report = bulk_import(engine, company)
    assert report.chunks["sales"] == 4
    reference = make_engine(f"sqlite:///{tmp_path / 'ref.db'}")
    upgrade_database(reference)
    expected = import_dataset(reference, company)
    for name in TABLE_ORDER:
        if name in expected.tables:
            assert report.tables[name].counts() == expected.tables[name].counts(), name
    got, want = load_dataset_from_db(engine), load_dataset_from_db(reference)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(_sorted(got.table(name)), _sorted(want.table(name)), obj=name)
    with engine.connect() as a, reference.connect() as b:
        q = sa.select(DIGESTS.c.table_name, DIGESTS.c.part, DIGESTS.c.n_rows, DIGESTS.c.hash_sum)
        assert sorted(a.execute(q).all()) == sorted(b.execute(q).all())
        counts = json.loads(a.execute(sa.select(BATCHES.c.counts_json)).scalar_one())
    assert counts["sales"]["inserted"] == expected.tables["sales"].inserted
    # The next daily import finds everything already stored.
    again = import_dataset(engine, company)
    assert all(t.inserted == 0 and t.updated == 0 for t in again.tables.values())


def test_rejected_rows_go_to_the_quarantine_with_their_row_number(
    company: Path, engine: sa.Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for f in company.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    source = pq.ParquetFile(company / "inventory.parquet")
    with pq.ParquetWriter(folder / "inventory.parquet", source.schema_arrow) as out:
        for g in range(source.num_row_groups):
            group = source.read_row_group(g)
            if g == 0:
                on_hand = group.column("on_hand").to_numpy().copy()
                on_hand[5] = -3.0
                group = group.set_column(group.schema.get_field_index("on_hand"), "on_hand", pa.array(on_hand))
            out.write_table(group)
    report = bulk_import(engine, folder)
    assert report.tables["inventory"].rejected == 1
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT table_name, line, column_name, value FROM import_rejects")).all()
    assert [tuple(r) for r in rows] == [("inventory", 6, "on_hand", "-3")]


def test_a_key_spanning_two_row_groups_is_refused_and_nothing_is_written(
    company: Path, engine: sa.Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for f in company.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    sales = pq.read_table(company / "sales.parquet")
    order = np.argsort(sales.column("date").to_numpy(), kind="stable")  # date-major: series span row groups
    pq.write_table(sales.take(pa.array(order)), folder / "sales.parquet", row_group_size=len(order) // 3 + 1)
    with pytest.raises(SchemaError, match=r"sales.parquet: the rows of sku=.* are in row groups 1 and 2"):
        bulk_import(engine, folder)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM items")).scalar() == 0


def test_a_database_with_data_is_refused(company: Path, engine: sa.Engine) -> None:
    bulk_import(engine, company)
    with pytest.raises(StoreError, match=r"already holds data .* only loads an empty database"):
        bulk_import(engine, company)


def test_awkward_text_round_trips_through_copy_in_and_out(engine: sa.Engine, tmp_path: Path) -> None:
    from tests.ingest_helpers import minimal_folder, write_text

    from stockwarden.ingest import read_dataset

    names = ["Cable, 2 m", 'Mug "Panda"', "back\\slash \\N", "NULL", "急 茶", "multi\nline", "tab\there"]
    lines = "\n".join(f'S{i},"{n.replace(chr(34), chr(34) * 2)}",7.5,3' for i, n in enumerate(names))
    folder = minimal_folder(tmp_path / "ds", sales='date,sku,qty,note\n2024-01-01,S0,3,"a,b"\n2024-01-02,S1,2.5,\n')
    write_text(folder, "items.csv", "sku,name,unit_cost,pack_size\n" + lines + "\n")
    bulk_import(engine, folder)
    got = load_dataset_from_db(engine)
    want, _ = read_dataset(folder)
    for name in ("items", "sales"):
        pd.testing.assert_frame_equal(_sorted(got.table(name)), _sorted(want.table(name)), obj=name)
    assert list(got.items["name"]) == names


def test_the_copy_fallback_reads_what_the_arrow_driver_reads(
    company: Path, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the ADBC driver, PostgreSQL reads go through psycopg's COPY: the same frames, value for value."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the COPY read path is PostgreSQL's")
    from stockwarden.store import repo

    bulk_import(engine, company)
    arrow = load_dataset_from_db(engine)
    monkeypatch.setattr(repo, "_adbc_read", lambda *_args: None)
    copied = load_dataset_from_db(engine)
    for name in TABLE_ORDER:
        pd.testing.assert_frame_equal(arrow.table(name), copied.table(name), obj=name)
    assert len(arrow.sales) > 0


def test_rows_come_back_in_storage_order_after_an_update_moved_one(company: Path, engine: sa.Engine) -> None:
    """PostgreSQL writes an updated row at the end of the table; reads still give the rows by id."""
    bulk_import(engine, company)
    before = load_dataset_from_db(engine).sales
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sales SET qty = qty + 1 WHERE id = (SELECT min(id) FROM sales)"))
    after = load_dataset_from_db(engine).sales
    assert after["qty"].iloc[0] == before["qty"].iloc[0] + 1
    pd.testing.assert_frame_equal(after.iloc[1:], before.iloc[1:])


def _indexes(engine: sa.Engine) -> dict[str, object]:
    inspector = sa.inspect(engine)
    return {
        name: (
            inspector.get_pk_constraint(name)["constrained_columns"],
            sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"])) for ix in inspector.get_indexes(name)),
        )
        for name in ("sales", "inventory", "purchase_orders")
    }


def test_the_indexes_dropped_for_the_load_are_all_built_again(company: Path, engine: sa.Engine) -> None:
    before = _indexes(engine)
    assert all(pk == ["id"] and ixs for pk, ixs in before.values())  # type: ignore[misc]
    report = bulk_import(engine, company)
    assert _indexes(engine) == before
    assert report.seconds["indexes"] > 0
    with engine.connect() as conn:  # the keys hold: a second row with a stored id is refused
        stored = conn.execute(sa.text("SELECT id FROM sales LIMIT 1")).scalar_one()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO sales (id, seq, row_hash, batch_id, date, sku, qty) VALUES (:i, 0, 0, 1, :d, 'X', 1)"),
            {"i": stored, "d": pd.Timestamp("2024-01-01").date()},
        )


def test_on_postgresql_the_rows_are_written_frozen_and_all_visible(company: Path, engine: sa.Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY FREEZE is PostgreSQL's")
    bulk_import(engine, company)
    with engine.connect() as conn:
        pages = conn.execute(
            sa.text(
                "SELECT relname, relpages, relallvisible FROM pg_class "
                "WHERE relname IN ('sales', 'inventory', 'purchase_orders') ORDER BY relname"
            )
        ).all()
    assert [r[0] for r in pages] == ["inventory", "purchase_orders", "sales"]
    assert all(r[1] > 0 and r[2] == r[1] for r in pages), pages  # index-only scans need no heap visit


def test_repeated_lines_get_the_seq_an_import_gives_them() -> None:
    from stockwarden.store.bulkload import CLUSTER_ORDER, _with_seq
    from stockwarden.store.upsert import with_seq

    day = pd.Timestamp("2024-01-01")
    frame = pd.DataFrame(
        {
            "date": [day, day, day, day + pd.Timedelta(days=1), day, day, day],
            "sku": ["A", "A", "A", "A", "B", "A", "A"],
            "location_id": ["L1", "L1", "L2", "L1", "L1", "L1", None],
            "order_id": [None, None, None, None, None, "o-1", None],
            "qty": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            "line": [1, 2, 3, 4, 5, 6, 7],
        }
    )
    ordered = frame.sort_values(list(CLUSTER_ORDER["sales"]), kind="stable", ignore_index=True)
    fast, reference = _with_seq(ordered, "sales"), with_seq(ordered, "sales")
    assert fast["seq"].tolist() == reference["seq"].tolist()
    assert sorted(zip(fast["line"], fast["seq"], strict=True)) == [
        (1, 0),
        (2, 1),
        (3, 0),
        (4, 0),
        (5, 0),
        (6, 0),
        (7, 0),
    ]
    first_line = ordered.loc[ordered["line"] == 1]
    thrice = pd.concat([ordered, first_line]).sort_values(list(CLUSTER_ORDER["sales"]), kind="stable")
    assert _with_seq(thrice.reset_index(drop=True), "sales")["seq"].max() == 2
