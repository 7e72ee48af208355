"""``stockwarden sample`` and ``stockwarden import-bulk``: a large company from nothing to a loaded database."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa
from typer.testing import CliRunner

from stockwarden.cli import app


def test_sample_then_import_bulk_loads_every_row(tmp_path: Path) -> None:
    folder = tmp_path / "co"
    made = CliRunner().invoke(
        app, ["sample", str(folder), "--skus", "30", "--locations", "9", "--days", "70", "--block-series", "90"]
    )
    assert made.exit_code == 0, made.output
    assert "270 SKU-locations" in made.output
    assert pq.ParquetFile(folder / "sales.parquet").num_row_groups == 3
    db = f"sqlite:///{tmp_path / 'big.db'}"
    loaded = CliRunner().invoke(app, ["import-bulk", str(folder), "--db", db])
    assert loaded.exit_code == 0, loaded.output
    n_sales = pq.ParquetFile(folder / "sales.parquet").metadata.num_rows
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sales")).scalar() == n_sales
        assert conn.execute(sa.text("SELECT count(DISTINCT location_id) FROM inventory")).scalar() == 9
    engine.dispose()


def test_import_bulk_into_a_database_with_data_exits_2_with_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "co"
    assert (
        CliRunner().invoke(app, ["sample", str(folder), "--skus", "10", "--locations", "2", "--days", "60"]).exit_code
        == 0
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert CliRunner().invoke(app, ["import-bulk", str(folder), "--db", db]).exit_code == 0
    again = CliRunner().invoke(app, ["import-bulk", str(folder), "--db", db])
    assert again.exit_code == 2
    assert "already holds data" in again.output
    assert "Traceback" not in again.output
    missing = CliRunner().invoke(app, ["import-bulk", str(tmp_path / "nowhere"), "--db", db])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
