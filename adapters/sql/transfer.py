"""Records out: every stored record (of a quarter, of a service) as its JSON text, read a few
thousand at a time through a server-side cursor, so an export of millions holds a few
thousand at once (``feedback-bot export``). Records come in through ``Writes.add``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from sqlalchemy import Text, cast, select
from sqlalchemy.exc import SQLAlchemyError

from bot.core.sinks import Window

from .base import SqlBase, StoreUnavailable, describe
from .schema import reported_within, responses

EXPORT_ROWS = 2000  # records read at a time


class Transfer(SqlBase):
    """Records out, as JSON lines."""

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
