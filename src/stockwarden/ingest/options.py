"""How a dataset is read: the accepted date and number forms, and the input limits.

:class:`ReadOptions` travels from the edge (CLI options, the rules file's ``[ingest]`` section, a mapping
file's ``[options]`` section) down to the readers and parsers. The limits are checked before any parser
runs, so an over-limit file is refused in a fraction of a second whatever its shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from stockwarden.config import IngestRules

DateOrder = Literal["ymd", "dmy", "mdy"]
DATE_ORDERS: tuple[str, ...] = ("ymd", "dmy", "mdy")

# Spreadsheet-bound exports prefix a text cell starting with one of these with an apostrophe (OWASP
# "CSV injection"); the readers take that apostrophe off again, so a round trip is exact.
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Bounds on what one table file may cost to read (docs/import.md, "Limits").

    Attributes:
        max_file_bytes: largest file, in bytes (gzip: after decompression).
        max_line_bytes: longest physical line of a CSV file, in bytes.
        max_columns: most columns in a header.
        max_fields_per_row: most fields a CSV line may be split into (separators outside quotes + 1,
            counted conservatively as all separators + 1).
    """

    max_file_bytes: int = 2 * 1024**3
    max_line_bytes: int = 1024**2
    max_columns: int = 256
    max_fields_per_row: int = 1024


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """The per-import choices of how cells are read.

    Attributes:
        date_order: ``ymd`` accepts only year-first dates (and Excel serials in xlsx); ``dmy`` / ``mdy``
            also read ``05.03.2024``-style dates day-first / month-first. Without it such a date is
            rejected as ambiguous, never guessed.
        decimal_comma: the file writes decimals with a comma (``1,5``; ``1.234,5``).
        limits: the input limits.
    """

    date_order: DateOrder = "ymd"
    decimal_comma: bool = False
    limits: ReadLimits = ReadLimits()


DEFAULT_OPTIONS = ReadOptions()


def neutralise_formula(text: str) -> str:
    """A text cell made safe for a spreadsheet: prefix ``'`` when it would start a formula.

    A value that already starts with apostrophes followed by a trigger gets one more, so
    :func:`unneutralise_formula` gives back exactly the original for every string.
    """
    if text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def unneutralise_formula(text: str) -> str:
    """The inverse of :func:`neutralise_formula` (what the readers apply to every text cell)."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


__all__ = [
    "DATE_ORDERS",
    "DEFAULT_OPTIONS",
    "FORMULA_TRIGGERS",
    "DateOrder",
    "ReadLimits",
    "ReadOptions",
    "neutralise_formula",
    "unneutralise_formula",
]


def options_from_rules(rules: IngestRules) -> ReadOptions:
    """The read options a ``[ingest]`` rules section states (date order, decimal mark, input limits)."""
    limits = ReadLimits(
        max_file_bytes=rules.max_file_bytes,
        max_line_bytes=rules.max_line_bytes,
        max_columns=rules.max_columns,
        max_fields_per_row=rules.max_fields_per_row,
    )
    return ReadOptions(date_order=rules.date_order, decimal_comma=rules.decimal_comma, limits=limits)
