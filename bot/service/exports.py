"""The per-response CSV (the OMB upload) of a quarter, streamed: its header, then its lines a
page of records at a time as the store reads them (``ResponseStore.upload_pages``), so a
download, the API's answer or the CLI's output holds one page whatever the quarter's size.
Every cell goes through the core's CSV writer (``bot.core.csvfile``: formula injection is
neutralised), and the bytes are those the reference makes of the quarter's whole records
(``per_response_csv`` in ``tests/reference.py``: the tests hold the two equal)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping

from bot.core import reports
from bot.core.catalog import Service
from bot.core.sinks import ResponseStore, Upload

PAGE = 2000  # responses a page: about a megabyte of A-11 fields, 200 kB of CSV

# What a reader may see of a page (the console's viewer rule takes people's words out).
Shape = Callable[[list[Upload]], list[Upload]]


async def per_response_csv(
    store: ResponseStore, services: Mapping[str, Service], fiscal_year: int, quarter: int,
    service: str | None = None, shape: Shape | None = None, page: int = PAGE,
) -> AsyncIterator[str]:  # fmt: skip
    """The quarter's OMB upload (of one service) as parts of text: the header with the first
    page's lines (so a store that cannot answer fails before anything is sent), then a part
    a page. ValueError for a quarter out of range (before anything is read)."""
    windows = reports.quarter_windows(services, fiscal_year, quarter)
    head = reports.upload_header()

    def lines(found: list[Upload]) -> str:
        return reports.upload_lines(shape(found) if shape is not None else found)

    async for found in store.upload_pages(windows, service, page):
        # Formatted in a thread: a page is thousands of rows, and webhooks keep being answered.
        text = await asyncio.to_thread(lines, found)
        yield head + text
        head = ""
    if head:
        yield head
