"""The CSV files the bot writes — the OMB per-response upload, the collection detail, the
public ``data.csv`` and ``dictionary.csv`` — through one writer, so that no cell of any of
them runs as a formula when someone opens the file in a spreadsheet (formula injection).

The rule (OWASP's, "CSV Injection"): a text cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written with a ``'`` before it, which spreadsheets read
as "this is text" (Excel does not show it). Only text is touched: a number the bot formats
itself (``int``, ``float``: a share, a count, an interval's end, a negative one included) is
written as it is, and so is text beginning with anything else. A line break inside a cell
is written as ``\\n``, which quotes the cell (a lone carriage return would not be quoted, and
ends the row for a spreadsheet). The ``defusedcsv`` package does not fit: it also rewrites
numbers (``-0.05``) and ``|`` inside a cell, and leaves a leading tab or carriage return.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def cell(value: Cell) -> Cell:
    """A cell as written: text a spreadsheet would read as a formula behind a ``'``, its
    line breaks as ``\\n``; anything else as it is (``None`` is an empty cell)."""
    if not isinstance(value, str):
        return value
    # Python's writer quotes a cell for "\n" but not for a lone "\r", which a spreadsheet
    # takes for the end of the row: "ok\r=1+1" would begin a row with a formula.
    text = value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    return "'" + text if value.startswith(FORMULA_START) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A CSV file: the header, then each row, every cell through ``cell``; RFC 4180 quoting
    and ``\\n`` between rows (as Touchpoints' Ruby CSV writes them)."""
    return csv_lines([header]) + csv_lines(rows)


def csv_lines(rows: Iterable[Sequence[Cell]]) -> str:
    """Rows as CSV lines, every cell through ``cell`` (a file streamed a part at a time
    writes its header, then its rows, through this)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()
