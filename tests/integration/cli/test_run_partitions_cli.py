"""``stockwarden run --partitions`` and ``--backend dask``: the partitioned daily run from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.ingest.sample import generate_company
from stockwarden.store.db import make_engine, upgrade_database
from stockwarden.store.repo import import_dataset


@pytest.fixture
def db(tmp_path: Path) -> str:
    folder = generate_company(tmp_path / "co", seed=1, n_skus=12, n_locations=3, days=120)
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    import_dataset(engine, folder)
    engine.dispose()
    (tmp_path / "stockwarden.toml").write_text('[run]\nforecast_mode = "stats"\n')
    return url


def test_run_in_partitions_reports_each_partition_and_the_run(db: str, tmp_path: Path) -> None:
    args = ["run", "--db", db, "--config", str(tmp_path / "stockwarden.toml"), "--partitions", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for k in (1, 2, 3):
        assert f"partition {k}: 12 SKU-locations assessed in" in result.output
    assert "alerts:" in result.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "partition 1:" not in again.output  # a completed run is not partitioned again
    assert "nothing new" in again.output


@pytest.mark.parametrize("value", ["0", "-2", "many", "2.5"])
def test_a_bad_partition_count_is_a_one_line_error(db: str, value: str) -> None:
    result = CliRunner().invoke(app, ["run", "--db", db, "--partitions", value])
    assert result.exit_code == 2
    assert f"--partitions {value!r} is neither a whole number of partitions (1 or more) nor 'auto'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.distributed
def test_an_unreachable_scheduler_is_a_one_line_error(db: str) -> None:
    pytest.importorskip("distributed")
    result = CliRunner().invoke(app, ["run", "--db", db, "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:9'" in result.output
    assert "Traceback" not in result.output
