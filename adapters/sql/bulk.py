"""An import's lines made ready for the store, and written (``feedback-bot import``).

A record becomes rows the one way the outbox's writes keep it (``schema.storable``); what
differs is where that work runs and how the rows reach PostgreSQL. Parsing, checking and
building a record's rows is most of an import's CPU (~85 µs a record, measured; ~35 µs more
for its COPY text, against ~20 µs for the writer), so on PostgreSQL it runs in worker
processes beside the one writing (the machine has CPUs to spare for it), each record's
rows encoded there as the text lines ``COPY … FROM STDIN`` reads: what a worker sends back is
a few byte strings a record (cheap to pass between processes, where the rows themselves —
dicts of datetimes — cost about as much to pickle as to build), and the writer joins the
lines of the records not stored yet and copies them straight into their tables. SQLite has
no COPY: its lines are made ready in a thread, as the rows ``Writes._keep`` inserts.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import JSON, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.core.response import MalformedRecord, from_line
from bot.core.sinks import Prepared

from .base import to_json
from .schema import Rows, comment_themes, comments, response_dimensions, responses, storable

T = TypeVar("T")

# The tables a record is kept in, in the order of each record's COPY lines (``rows_of``'s).
TABLES = (responses, comments, comment_themes, response_dimensions)


def prepare_rows(lines: list[bytes]) -> Prepared:
    """The lines' records as the rows ``Writes._keep`` writes (``rows``: a ``Rows`` each),
    up to the first line that is not a storable record."""
    ids: list[str] = []
    rows: list[Rows] = []
    for index, line in enumerate(lines):
        try:
            record = from_line(line)
        except MalformedRecord as exc:
            return Prepared(ids, rows, (index, str(exc)))
        found = storable(record)
        if isinstance(found, str):
            return Prepared(ids, rows, (index, found))
        ids.append(record["response_id"])
        rows.append(found)
    return Prepared(ids, rows)


def prepare_copy(lines: list[bytes]) -> Prepared:
    """The lines' records as ``COPY`` text, up to the first line that is not a storable
    record: ``rows`` holds, for each of ``TABLES``, its lines of the whole batch (one byte
    string: a few large objects pass between processes and are freed far more cheaply than
    thousands of small ones) and where each record's lines end in it; ``shape``, each
    table's columns in the order of the lines."""
    enabled = gc.isenabled()
    # A batch makes some hundred objects a record and no cycle (a record is JSON, its rows
    # dicts of plain values): refcounting frees all of it, and the collector's passes over
    # them were a quarter of the CPU (as the CLI found for the whole import).
    gc.disable()
    try:
        ids: list[str] = []
        texts: list[list[str]] = [[] for _ in TABLES]
        ends: list[list[int]] = [[] for _ in TABLES]
        sizes = [0 for _ in TABLES]
        shape: dict[str, tuple[str, ...]] = {}
        bad: tuple[int, str] | None = None
        for index, line in enumerate(lines):
            try:
                record = from_line(line)
            except MalformedRecord as exc:
                bad = (index, str(exc))
                break
            found = storable(record)
            if isinstance(found, str):
                bad = (index, found)
                break
            ids.append(record["response_id"])
            for position, table in enumerate(TABLES):
                for row in found.get(table, ()):
                    texts[position].append(_line(table, row, shape))
                sizes[position] = len(texts[position])
                ends[position].append(sizes[position])
        rows = [(_blob(t, e), e) for t, e in zip(texts, ends, strict=True)]
        return Prepared(ids, rows, bad, shape)
    finally:
        if enabled:
            gc.enable()


def _blob(texts: list[str], ends: list[int]) -> bytes:
    """A table's lines as one byte string; ``ends`` (lines) become byte offsets in place."""
    encoded = [(t + "\n").encode() for t in texts]
    offsets, total = [0], 0
    for chunk in encoded:
        total += len(chunk)
        offsets.append(total)
    for i, end in enumerate(ends):
        ends[i] = offsets[end]
    return b"".join(encoded)


def part(prepared: Prepared, index: int) -> Prepared:
    """The ready record at ``index`` of ``prepared`` alone (``prepare_copy``'s form)."""
    rows = []
    for blob, ends in prepared.rows:
        start = ends[index - 1] if index else 0
        rows.append((blob[start : ends[index]], [ends[index] - start]))
    return Prepared(prepared.ids[index : index + 1], rows, None, prepared.shape)


def _line(table: Any, row: dict[str, Any], shape: dict[str, tuple[str, ...]]) -> str:
    """A row of ``table`` as a COPY text line (without its newline); every row of a table in
    a batch has the same columns (the one function that builds them), which ``shape`` holds."""
    columns = tuple(row)
    known = shape.setdefault(table.name, columns)
    if columns != known:  # never, unless the row builders change: then say so, loudly
        raise ValueError(f"{table.name} rows of different columns in one batch")
    values = list(row.values())
    for index in _json_positions(table, columns):
        values[index] = to_json(values[index])
    return "\t".join([_field(value) for value in values])


