"""The dataset folder's tables and columns: the import contract (docs/dataset.md).

Every frame that leaves ``ingest`` has the canonical column names and dtypes declared here:
strings are ``object`` columns of ``str`` (missing = ``None``/NaN), dates are ``datetime64[ns]``
normalised to midnight (missing = ``NaT``), numbers are ``float64`` (missing = NaN). Code after
ingest relies on this and does not re-check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a column's text is parsed."""

    STR = "str"
    DATE = "date"
    NUMBER = "number"
    FLAG = "flag"  # 0/1, true/false, yes/no, 是/否


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a dataset table.

    Attributes:
        name: canonical name.
        kind: how the text is parsed.
        required: the column must be present in the file and non-empty on every row.
        default: value used when the column is absent or the cell empty (None = keep missing).
        min_value: smallest allowed value for numbers (inclusive).
        max_value: largest allowed value for numbers (inclusive).
        positive: numbers must be strictly greater than zero.
        integer: numbers must be whole.
        choices: allowed values for strings (lower-cased).
        description: what the column means, for templates and docs.
    """

    name: str
    kind: Kind = Kind.STR
    required: bool = False
    default: object = None
    min_value: float | None = None
    max_value: float | None = None
    positive: bool = False
    integer: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """One dataset table: its columns and its natural key (what identifies a record on re-import)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required_file: bool = False
    description: str = ""
    date_column: str | None = None
    example: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


DEFAULT_LOCATION = "MAIN"

S, D, N, F = Kind.STR, Kind.DATE, Kind.NUMBER, Kind.FLAG

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "items",
            (
                Column("sku", S, required=True, description="stock-keeping unit code"),
                Column("name", S, description="item name"),
                Column("category", S, description="category, used for rules per category"),
                Column("unit", S, description="unit of measure"),
                Column("unit_cost", N, min_value=0, description="purchase cost per unit"),
                Column("pack_size", N, default=1.0, positive=True, description="order multiple (default 1)"),
                Column("moq", N, default=0.0, min_value=0, description="minimum order quantity (default 0)"),
                Column("supplier_id", S, description="default supplier"),
                Column("lead_time_days", N, min_value=0, description="stated lead time in days"),
                Column("service_level", N, min_value=0, max_value=1, description="target service level 0-1"),
                Column("shelf_life_days", N, min_value=0, description="shelf life in days"),
            ),
            key=("sku",),
            description="one row per stock-keeping unit",
            example={
                "sku": "A-100",
                "name": "Widget",
                "category": "parts",
                "unit": "ea",
                "unit_cost": "2.50",
                "pack_size": "12",
                "moq": "24",
                "supplier_id": "SUP-1",
                "lead_time_days": "7",
                "service_level": "0.95",
                "shelf_life_days": "",
            },
        ),
        Table(
            "locations",
            (
                Column("location_id", S, required=True, description="warehouse or store code"),
                Column("name", S, description="location name"),
                Column("kind", S, description="warehouse, store, ..."),
            ),
            key=("location_id",),
            description="one row per warehouse or store",
            example={"location_id": "WH1", "name": "Main warehouse", "kind": "warehouse"},
        ),
        Table(
            "suppliers",
            (
                Column("supplier_id", S, required=True, description="supplier code"),
                Column("name", S, description="supplier name"),
                Column("lead_time_days", N, min_value=0, description="nominal lead time in days"),
            ),
            key=("supplier_id",),
            description="one row per supplier",
            example={"supplier_id": "SUP-1", "name": "Acme Supply", "lead_time_days": "7"},
        ),
        Table(
            "sales",
            (
                Column("date", D, required=True, description="date of the sale (YYYY-MM-DD)"),
                Column("sku", S, required=True, description="item sold"),
                Column("qty", N, required=True, description="units sold (negative = return)"),
                Column("location_id", S, default=DEFAULT_LOCATION, description="location (default MAIN)"),
                Column("price", N, min_value=0, description="unit selling price"),
                Column("on_promotion", F, default=0.0, description="1 when sold on promotion"),
                Column("order_id", S, description="customer order reference"),
            ),
            key=("date", "sku", "location_id", "order_id"),
            required_file=True,
            date_column="date",
            description="one row per sale line or day total",
            example={
                "date": "2024-01-02",
                "sku": "A-100",
                "qty": "3",
                "location_id": "WH1",
                "price": "4.99",
                "on_promotion": "0",
                "order_id": "",
            },
        ),
        Table(
            "inventory",
            (
                Column("date", D, required=True, description="count date (end of day)"),
                Column("sku", S, required=True, description="item counted"),
                Column("on_hand", N, required=True, min_value=0, description="physical count at end of day"),
                Column("location_id", S, default=DEFAULT_LOCATION, description="location (default MAIN)"),
            ),
            key=("date", "sku", "location_id"),
            required_file=True,
            date_column="date",
            description="one row per end-of-day stock count",
            example={"date": "2024-01-02", "sku": "A-100", "on_hand": "40", "location_id": "WH1"},
        ),
        Table(
            "purchase_orders",
            (
                Column("po_id", S, required=True, description="purchase order number"),
                Column("sku", S, required=True, description="item ordered"),
                Column("qty", N, required=True, positive=True, description="units ordered"),
                Column("order_date", D, required=True, description="date the order was placed"),
                Column("location_id", S, default=DEFAULT_LOCATION, description="receiving location (default MAIN)"),
                Column("supplier_id", S, description="supplier (default: the item's)"),
                Column("line_no", N, default=1.0, min_value=0, integer=True, description="line number in the PO"),
                Column("promised_date", D, description="date the supplier promised"),
                Column("received_date", D, description="date actually received (empty while open)"),
                Column("received_qty", N, min_value=0, description="units actually received"),
                Column("status", S, choices=("open", "received", "cancelled"), description="open, received, cancelled"),
            ),
            key=("po_id", "line_no"),
            date_column="order_date",
            description="one row per purchase order line",
            example={
                "po_id": "PO-1",
                "sku": "A-100",
                "qty": "48",
                "order_date": "2024-01-02",
                "location_id": "WH1",
                "supplier_id": "SUP-1",
                "line_no": "1",
                "promised_date": "2024-01-09",
                "received_date": "2024-01-10",
                "received_qty": "48",
                "status": "received",
            },
        ),
        Table(
            "promotions",
            (
                Column("sku", S, required=True, description="item promoted"),
                Column("start_date", D, required=True, description="first day"),
                Column("end_date", D, required=True, description="last day"),
                Column("location_id", S, description="location (empty = all)"),
                Column("kind", S, description="kind of promotion"),
                Column("discount", N, min_value=0, max_value=1, description="discount as a fraction 0-1"),
            ),
            key=("sku", "start_date", "location_id", "kind"),
            date_column="start_date",
            description="one row per planned promotion",
            example={
                "sku": "A-100",
                "start_date": "2024-02-01",
                "end_date": "2024-02-07",
                "location_id": "WH1",
                "kind": "discount",
                "discount": "0.2",
            },
        ),
        Table(
            "events",
            (
                Column("date", D, required=True, description="date of the event"),
                Column("name", S, required=True, description="event name"),
                Column("kind", S, description="holiday, sporting, cultural, ..."),
                Column("location_id", S, description="location (empty = all)"),
            ),
            key=("date", "name", "location_id"),
            date_column="date",
            description="one row per calendar event",
            example={"date": "2024-02-10", "name": "Spring Festival", "kind": "holiday", "location_id": ""},
        ),
        Table(
            "reorder_rules",
            (
                Column("sku", S, required=True, description="item the rule is for"),
                Column("location_id", S, required=True, description="location the rule is for"),
                Column("min_qty", N, required=True, min_value=0, description="reorder point: order when at or below"),
                Column("max_qty", N, min_value=0, description="order-up-to level (empty: min + a review's demand)"),
                Column("safety_stock", N, min_value=0, description="safety stock the ERP keeps"),
            ),
            key=("sku", "location_id"),
            description="the ERP's current reorder rule for a SKU at a location (format v1.1, optional)",
            example={"sku": "A-100", "location_id": "WH1", "min_qty": "40", "max_qty": "120", "safety_stock": "15"},
        ),
    )
}

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

