"""Empty import templates: one CSV per table and one Excel workbook with notes, in English and Chinese.

``write_templates(folder)`` writes ``NAME.csv`` for every dataset table (its header and the filled-in
example row of ``schema.TABLES[NAME].example``) and ``stockwarden_template.xlsx``: a ``notes`` sheet
explaining every column (required or not, meaning, default, Chinese headers also accepted) in English
and Chinese, then one sheet per table with the same header and example row. The CSV files import as
they are (``read_dataset``), so a user can start from them and replace the example rows.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from stockwarden.errors import InputError
from stockwarden.ingest.schema import ALIASES, TABLE_ORDER, TABLES, Column, Kind

WORKBOOK_NAME = "stockwarden_template.xlsx"
NOTES_SHEET = "notes"

TABLE_ZH: dict[str, str] = {
    "items": "商品主数据：每个SKU一行",
    "locations": "仓库或门店：每个地点一行",
    "suppliers": "供应商：每个供应商一行",
    "sales": "销售：每个销售行或每日合计一行（必需）",
    "inventory": "库存：每次日终盘点一行（必需）",
    "purchase_orders": "采购订单：每个采购订单行一行",
    "promotions": "计划中的促销：每个促销一行",
    "events": "日历事件（节假日、购物节等）：每个事件日一行",
    "reorder_rules": "ERP当前的补货规则（再订货点/最高库存）：每个商品和地点一行（可选，格式 v1.1）",
}

# Chinese meaning per column; (table, column) entries override the column-wide ones.
COLUMN_ZH: dict[str | tuple[str, str], str] = {
    "sku": "商品编码（SKU）",
    "name": "名称",
    "category": "商品类别，可按类别设置规则",
    "unit": "计量单位",
    "unit_cost": "采购单价",
    "pack_size": "订货倍数/箱规（默认1）",
    "moq": "最小订货量（默认0）",
    "supplier_id": "供应商编码",
    "lead_time_days": "采购提前期（天）",
    "service_level": "目标服务水平（0-1）",
    "shelf_life_days": "保质期（天）",
    "location_id": "仓库或门店编码（默认 MAIN）",
    "kind": "类型",
    "date": "日期（YYYY-MM-DD）",
    "qty": "数量",
    "price": "销售单价",
    "on_promotion": "是否促销（1=是，0=否）",
    "order_id": "客户订单号",
    "on_hand": "日终实盘库存数量",
    "po_id": "采购订单号",
    "order_date": "下单日期",
    "line_no": "采购订单行号",
    "promised_date": "供应商承诺到货日期",
    "received_date": "实际到货日期（未到货留空）",
    "received_qty": "实际到货数量",
    "status": "状态：open（未到货）、received（已到货）、cancelled（已取消）",
    "start_date": "开始日期",
    "end_date": "结束日期（含）",
    "discount": "折扣比例（0-1，例如0.2表示八折）",
    ("items", "name"): "商品名称",
    ("items", "supplier_id"): "默认供应商编码",
    ("items", "lead_time_days"): "该商品的采购提前期（天），为空则用供应商的",
    ("locations", "location_id"): "仓库或门店编码",
    ("locations", "name"): "仓库或门店名称",
    ("locations", "kind"): "类型：仓库、门店等",
    ("suppliers", "name"): "供应商名称",
    ("suppliers", "lead_time_days"): "名义采购提前期（天）",
    ("sales", "qty"): "销售数量（负数表示退货）",
    ("purchase_orders", "qty"): "订购数量",
    ("purchase_orders", "supplier_id"): "供应商编码（为空则用商品的默认供应商）",
    ("purchase_orders", "location_id"): "收货地点（默认 MAIN）",
    ("promotions", "location_id"): "地点（为空表示所有地点）",
    ("promotions", "kind"): "促销类型",
    ("events", "name"): "事件名称，如春节、618、双11",
    ("events", "kind"): "类型：节假日、购物节、文化活动等",
    ("events", "location_id"): "地点（为空表示所有地点）",
    ("reorder_rules", "location_id"): "规则所属的仓库或门店",
    "min_qty": "再订货点：库存（含在途）不高于此值时下单",
    "max_qty": "最高库存：下单补到此值（为空则为再订货点加一个盘点周期的需求）",
    "safety_stock": "ERP设置的安全库存",
}

_KIND_EN = {Kind.STR: "text", Kind.DATE: "date YYYY-MM-DD", Kind.NUMBER: "number", Kind.FLAG: "0 or 1"}
_KIND_ZH = {Kind.STR: "文本", Kind.DATE: "日期 YYYY-MM-DD", Kind.NUMBER: "数字", Kind.FLAG: "0 或 1"}
NOTES_HEADER = (
    "table 表",
    "column 列",
    "required 必填",
    "type 类型",
    "default 默认值",
    "meaning (English)",
    "说明（中文）",
    "also accepted as 可识别的中文表头",
)


def notes_rows() -> list[tuple[str, ...]]:
    """The rows of the notes sheet: a line per table, then a line per column of that table."""
    rows: list[tuple[str, ...]] = []
    for name in TABLE_ORDER:
        t = TABLES[name]
        need = "file required 必需文件" if t.required_file else "optional file 可选文件"
        rows.append((name, "", need, "", "", t.description, TABLE_ZH[name], ""))
        for c in t.columns:
            rows.append(
                (
                    name,
                    c.name,
                    "yes 是" if c.required else "no 否",
                    f"{_KIND_EN[c.kind]} / {_KIND_ZH[c.kind]}",
                    _default_text(c),
                    c.description,
                    column_zh(name, c.name),
                    "、".join(ALIASES.get(c.name, ())),
                )
            )
    return rows


def column_zh(table: str, column: str) -> str:
    """The Chinese meaning of a column (table-specific when the meaning differs)."""
    return COLUMN_ZH.get((table, column)) or COLUMN_ZH[column]


def write_templates(folder: Path | str, *, overwrite: bool = False) -> list[Path]:
    """Write the CSV templates and the Excel workbook into ``folder`` (created if needed).

    Args:
        folder: target folder.
        overwrite: replace existing files of the same names (otherwise refuse, so data is never lost).

    Returns:
        The files written: the CSV files in dataset table order, then the workbook.

    Raises:
        InputError: when a file to write already exists and ``overwrite`` is False, or ``folder`` is a file.
    """
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise InputError(f"{root} is a file, not a folder")
    targets = [root / f"{name}.csv" for name in TABLE_ORDER] + [root / WORKBOOK_NAME]
    existing = [p.name for p in targets if p.exists()]
    if existing and not overwrite:
        raise InputError(f"{root} already holds {', '.join(existing)}; choose an empty folder or use --force")
    root.mkdir(parents=True, exist_ok=True)
    for name, path in zip(TABLE_ORDER, targets, strict=False):
        t = TABLES[name]
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(t.column_names)
            writer.writerow([t.example.get(c, "") for c in t.column_names])
    _write_workbook(targets[-1])
    return targets


def _write_workbook(path: Path) -> None:
    wb = Workbook()
    notes = wb.active
    notes.title = NOTES_SHEET
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    notes.append(NOTES_HEADER)
    for row in notes_rows():
        notes.append(row)
        if not row[1]:  # a table line
            for cell in notes[notes.max_row]:
                cell.font = bold
                cell.fill = fill
    for cell in notes[1]:
        cell.font = bold
    for k, width in enumerate((16, 16, 18, 26, 12, 48, 40, 40), start=1):
        notes.column_dimensions[get_column_letter(k)].width = width
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    notes.freeze_panes = "A2"
    for name in TABLE_ORDER:
        t = TABLES[name]
        ws = wb.create_sheet(name)
        ws.append(list(t.column_names))
        ws.append([_typed(t.column(c), t.example.get(c, "")) for c in t.column_names])
        for k, c in enumerate(t.columns, start=1):
            ws.cell(1, k).font = Font(bold=True, color="C00000" if c.required else "000000")
            ws.column_dimensions[get_column_letter(k)].width = max(12, len(c.name) + 4)
            if c.kind is Kind.DATE:
                ws.cell(2, k).number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
    wb.save(path)


def _typed(col: Column, text: str) -> object:
    """An example value as Excel would hold it: numbers as numbers, dates as dates, empty as empty."""
    if text == "":
        return None
    if col.kind is Kind.DATE:
        return dt.datetime.fromisoformat(text)
    if col.kind in (Kind.NUMBER, Kind.FLAG):
        value = float(text)
        return int(value) if value.is_integer() else value
    return text


def _default_text(col: Column) -> str:
    if col.default is None:
        return ""
    if isinstance(col.default, float) and col.default.is_integer():
        return str(int(col.default))
    return str(col.default)


__all__ = ["NOTES_SHEET", "WORKBOOK_NAME", "column_zh", "notes_rows", "write_templates"]
