"""Reading for reports: the sums summaries count, records of a period, listing records."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, or_, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.exc import SQLAlchemyError

from bot.core.measures import percentile
from bot.core.sinks import ResponseRecord, TallyGroup

from .base import SqlBase, StoreUnavailable, describe
from .schema import as_utc, decode_all, record_of, responses

STREAM_ROWS = 5000  # records read at a time for a report: the event loop runs between them


class Figures(SqlBase):
    """What reports read."""

    async def responses(
        self,
        *,
        service: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        disposition: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> list[ResponseRecord]:
        query = select(responses.c.record, responses.c.ended_at).order_by(
            responses.c.ended_at, responses.c.response_id
        )
        conditions = []
        if service:
            conditions.append(responses.c.service_id == service)
        if since:
            conditions.append(responses.c.ended_at >= as_utc(since))
        if until:
            conditions.append(responses.c.ended_at < as_utc(until))
        if disposition:
            conditions.append(responses.c.disposition == disposition)
        if after:
            ended, response_id = as_utc(after[0]), after[1]
            conditions.append(
                or_(
                    responses.c.ended_at > ended,
                    and_(responses.c.ended_at == ended, responses.c.response_id > response_id),
                )
            )
        if conditions:
            query = query.where(and_(*conditions))
        return [record_of(value) for value in await self._records(query.limit(limit))]

    async def tallies(
        self,
        windows: Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]],
        timed: Sequence[str] = (),
    ) -> dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]]:
        """Per (service, window index): the sums of the records reported in that window
        (``bot.core.sinks.TallyGroup``) and their time percentiles; ``windows`` gives services
        and the windows they are cut by (services in one time zone share them); percentiles
        only for the ``timed`` services (sorting is most of the cost). One query for the sums;
        the percentiles by PostgreSQL, or from the minutes themselves on SQLite."""
        c = responses.c
        within = [
            (and_(c.service_id.in_(list(ids)), c.reported_at >= as_utc(start),
                  c.reported_at < as_utc(end)), index)
            for ids, cuts in windows
            for index, (start, end) in enumerate(cuts)
        ]  # fmt: skip
        bucket = case(*within, else_=None).label("bucket")
        bounds = [moment for _, cuts in windows for cut in cuts for moment in cut]
        where = and_(
            c.service_id.in_([i for ids, _ in windows for i in ids]),
            c.reported_at >= as_utc(min(bounds)),
            c.reported_at < as_utc(max(bounds)),
        )
        keys = (c.service_id, bucket, c.flow_id, c.trust_value, c.sentiment_label, c.offered,
                c.responded, c.started, c.completed)  # fmt: skip
        counts = (func.count(), func.coalesce(func.sum(c.reprompts), 0))
        times = {"first_reply_minutes": c.first_reply_minutes,
                 "completion_minutes": c.completion_minutes}  # fmt: skip
        timed_where = and_(where, c.service_id.in_(list(timed)))

        async def sums() -> list[Any]:
            return await self._rows(select(*keys, *counts).where(where).group_by(*keys))

        async def cuts() -> dict[tuple[str, int], dict[str, float | None]]:
            found: dict[tuple[str, int], dict[str, float | None]] = {}
            if not timed:
                return found
            if self.dialect == "postgresql":  # one sort per column; interpolated as ours
                arrays = [func.percentile_cont(array([0.5, 0.9])).within_group(column.asc())
                          for column in times.values()]  # fmt: skip
                query = select(c.service_id, bucket, *arrays).where(timed_where)
                for row in await self._rows(query.group_by(c.service_id, bucket)):
                    if row[1] is not None:
                        found[(row[0], int(row[1]))] = {
                            f"{name}_p{q}": None if value is None else round(float(value), 1)
                            for name, values in zip(times, row[2:], strict=True)
                            for q, value in zip((50, 90), values or (None, None), strict=True)
                        }
                return found
            minutes: dict[tuple[str, int], dict[str, list[float]]] = {}
            query = select(c.service_id, bucket, *times.values()).where(timed_where)
            for row in await self._rows(query):
                for name, value in zip(times, row[2:], strict=True):
                    if row[1] is not None and value is not None:
                        minutes.setdefault((row[0], int(row[1])), {}).setdefault(
                            name, []).append(value)  # fmt: skip
            for key, columns in minutes.items():
                found[key] = {f"{name}_p{q}": percentile(columns.get(name, []), q)
                              for name in times for q in (50, 90)}  # fmt: skip
            return found

        # The two run at once, on two connections: the page waits for the slower only.
        rows, percentiles = await asyncio.gather(sums(), cuts())
        out: dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]] = {}
        for row in rows:
            if row[1] is not None:
                key = (row[0], int(row[1]))
                groups, _ = out.setdefault(key, ([], percentiles.get(key, {})))
                flags = (bool(row[5]), bool(row[6]), bool(row[7]), bool(row[8]))
                groups.append(TallyGroup(row[2], row[3], row[4], *flags, row[9], row[10]))
        return out

    async def records_between(
        self, since: datetime, until: datetime, service: str | None = None
    ) -> list[ResponseRecord]:
        start, end = as_utc(since), as_utc(until)
        c = responses.c
        # The records' text, decoded in a thread by orjson: a quarter can be 100,000 records,
        # and the driver's json.loads on the event loop would hold every webhook up meanwhile.
        query = select(cast(c.record, Text)).where(
            or_(
                and_(c.transaction_at >= start, c.transaction_at < end),
                and_(c.ended_at >= start, c.ended_at < end),
            )
        )
        if service:
            query = query.where(responses.c.service_id == service)
        records: list[ResponseRecord] = []
        try:
            async with self.engine.connect() as conn:
                result = await conn.stream(query.execution_options(yield_per=STREAM_ROWS))
                async for rows in result.partitions():
                    records += await asyncio.to_thread(decode_all, [row[0] for row in rows])
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
        return records