# Chinese ERP headers recognised as our columns (docs/dataset.md, "Header aliases").
ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("商品编码", "物料编码", "存货编码", "货号", "SKU编码"),
    "name": ("商品名称", "物料名称", "存货名称", "品名"),
    "category": ("类别", "商品类别", "物料分类", "存货分类"),
    "unit": ("单位", "计量单位"),
    "unit_cost": ("单价", "成本价", "采购单价"),
    "pack_size": ("包装数量", "箱规", "最小包装"),
    "moq": ("最小订货量", "起订量"),
    "location_id": ("仓库", "仓库编码", "门店", "门店编码"),
    "supplier_id": ("供应商", "供应商编码"),
    "lead_time_days": ("采购提前期", "提前期", "交货周期"),
    "date": ("日期", "单据日期", "业务日期"),
    "qty": ("数量", "销量", "销售数量", "出库数量"),
    "price": ("售价", "销售单价"),
    "on_hand": ("库存", "库存数量", "现存量", "结存数量"),
    "po_id": ("采购单号", "采购订单号"),
    "order_date": ("下单日期", "订单日期"),
    "promised_date": ("预计到货日期", "承诺交期", "交货日期"),
    "received_date": ("到货日期", "实际到货日期", "入库日期"),
    "received_qty": ("到货数量", "实收数量", "入库数量"),
    "status": ("状态", "单据状态"),
    "min_qty": ("最低库存", "再订货点", "订货点"),
    "max_qty": ("最高库存", "库存上限"),
    "safety_stock": ("安全库存",),
}

# Chinese headers used when writing files "with Chinese headers" (first alias of each column).
CHINESE_HEADERS: dict[str, str] = {col: names[0] for col, names in ALIASES.items()}
