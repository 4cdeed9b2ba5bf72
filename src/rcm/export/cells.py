"""User and statement text written into spreadsheets stays text.

A spreadsheet turns a cell that begins with ``=`` into a formula (and, opening a CSV file, also one
that begins with ``+``, ``-`` or ``@``): a comment stored as ``=HYPERLINK("https://evil", "Click")``
would become a live link, or worse, in a ministry's Excel. So every workbook the project writes
(the questionnaire, ``rcm export --format xlsx``, ``/search.xlsx``) puts text through
:func:`set_text`, and every CSV file (``rcm export --format csv``, ``/search.csv``) is written by
:func:`csv_text`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from rcm.parse.xlsx import xlsx_text

__all__ = [
    "CSV_FORMULA_PREFIXES",
    "append_row",
    "csv_cell",
    "csv_lines",
    "csv_text",
    "set_text",
    "xlsx_text",
]

# What a spreadsheet may read as the start of a formula in a CSV cell (OWASP, "CSV Injection").
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def set_text(cell: Any, value: object) -> None:
    """Put ``value`` in an openpyxl cell; a string always as a string cell (data type ``s``),
    never as a formula, whatever it begins with. Numbers, dates and None are kept as they are."""
    if isinstance(value, str):
        cell.value = xlsx_text(value)
        # openpyxl makes any string beginning with "=" a formula; this undoes it.
        cell.data_type = "s"
    else:
        cell.value = value


def append_row(ws: Any, values: Sequence[object]) -> None:
    """``ws.append(values)`` with every value through :func:`set_text`."""
    ws.append([xlsx_text(v) if isinstance(v, str) else v for v in values])
    if not values:
        return
    for col, value in enumerate(values, 1):
        if isinstance(value, str):
            ws.cell(row=ws.max_row, column=col).data_type = "s"


def csv_cell(value: object) -> str:
    """A CSV field that no spreadsheet runs as a formula: text beginning with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return gets a single quote in front (``'=1+1``), as OWASP advises;
    a spreadsheet shows the quote, a program reading the file sees it and may strip it. Numbers
    are written as they are (``-3`` stays a number)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The CSV file (RFC 4180, CRLF line ends) of ``header`` and ``rows``, every field through
    :func:`csv_cell`. Used by every CSV the project writes."""
    return csv_lines([header]) + csv_lines(rows)


def csv_lines(rows: Iterable[Sequence[object]]) -> str:
    """Rows of a CSV file as :func:`csv_text` writes them, without the header: a file written
    in parts (a streamed download) is the same file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
