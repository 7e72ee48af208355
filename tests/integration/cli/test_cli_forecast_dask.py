"""``stockwarden forecast --backend dask``: same file as local, clear one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from tests.factories import make_dataset_folder
from typer.testing import CliRunner

from stockwarden.cli import app

pytestmark = pytest.mark.distributed
ARGS = ["--as-of", "2024-03-20", "--horizon", "5", "--mode", "stats"]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_dataset_folder(tmp_path / "ds", n_skus=5, days=90)


@pytest.mark.slow  # two forecasts, ~5 s with the first statsforecast compile
def test_the_dask_backend_writes_the_same_file_as_local(folder: Path, tmp_path: Path, scheduler: str) -> None:
    local = CliRunner().invoke(app, ["forecast", str(folder), *ARGS, "--out", str(tmp_path / "local.csv")])
    assert local.exit_code == 0, local.output
    args = ["--backend", "dask", "--scheduler", scheduler, "--shards", "2", "--out", str(tmp_path / "dask.csv")]
    res = CliRunner().invoke(app, ["forecast", str(folder), *ARGS, *args])
    assert res.exit_code == 0, res.output
    a, b = pd.read_csv(tmp_path / "local.csv"), pd.read_csv(tmp_path / "dask.csv")
    cols = ["sku", "location_id", "date", "mean", "model"]  # stats models are per series: shards change no mean
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert len(b) == 5 * 5


def test_a_scheduler_in_the_environment_selects_the_dask_backend(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOCKWARDEN_DASK_SCHEDULER", "tcp://scheduler-without-port")  # refused at once
    res = CliRunner().invoke(app, ["forecast", str(folder), *ARGS, "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2
    assert "cannot connect to the Dask scheduler at 'tcp://scheduler-without-port'" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "ray"], "not one of local, dask"),
        (["--shards", "2"], "only used with --backend dask"),
        (["--backend", "dask", "--scheduler", "nowhere", "--shards", "0"], ">= 1"),
        (["--scheduler", "nowhere"], "like tcp://host:8786"),
    ],
)
def test_bad_backend_options_are_one_clear_line_and_exit_code_2(
    folder: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    res = CliRunner().invoke(app, ["forecast", str(folder), *ARGS, *args, "--out", str(tmp_path / "x.csv")])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
