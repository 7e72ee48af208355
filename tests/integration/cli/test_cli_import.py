"""``stockwarden import`` and ``stockwarden rejects``: the JSON contract, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.factories import make_dataset_folder
from tests.ingest_helpers import minimal_folder, write_text
from typer.testing import CliRunner

from stockwarden.cli import app

COUNT_KEYS = ["read", "accepted", "rejected", "duplicates", "inserted", "updated", "unchanged"]
REJECT_KEYS = ["table", "file", "line", "column", "value", "reason"]


def _import(tmp_path: Path, folder: Path, *extra: str) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    report = tmp_path / "report.json"
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    result = CliRunner().invoke(app, ["import", str(folder), "--db", db, "--json", str(report), *extra])
    payload = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return result.exit_code, result.output, payload


def _one_line_error(result_output: str) -> str:
    lines = [ln for ln in result_output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, result_output
    assert "Traceback" not in result_output
    return lines[0]


def test_import_writes_the_documented_json_report(tmp_path: Path) -> None:
    folder = make_dataset_folder(tmp_path / "ds", n_skus=2, days=40)
    code, output, payload = _import(tmp_path, folder)
    assert code == 0, output
    assert list(payload) == ["tables", "rejects", "warnings"]
    for name, counts in payload["tables"].items():
        assert list(counts) == COUNT_KEYS, name
        assert counts["read"] == counts["accepted"] + counts["rejected"] + counts["duplicates"]
        assert counts["inserted"] == counts["accepted"]
    assert payload["rejects"] == [] and isinstance(payload["warnings"], list)
    assert "sales.csv -> sales" in output and "Data health" in output
    code, _, again = _import(tmp_path, folder)
    assert code == 0
    assert all(c["inserted"] == 0 and c["updated"] == 0 for c in again["tables"].values())


def test_rows_broken_in_every_way_are_put_aside_with_line_and_reason(tmp_path: Path) -> None:
    folder = minimal_folder(
        tmp_path / "ds",
        items="sku,name,pack_size,service_level\nA,Widget,6,0.9\nB,Gadget,0,0.9\nC,Thing,1,2\nA,Again,6,0.9\n",
        sales=(
            "date,sku,qty,location_id,on_promotion\n"
            "2024-01-01,A,3,WH1,0\n"  # 2 good
            ",A,3,WH1,0\n"  # 3 missing date
            "2024-02-30,A,3,WH1,0\n"  # 4 impossible date
            "2024-01-02,A,three,WH1,0\n"  # 5 qty not a number
            "2024-01-02,Z,1,WH1,0\n"  # 6 unknown sku
            "2024-01-02,A,1,WH9,0\n"  # 7 unknown location
            "2024-01-02,A,1,,0\n"  # 8 empty location -> MAIN, unknown
            "2024-01-02,A,1,WH1,maybe\n"  # 9 bad flag
            "2024-01-01,A,3,WH1,0\n"  # 10 exact duplicate of line 2
            "2024-01-03,A,1,WH1\n"  # 11 malformed: too few fields
            "2024-01-03,A,-2,WH1,0\n"
        ),  # 12 good: a return
        inventory=("date,sku,on_hand,location_id\n2024-01-02,A,10,WH1\n2024-01-02,A,-1,WH1\n2024-01-02,A,11,WH1\n"),
        extra={
            "locations.csv": "location_id\nWH1\n",
            "purchase_orders.csv": (
                "po_id,sku,qty,order_date,received_date,status,location_id\n"
                "P1,A,5,2024-01-01,2024-01-04,received,WH1\n"
                "P2,A,5,2024-01-05,2024-01-02,received,WH1\n"
                "P3,A,5,2024-01-05,,received,WH1\n"
                "P4,A,5,2024-01-05,,lost,WH1\n"
            ),
        },
    )
    code, output, payload = _import(tmp_path, folder)
    assert code == 0, output
    got = {(r["table"], r["line"]): (r["column"], r["value"], r["reason"]) for r in payload["rejects"]}
    expected_columns = {
        ("items", 3): "pack_size",
        ("items", 4): "service_level",
        ("items", 5): "sku",
        ("sales", 3): "date",
        ("sales", 4): "date",
        ("sales", 5): "qty",
        ("sales", 6): "sku",
        ("sales", 7): "location_id",
        ("sales", 8): "location_id",
        ("sales", 9): "on_promotion",
        ("sales", 11): "",
        ("inventory", 3): "on_hand",
        ("inventory", 4): "on_hand",
        ("purchase_orders", 3): "received_date",
        ("purchase_orders", 4): "received_date",
        ("purchase_orders", 5): "status",
    }
    assert {k: v[0] for k, v in got.items()} == expected_columns
    assert all(reason for _, _, reason in got.values())
    assert "MAIN" in got[("sales", 8)][2]
    tables = payload["tables"]
    assert tables["sales"] == {
        "read": 11,
        "accepted": 2,
        "rejected": 8,
        "duplicates": 1,
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
    }
    for counts in tables.values():
        assert counts["read"] == counts["accepted"] + counts["rejected"] + counts["duplicates"]
    listed = CliRunner().invoke(
        app, ["rejects", "--db", f"sqlite:///{tmp_path / 'sw.db'}", "--table", "sales", "--json"]
    )
    assert listed.exit_code == 0
    assert sorted(r["line"] for r in json.loads(listed.output)) == [3, 4, 5, 6, 7, 8, 9, 11]


def test_rejects_lists_the_latest_import_or_all(tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds", sales="date,sku,qty\n2024-01-01,A,1\n2024-01-02,Z,1\n")
    db = f"sqlite:///{tmp_path / 'sw.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(folder), "--db", db]).exit_code == 0
    assert runner.invoke(app, ["import", str(folder), "--db", db]).exit_code == 0
    latest = runner.invoke(app, ["rejects", "--db", db])
    assert latest.exit_code == 0 and "sku is not in items" in latest.output
    assert "1 in the latest import" in latest.output
    everything = runner.invoke(app, ["rejects", "--db", db, "--all", "--json"])
    assert len(json.loads(everything.output)) == 2
    assert "No rows were put aside" in runner.invoke(app, ["rejects", "--db", db, "--table", "items"]).output


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda p: p / "missing", [], "does not exist"),
        (
            lambda p: minimal_folder(p / "ds", sales="date,sku,quantity\n2024-01-01,A,1\n"),
            [],
            "sales.csv: required column 'qty' is missing",
        ),
        (
            lambda p: (minimal_folder(p / "ds"), (p / "ds" / "inventory.csv").unlink(), p / "ds")[2],
            [],
            "required table inventory is missing",
        ),
        (
            lambda p: (
                minimal_folder(p / "ds"),
                (p / "ds" / "sales.csv").write_bytes(b"\x00\xff\xfe garbage"),
                p / "ds",
            )[2],
            [],
            "sales.csv",
        ),
        (lambda p: minimal_folder(p / "ds"), ["--mapping", "nope.toml"], "mapping file nope.toml does not exist"),
        (
            lambda p: minimal_folder(p / "ds"),
            ["--db", "postgresql://nobody@127.0.0.1:1/none"],
            "cannot reach the database",
        ),
    ],
)
def test_import_that_cannot_run_exits_2_with_one_line(tmp_path: Path, setup, args, message) -> None:  # type: ignore[no-untyped-def]
    folder = setup(tmp_path)
    db = [] if "--db" in args else ["--db", f"sqlite:///{tmp_path / 'sw.db'}"]
    result = CliRunner().invoke(app, ["import", str(folder), *db, *args])
    assert result.exit_code == 2, result.output
    assert message in _one_line_error(result.output)


@pytest.mark.slow  # starts a new interpreter that imports every command module
def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("stockwarden")
    if not exe.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    proc = subprocess.run(
        [str(exe), "import", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "does not exist" in _one_line_error(proc.stderr) and proc.stdout == ""


@pytest.mark.slow
def test_the_replay_dataset_imports_with_zero_rejects(tmp_path: Path, shared_data: Path) -> None:
    code, output, payload = _import(tmp_path, shared_data / "replay_dev")
    assert code == 0, output
    assert payload["rejects"] == []
    assert all(c["rejected"] == 0 and c["duplicates"] == 0 for c in payload["tables"].values())
    assert payload["tables"]["sales"]["inserted"] > 100_000


def test_import_to_stdout_prints_only_json(tmp_path: Path) -> None:
    folder = minimal_folder(tmp_path / "ds")
    write_text(folder, "events.csv", "date,name\n2024-01-01,New Year\n")
    result = CliRunner().invoke(app, ["import", str(folder), "--db", f"sqlite:///{tmp_path / 'a.db'}", "--json", "-"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["tables"]["events"]["inserted"] == 1
