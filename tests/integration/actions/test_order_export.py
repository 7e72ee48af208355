"""ERP export of approved orders: file layouts, Chinese headers, re-import, JSON webhook to a real receiver."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from tests.factories import write_table
from tests.factories_orders import AS_OF, make_assessment, make_assessment_row, make_item, make_orders_dataset

from stockwarden.actions.export import (
    EXPORT_COLUMNS,
    build_export,
    chinese_headers,
    exported_orders_as_pos,
    merge_exported_orders,
    post_webhook,
    webhook_payload,
    write_export,
)
from stockwarden.actions.replenish import propose_orders
from stockwarden.config import RulesConfig
from stockwarden.errors import NotifyError
from stockwarden.ingest.dataset import empty_frame, read_dataset

ORDER_DAY = dt.date(2024, 4, 16)
CONTRACT = ["po_id", "sku", "location_id", "supplier_id", "qty", "order_date", "expected_date", "unit_cost", "reason"]


@pytest.fixture
def lines():  # type: ignore[no-untyped-def]
    ds = make_orders_dataset(
        [
            make_item("A"),
            make_item("B", unit_cost=10.0, pack_size=6.0, moq=0.0, lead_time_days=10.0),
            make_item("C", supplier_id="S2"),
        ]
    )
    return propose_orders(first_assessment(), ds, as_of=AS_OF, rules=RulesConfig()).lines


def first_assessment():  # type: ignore[no-untyped-def]
    return make_assessment(
        [
            make_assessment_row("A", reasons="below_reorder_point;demand_surge"),
            make_assessment_row("B", on_hand=10, on_order=0, reorder_point=20, order_up_to=50),
            make_assessment_row("C"),
        ]
    )


def test_export_rows_follow_the_contract_columns_then_the_purchase_order_extras(lines) -> None:  # type: ignore[no-untyped-def]
    frame = build_export(lines, order_date=ORDER_DAY, overrides={})
    assert list(frame.columns)[: len(CONTRACT)] == CONTRACT
    assert list(frame.columns) == list(EXPORT_COLUMNS)
    row_b = frame.loc[frame["sku"] == "B"].iloc[0]
    assert row_b["qty"] == 42 and row_b["order_date"] == ORDER_DAY
    assert row_b["expected_date"] == ORDER_DAY + dt.timedelta(days=10) == row_b["promised_date"]
    assert row_b["status"] == "open"
    reason_a = frame.loc[frame["sku"] == "A", "reason"].iloc[0]
    assert reason_a == "warning P(stockout)=0.50: below_reorder_point;demand_surge"


def _dataset_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ds"
    write_table(folder, "sales", [{"date": "2024-04-01", "sku": "A", "qty": 1}])
    write_table(folder, "inventory", [{"date": "2024-04-01", "sku": "A", "on_hand": 1}])
    return folder


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("chinese", [False, True])
def test_csv_and_xlsx_exports_reimport_as_the_purchase_orders_table(
    tmp_path: Path,
    lines,
    suffix: str,  # type: ignore[no-untyped-def]
    chinese: bool,
) -> None:
    frame = build_export(lines, order_date=ORDER_DAY)
    folder = _dataset_folder(tmp_path)
    write_export(frame, folder / f"purchase_orders.{suffix}", chinese=chinese)
    if suffix == "csv":
        header = (folder / "purchase_orders.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    else:
        header = list(pd.read_excel(folder / "purchase_orders.xlsx", nrows=0).columns)
    expected = [chinese_headers()[c] for c in EXPORT_COLUMNS] if chinese else list(EXPORT_COLUMNS)
    assert header == expected
    ds, result = read_dataset(folder)
    assert result.rejects.empty
    po = ds.purchase_orders.sort_values(["po_id", "line_no"]).reset_index(drop=True)
    assert len(po) == len(frame)
    assert list(po["sku"]) == list(frame["sku"])
    assert list(po["qty"]) == [float(q) for q in frame["qty"]]
    assert list(po["line_no"]) == [float(n) for n in frame["line_no"]]
    assert (po["order_date"] == pd.Timestamp(ORDER_DAY)).all()
    assert list(po["promised_date"].dt.date) == list(frame["expected_date"])
    assert (po["status"] == "open").all()


def test_chinese_headers_use_the_spec_aliases_and_never_collide_on_reimport() -> None:
    heads = chinese_headers()
    assert heads["po_id"] == "采购单号" and heads["sku"] == "商品编码" and heads["qty"] == "数量"
    assert heads["promised_date"] == "预计到货日期" and heads["expected_date"] != heads["promised_date"]
    assert len(set(heads.values())) == len(heads)


def test_exported_rows_become_open_purchase_orders_with_the_dataset_dtypes(lines) -> None:  # type: ignore[no-untyped-def]
    pos = exported_orders_as_pos(build_export(lines, order_date=ORDER_DAY))
    base = empty_frame("purchase_orders")
    assert list(pos.columns) == list(base.columns)
    assert pos.dtypes.to_dict() == base.dtypes.to_dict()
    assert (pos["status"] == "open").all() and pos["received_date"].isna().all()
    assert exported_orders_as_pos(build_export([], order_date=ORDER_DAY)).empty


def test_merging_exported_orders_makes_the_next_proposal_skip_them_and_never_duplicates_a_po(lines) -> None:  # type: ignore[no-untyped-def]
    ds = make_orders_dataset(
        [make_item("A"), make_item("B", unit_cost=10.0, pack_size=6.0, moq=0.0), make_item("C", supplier_id="S2")]
    )
    pos = exported_orders_as_pos(build_export(lines, order_date=AS_OF))
    merged = merge_exported_orders(ds, pos)
    assert len(merged.purchase_orders) == len(pos)
    assert len(merge_exported_orders(merged, pos).purchase_orders) == len(pos)  # already there: not added again
    # the risk engine would now see them as on order; proposals given the exported frame skip them too: the
    # same assessment again, on the same review day (top up below the order-up-to level) and on the next days
    # (order at the reorder point), with the exported orders not yet in the data
    for day in (AS_OF, AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=7)):
        again = propose_orders(first_assessment(), ds, as_of=day, rules=RulesConfig(), exported=pos)
        assert {k for k, v in again.skipped.items() if v == "covered_by_open_orders"} >= {ln.key for ln in lines}
        assert again.lines == ()


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, object]]] = []
    fail_with: ClassVar[int | None] = None

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail_with:
            self.send_response(type(self).fail_with)  # type: ignore[arg-type]
            self.end_headers()
            self.wfile.write(b"nope")
            return
        type(self).bodies.append({"json": json.loads(body), "content_type": self.headers["Content-Type"]})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"bodies": [], "fail_with": None})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_webhook_export_posts_one_json_document_grouped_by_purchase_order(receiver, lines) -> None:  # type: ignore[no-untyped-def]
    url, handler = receiver
    frame = build_export(lines, order_date=ORDER_DAY)
    at = dt.datetime(2024, 4, 16, 8, 0, tzinfo=dt.UTC)
    assert post_webhook(url, webhook_payload(frame, generated_at=at)) == 204
    assert len(handler.bodies) == 1
    got = handler.bodies[0]
    assert got["content_type"] == "application/json"
    doc = got["json"]
    assert doc["event"] == "orders.exported" and doc["count"] == len(frame)
    assert doc["generated_at"] == at.isoformat()
    by_po = {o["po_id"]: o for o in doc["orders"]}
    s1 = by_po["SW-20240415-S1-WH1"]
    assert [ln["sku"] for ln in s1["lines"]] == ["A", "B"]
    assert s1["total_value"] == pytest.approx(84 * 2 + 42 * 10)
    assert s1["lines"][1]["expected_date"] == "2024-04-26"


def test_webhook_errors_are_notify_errors(receiver) -> None:  # type: ignore[no-untyped-def]
    url, handler = receiver
    handler.fail_with = 500
    with pytest.raises(NotifyError, match="HTTP 500"):
        post_webhook(url, {"x": 1})
    with pytest.raises(NotifyError, match="must start with http"):
        post_webhook("ftp://example.org/x", {"x": 1})
    with pytest.raises(NotifyError, match="ConnectError"):
        post_webhook("http://127.0.0.1:9/none", {"x": 1}, timeout_s=2)


def test_json_file_export_holds_the_webhook_payload(tmp_path: Path, lines) -> None:  # type: ignore[no-untyped-def]
    frame = build_export(lines, order_date=ORDER_DAY)
    at = dt.datetime(2024, 4, 16, tzinfo=dt.UTC)
    path = write_export(frame, tmp_path / "out" / "orders.json", generated_at=at)
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(
        json.dumps(webhook_payload(frame, generated_at=at))
    )


def test_proposal_lines_frame_has_one_row_per_line_with_value_and_joined_reasons(lines) -> None:  # type: ignore[no-untyped-def]
    from stockwarden.actions.export import proposal_lines_frame

    frame = proposal_lines_frame(lines)
    assert len(frame) == len(lines)
    assert {"sku", "qty", "explanation", "status", "value"} <= set(frame.columns)
    assert frame.loc[frame["sku"] == "A", "reasons"].iloc[0] == "below_reorder_point;demand_surge"
    assert frame["value"].tolist() == [ln.value for ln in lines]
    assert proposal_lines_frame([]).empty
