"""Records out: every stored record (of a quarter, of a service) as its JSON text, read a few
thousand at a time through a server-side cursor, so an export of millions holds a few
thousand at once (``feedback-bot export``); and a quarter's responses in the OMB upload's
order, a page at a time (the per-response CSV). Records come in through ``Writes.add``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, and_, cast, func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.core.sinks import Upload, Window

from .base import SqlBase, StoreUnavailable, describe
from .schema import as_utc, reported_within, responses

EXPORT_ROWS = 2000  # records read at a time


class Transfer(SqlBase):
    """Records out, as JSON lines; responses out, in order."""

    async def record_texts(
        self, windows: Sequence[Window] = (), service: str | None = None
    ) -> AsyncIterator[list[str]]:
        """Every stored record (reported within ``windows``, of ``service``) as its JSON text,
        one line each, ``EXPORT_ROWS`` at a time, in no particular order."""
        query = select(cast(responses.c.record, Text))
        if windows:
            query = query.where(reported_within(responses, windows))
        if service is not None:
            query = query.where(responses.c.service_id == service)
        try:
            async with self.engine.connect() as conn:
                result = await conn.stream(query.execution_options(yield_per=EXPORT_ROWS))
                async for rows in result.partitions():
                    # A JSON text has no line break but between its tokens: a space is the same.
                    yield [row[0].replace("\n", " ").replace("\r", " ") for row in rows]
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None

    async def upload_pages(
        self, windows: Sequence[Window], service: str | None = None, page: int = EXPORT_ROWS
    ) -> AsyncIterator[list[Upload]]:
        """The responses (``responded``: the trust item answered) reported within ``windows``
        (of ``service``), what the OMB upload needs of each (``Upload``: the record's A-11
        fields, not the whole record, taken out of it by the database), ordered by when they
        were reported and then their id — the OMB upload's order (the reference's, worked out
        from whole records: ``in_quarter`` in ``tests/reference.py``) — ``page`` a query.

        Keyset paging, not one cursor held open: each page is its own short query from where
        the one before stopped, so a download that takes minutes holds no transaction open
        (on a replica a long one is cancelled by the primary's vacuum, or holds it back) and
        the process holds one page. A response is reported when it ended, so its
        ``reported_at`` is its ``ended_at``, and the (``ended_at``, ``response_id``) index
        both finds the page and gives its order."""
        c = responses.c
        # Ids in code-point order, as Python sorts them, whatever the database's collation.
        rid: Any = c.response_id.collate("C") if self.dialect == "postgresql" else c.response_id
        # Only the A-11 fields are decoded here (a fifth of a record): decoding whole records
        # was most of a quarter's CSV time.
        a11: Any = (cast(c.record.op("->")("a11"), Text) if self.dialect == "postgresql"
                    else func.json_extract(c.record, "$.a11"))  # fmt: skip
        where: list[ColumnElement[bool]] = [c.responded.is_(True)]
        if windows:
            where += [c.ended_at >= as_utc(min(start for _, start, _ in windows)),
                      c.ended_at < as_utc(max(end for _, _, end in windows)),
                      reported_within(responses, windows)]  # fmt: skip
        if service is not None:
            where.append(c.service_id == service)
        query = select(c.ended_at, c.response_id, c.service_id, c.flow_id, c.flow_version,
                       a11).order_by(c.ended_at, rid)  # fmt: skip
        after: tuple[Any, str] | None = None
        while True:
            step = list(where)
            if after is not None:
                moment, last = after
                # The plain range first: the index is walked from it (the OR alone is a
                # filter, and each page would scan the quarter from its start again).
                later = or_(c.ended_at > moment, and_(c.ended_at == moment, rid > last))
                step += [c.ended_at >= moment, later]
            try:
                async with self.engine.connect() as conn:
                    if self.dialect == "postgresql":
                        # Planned for its own bounds: from its sixth run a prepared statement
                        # gets a generic plan, which (measured, 100,000 rows) gathers the
                        # whole quarter and sorts it on disk for each page: 1.8 s, not 28 ms.
                        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
                    rows = (await conn.execute(query.where(*step).limit(page))).all()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
            if not rows:
                return
            # Decoded in a thread: the event loop keeps answering webhooks meanwhile.
            yield await asyncio.to_thread(_uploads, rows)
            if len(rows) < page:
                return
            after = (rows[-1][0], rows[-1][1])


def _uploads(rows: Sequence[Any]) -> list[Upload]:
    return [Upload(row[1], row[2], row[3], row[4], orjson.loads(row[5])) for row in rows]