def _escaped(value: str) -> str:
    """A text with COPY's escapes for a backslash, newline, carriage return and tab."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    return value


@cache
def _json_positions(table: Any, columns: tuple[str, ...]) -> tuple[int, ...]:
    json_columns = _json_columns(table)
    return tuple(i for i, name in enumerate(columns) if name in json_columns)


@cache
def _json_columns(table: Any) -> frozenset[str]:
    return frozenset(c.name for c in table.c if isinstance(c.type, JSON))


def _field(value: Any) -> str:
    """A value in COPY's text format: the text PostgreSQL reads back as the very value
    ``copy_records_to_table`` would have sent (a test holds the rows equal column by column);
    (``str`` of each value joined at once with the escapes made on the whole line measured
    no quicker: ``str`` of a datetime is slower than its ``isoformat``)."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return _escaped(value)  # a NUL never gets here (``misfit`` refuses it)
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value)  # the shortest text that reads back as the same double
    if kind is datetime:
        if value.tzinfo is None:
            raise ValueError("a time without its zone")  # every stored time is UTC
        return value.isoformat()  # type: ignore[no-any-return]
    if isinstance(value, str | int | float):  # an enum's value, say: as its plain self
        base = str if isinstance(value, str) else float if isinstance(value, float) else int
        return _field(base(value))
    raise TypeError(f"no COPY text for a {kind.__name__}")


async def keep_copied(conn: Any, prepared: Prepared) -> int:
    """Write the ready records of ``prepared`` (``prepare_copy``) that are not stored yet on
    ``conn`` (in a transaction), the first of two alike kept: COPY straight into each table,
    as ``Writes._insert_rows`` copies an import's rows; how many were new. The transaction
    does not wait for its commit to reach the disk: a crash could lose the last batches
    committed, never half of one, and the same import run again stores what is missing (it
    skips the ids stored)."""
    first: dict[str, int] = {}
    for index, response_id in enumerate(prepared.ids):
        first.setdefault(response_id, index)
    if not first:
        return 0
    await conn.execute(text("SET LOCAL synchronous_commit = off"))  # begins the transaction
    driver = (await conn.get_raw_connection()).driver_connection
    # One array parameter (an IN of 2,000 would be 2,000 to bind), through the driver: a
    # statement of SQLAlchemy's is objects in cycles holding the 2,000 ids, which the
    # collector (tuned to run seldom for an import) let pile up, growing the importer's memory
    # with the file's size.
    held = {row[0] for row in await _driven(driver.fetch(
        "SELECT response_id FROM responses WHERE response_id = ANY($1::text[])", list(first)
    ))}  # fmt: skip
    fresh = [index for response_id, index in first.items() if response_id not in held]
    if not fresh:
        return 0
    shape, rows = prepared.shape, prepared.rows
    try:
        async with conn.begin_nested():
            await _copy_text(conn, "responses", shape["responses"], _pick(rows[0], fresh))
        written = fresh
    except IntegrityError:
        # Another writer stored one of them meanwhile (or a rule of the database refuses
        # one): through a temporary table, and one INSERT … SELECT that settles conflicts.
        columns = ", ".join(shape["responses"])
        await conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS incoming_responses "
                                "(LIKE responses) ON COMMIT DROP"))  # fmt: skip
        await _copy_text(conn, "incoming_responses", shape["responses"],
                         _pick(rows[0], fresh))  # fmt: skip
        stored = (await conn.execute(text(
            f"INSERT INTO responses ({columns}) SELECT {columns} FROM incoming_responses "
            "ON CONFLICT (response_id) DO NOTHING RETURNING response_id"
        ))).scalars()  # fmt: skip
        written = sorted(first[response_id] for response_id in stored)
    for position, table in enumerate(TABLES[1:], start=1):
        if table.name in shape:
            await _copy_text(conn, table.name, shape[table.name],
                             _pick(rows[position], written))  # fmt: skip
    return len(written)


def _pick(lines: tuple[bytes, list[int]], chosen: list[int]) -> bytes:
    """The lines of the records ``chosen`` (indexes, in order) of a table's lines: the whole
    byte string when that is all of them (an import's usual batch: every record new)."""
    blob, ends = lines
    if len(chosen) == len(ends):
        return blob
    view = memoryview(blob)
    return b"".join(view[ends[i - 1] if i else 0 : ends[i]] for i in chosen)


async def _copy_text(conn: Any, into: str, columns: tuple[str, ...], data: bytes) -> None:
    """COPY the text lines ``data`` into the table ``into``, on the connection's transaction;
    the driver's errors as SQLAlchemy's."""
    if not data:
        return
    driver = (await conn.get_raw_connection()).driver_connection
    # A buffer, sent as it is (bytes would be taken for a file's path, and a file-like source
    # is read in a thread, 512 KiB at a time).
    await _driven(driver.copy_to_table(into, source=memoryview(data), columns=list(columns),
                                       format="text"))  # fmt: skip


async def _driven(call: Awaitable[T]) -> T:
    """What the driver's ``call`` gives; its errors as SQLAlchemy's (as ``writes._copy``),
    so they are told apart as every other store error is."""
    import asyncpg

    try:
        return await call
    except asyncpg.PostgresError as exc:
        kind = IntegrityError if str(exc.sqlstate).startswith("23") else DBAPIError
        raise kind("the driver's own statement", None, exc) from None
