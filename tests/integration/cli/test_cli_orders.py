"""`stockwarden proposals ...` on a real SQLite database: create, list, show, approve, change, reject, export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.factories import make_dataset_folder, write_table
from typer.testing import CliRunner

from stockwarden.cli import app
from stockwarden.ingest.dataset import read_dataset

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, Path, Path]:
    """A database with three draft proposals made from a hand-written assessment of a small dataset."""
    folder = make_dataset_folder(tmp_path / "ds", n_skus=3)
    assessment = tmp_path / "assess.csv"
    pd.DataFrame(
        [
            {
                "as_of": "2024-04-29",
                "sku": f"SKU-00{i}",
                "location_id": "WH1",
                "level": "warning",
                "stockout_probability": 0.5 + 0.1 * i,
                "expected_stockout_date": "2024-05-05",
                "days_of_cover": 6,
                "on_hand": 20,
                "on_order": 0,
                "reorder_point": 40,
                "safety_stock": 10,
                "order_up_to": 90,
                "suggested_order_qty": 70,
                "reasons": "below_reorder_point",
            }
            for i in range(3)
        ]
    ).to_csv(assessment, index=False)
    url = f"sqlite:///{tmp_path / 'sw.db'}"
    out = cli("proposals", "create", "--assessment", str(assessment), str(folder), "--db", url)
    assert out.exit_code == 0, out.output
    assert "3 line(s) in 1 draft order(s)" in out.output
    return url, folder, tmp_path


def test_create_twice_stores_nothing_new(setup) -> None:  # type: ignore[no-untyped-def]
    url, folder, tmp = setup
    out = cli("proposals", "create", "--assessment", str(tmp / "assess.csv"), str(folder), "--db", url)
    assert out.exit_code == 0 and "'created': 0" in out.output and "'unchanged': 3" in out.output


def test_list_and_show_explain_the_numbers(setup) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = setup
    listing = cli("proposals", "list", "--db", url)
    assert listing.exit_code == 0 and "3 proposal line(s)" in listing.output
    assert "no proposals match" in cli("proposals", "list", "--supplier", "NOPE", "--db", url).output
    show = " ".join(cli("proposals", "show", "1", "--db", url).output.split())
    assert "order-up-to 90 − position 20 = 70 → 72 (pack 6); MOQ 12 ok" in show
    assert "order.proposed" in show


def test_approve_change_reject_and_export_round_trip(setup) -> None:  # type: ignore[no-untyped-def]
    url, folder, tmp = setup
    assert cli("proposals", "approve", "1", "--as", "buyer", "--user", "ann", "--db", url).exit_code == 0
    changed = cli("proposals", "change", "2", "--qty", "96", "--reason", "promotion", "--as", "buyer", "--db", url)
    assert changed.exit_code == 0 and "to 96" in changed.output
    assert cli("proposals", "reject", "3", "--reason", "overstock", "--db", url).exit_code == 0
    out_file = folder / "purchase_orders.csv"
    out_file.unlink()
    export = cli("proposals", "export", "--out", str(out_file), "--chinese-headers", "--db", url)
    assert export.exit_code == 0 and "2 marked exported" in export.output
    ds, result = read_dataset(folder)  # the ERP file is a valid purchase_orders table
    assert result.rejects.empty
    assert sorted(ds.purchase_orders["qty"]) == [72.0, 96.0]
    assert "exported" in cli("proposals", "list", "--status", "exported", "--db", url).output
    again = cli("proposals", "export", "--out", str(tmp / "again.csv"), "--db", url)
    assert again.exit_code == 0 and "exported 0 line(s)" in again.output


def test_export_all_includes_drafts_as_json(setup) -> None:  # type: ignore[no-untyped-def]
    url, _, tmp = setup
    out = cli("proposals", "export", "--out", str(tmp / "all.json"), "--all", "--db", url)
    assert out.exit_code == 0 and "3 draft(s) included" in out.output
    doc = json.loads((tmp / "all.json").read_text(encoding="utf-8"))
    assert doc["count"] == 3 and len(doc["orders"][0]["lines"]) == 3
    assert "draft" in cli("proposals", "list", "--status", "draft", "--db", url).output


def test_export_xlsx_by_format_option(setup) -> None:  # type: ignore[no-untyped-def]
    url, _, tmp = setup
    assert cli("proposals", "approve", "SW-20240429-SUP-1-WH1", "--as", "manager", "--db", url).exit_code == 0
    out = cli("proposals", "export", "--out", str(tmp / "po.xlsx"), "--format", "xlsx", "--db", url)
    assert out.exit_code == 0
    frame = pd.read_excel(tmp / "po.xlsx")
    assert list(frame.columns[:9]) == [
        "po_id",
        "sku",
        "location_id",
        "supplier_id",
        "qty",
        "order_date",
        "expected_date",
        "unit_cost",
        "reason",
    ]
    assert len(frame) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("proposals", "approve", "1"), "needs a role"),
        (("proposals", "approve", "1", "--as", "intern"), "may not approve"),
        (("proposals", "approve", "77", "--as", "buyer"), "proposal 77 does not exist"),
        (("proposals", "approve", "PO-NOPE", "--as", "buyer"), "neither a proposal id"),
        (("proposals", "change", "1", "--qty", "100", "--reason", "promotion", "--as", "buyer"), "use 96 or 102"),
        (("proposals", "change", "1", "--qty", "96", "--reason", "whim", "--as", "buyer"), "unknown reason code"),
        (("proposals", "reject", "1", "--reason", ""), "reason code is required"),
        (("proposals", "list", "--status", "pending"), "status 'pending' is not one of draft, approved"),
        (("proposals", "export"), "nothing to do"),
        (("proposals", "export", "--out", "x.csv", "--format", "pdf"), "--format must be"),
        (("proposals", "export", "--out", "x.csv", "--webhook", "ftp://x"), "must start with http"),
    ],
)
def test_bad_input_exits_2_with_one_line(setup, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    url, _, tmp = setup
    args = tuple(str(tmp / a) if a == "x.csv" else a for a in args)
    out = cli(*args, "--db", url)
    assert out.exit_code == 2
    text = " ".join(out.output.split())
    assert message in text
    assert "Traceback" not in out.output


def test_a_failed_webhook_marks_nothing_exported(setup) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = setup
    assert cli("proposals", "approve", "1", "--as", "buyer", "--db", url).exit_code == 0
    out = cli("proposals", "export", "--webhook", "http://127.0.0.1:9/hook", "--db", url)
    assert out.exit_code == 2 and "webhook" in out.output
    assert "approved" in cli("proposals", "list", "--status", "approved", "--db", url).output


def test_create_refuses_a_missing_assessment(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    write_table(folder, "sales", [{"date": "2024-01-01", "sku": "A", "qty": 1}])
    out = cli(
        "proposals",
        "create",
        "--assessment",
        str(tmp_path / "none.csv"),
        str(folder),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
    )
    assert out.exit_code == 2 and "does not exist" in out.output


def test_export_posts_the_approved_orders_to_a_local_webhook_once(setup) -> None:  # type: ignore[no-untyped-def]
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict[str, object]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url, _, _ = setup
        hook = f"http://127.0.0.1:{server.server_address[1]}/orders"
        assert cli("proposals", "approve", "1", "2", "--as", "buyer", "--db", url).exit_code == 0
        out = cli("proposals", "export", "--webhook", hook, "--db", url)
        assert out.exit_code == 0 and "2 marked exported" in out.output
        again = cli("proposals", "export", "--webhook", hook, "--db", url)
        assert again.exit_code == 0 and "exported 0 line(s)" in again.output
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 1  # nothing to send the second time
    assert received[0]["count"] == 2
    assert [ln["qty"] for ln in received[0]["orders"][0]["lines"]] == [72, 72]


def test_role_limits_and_auto_approval_come_from_the_rules_file(setup) -> None:  # type: ignore[no-untyped-def]
    url, folder, tmp = setup
    rules = tmp / "rules.toml"
    rules.write_text("[orders]\napprover_roles = { lead = 100.0 }\nauto_approve_max_value = 150.0\n", encoding="utf-8")
    out = cli("proposals", "approve", "1", "--as", "lead", "--config", str(rules), "--db", url)
    assert out.exit_code == 2 and "above the 100.00 limit of role 'lead'" in " ".join(out.output.split())
    assert cli("proposals", "approve", "1", "--as", "buyer", "--config", str(rules), "--db", url).exit_code == 2
    # a re-run with the rules file auto-approves the drafts worth at most 150 (each is 72 x 2 = 144)
    out = cli(
        "proposals", "create", "--assessment", str(tmp / "assess.csv"), str(folder), "--config", str(rules), "--db", url
    )
    assert out.exit_code == 0 and "'auto_approved': 3" in out.output
