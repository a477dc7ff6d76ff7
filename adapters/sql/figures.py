"""Reading for reports: the grouped counts every figure is worked out from, the sums the
overview counts, and listing records a page at a time."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, text
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from bot.core.measures import DRIVER_FIELDS, V1_ITEMS
from bot.core.sinks import (
    DimensionGroup,
    DriverSums,
    QuarterCounts,
    ResponseRecord,
    TallyGroup,
    Window,
)

from .base import StoreUnavailable, describe
from .rollups import DIMENSIONS, FIGURES, Cut, Rollups, cuts_of
from .schema import (
    DIMENSION_KEYS,
    DRIVER_CELLS,
    V1_CELLS,
    as_utc,
    record_of,
    reported_within,
    responses,
)

QUANTILES = (50, 90)
# What a summary's sums are grouped by (``bot.core.sinks.TallyGroup``).
TALLY_KEYS = ("flow_id", "trust_value", "sentiment_label", "offered", "responded", "started",
              "completed")  # fmt: skip


Windows = Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]]


def cuts_of_spans(windows: Windows) -> list[Cut]:
    """Services and the windows they are cut by as cuts, each labelled by its window's index."""
    return [(ids, start, end, index) for ids, spans in windows
            for index, (start, end) in enumerate(spans)]  # fmt: skip


def windowed(windows: Windows) -> tuple[Any, Any]:
    """For services and the windows they are cut by: the label ``bucket`` (which window a
    row's report time falls in, else null) and the condition that reads only the rows of
    those services between the first and the last moment (so the index bounds the scan)."""
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
    return bucket, where


class Figures(Rollups):
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
        windows: Windows,
        timed: Sequence[str] = (),
    ) -> dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]]:
        """Per (service, window index): the sums of the records reported in that window
        (``bot.core.sinks.TallyGroup``) and their time percentiles; ``windows`` gives services
        and the windows they are cut by (services in one time zone share them); percentiles
        only for the ``timed`` services (sorting is most of the cost). One query for the sums;
        the percentiles by the database (``_percentiles``)."""
        c = responses.c
        bucket, where = windowed(windows)
        timed_where = and_(where, c.service_id.in_(list(timed)))
        cuts = cuts_of_spans(windows)

        async def cuts_of_times() -> dict[tuple[str, int], dict[str, float | None]]:
            if not timed:
                return {}
            found = await self._percentiles((c.service_id, bucket), timed_where)
            return {(k[0], int(k[1])): v for k, v in found.items() if k[1] is not None}

        # The two run at once, on two connections: the page waits for the slower only.
        rows, percentiles = await asyncio.gather(
            self.grouped(FIGURES, cuts, TALLY_KEYS, ("n", "reprompts")), cuts_of_times()
        )
        out: dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]] = {}
        for service_id, flow, trust, sentiment, *flags, index, count, reprompts in rows:
            key = (service_id, int(index))
            groups, _ = out.setdefault(key, ([], percentiles.get(key, {})))
            offered, responded, started, completed = (bool(f) for f in flags)
            groups.append(TallyGroup(flow, trust, sentiment, offered, responded, started,
                                     completed, count, reprompts))  # fmt: skip
        return out

    async def _counted(self, query: Executable) -> list[Any]:
        """The rows of a grouped count. On PostgreSQL without JIT compilation: on these
        queries it spent 0.4 s compiling to save a few milliseconds."""
        try:
            async with self.engine.connect() as conn:
                if self.dialect == "postgresql":
                    await conn.execute(text("SET LOCAL jit = off"))
                return list(await conn.execute(query))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None

    async def _percentiles(
        self, keys: Sequence[ColumnElement[Any]], where: ColumnElement[bool]
    ) -> dict[tuple[Any, ...], dict[str, float | None]]:
        """Per value of ``keys`` among the rows ``where`` selects, the median and 90th
        percentile of each time (``first_reply_minutes_p50`` …), interpolated between ranks
        as ``bot.core.measures.percentile`` does. PostgreSQL's ``percentile_cont`` does it;
        on SQLite a window function numbers each time in order and only the two values
        around each percentile's rank come back: the bot never holds the times."""
        c = responses.c
        times = {"first_reply_minutes": c.first_reply_minutes,
                 "completion_minutes": c.completion_minutes}  # fmt: skip
        found: dict[tuple[Any, ...], dict[str, float | None]] = {}
        width = len(keys)
        if self.dialect == "postgresql":  # one sort per column; interpolated as ours
            arrays = [func.percentile_cont(array([0.5, 0.9])).within_group(column.asc())
                      for column in times.values()]  # fmt: skip
            for row in await self._counted(select(*keys, *arrays).where(where).group_by(*keys)):
                found[tuple(row[:width])] = {
                    f"{name}_p{q}": None if value is None else round(float(value), 1)
                    for name, values in zip(times, row[width:], strict=True)
                    for q, value in zip(QUANTILES, values or (None, None), strict=True)
                }
            return found

        async def picks(name: str, column: ColumnElement[Any]) -> None:
            ordered = (
                select(
                    *(key.label(f"key{i}") for i, key in enumerate(keys)),
                    column.label("value"),
                    (func.row_number().over(partition_by=list(keys), order_by=column) - 1).label(
                        "rank"
                    ),
                    func.count().over(partition_by=list(keys)).label("n"),
                )
                .where(where, column.is_not(None))
                .subquery()
            )
            rank, last = ordered.c.rank, ordered.c.n - 1
            near = [rank == (q * last) // 100 + step for q in QUANTILES for step in (0, 1)]
            query = select(*list(ordered.c)[:width], ordered.c.n, rank, ordered.c.value)
            values: dict[tuple[Any, ...], tuple[int, dict[int, float]]] = {}
            for row in await self._counted(query.where(or_(*near))):
                values.setdefault(tuple(row[:width]), (int(row[width]), {}))[1][
                    int(row[width + 1])] = float(row[width + 2])  # fmt: skip
            for key, (n, at) in values.items():
                for q in QUANTILES:
                    found.setdefault(key, {f"{t}_p{p}": None for t in times for p in QUANTILES})
                    found[key][f"{name}_p{q}"] = _interpolated(n, at, q)

        await asyncio.gather(*(picks(name, column) for name, column in times.items()))
        return found

    async def quarter_counts(
        self, windows: Sequence[Window], service: str | None = None,
        dimensions: Sequence[str] = (),
    ) -> dict[str, QuarterCounts]:  # fmt: skip
        """Per service, the grouped counts of its records reported within ``windows`` (one
        quarter): four GROUP BY queries (and the percentiles), run at once on their own
        connections; no record is read."""
        c = responses.c
        where = reported_within(responses, windows)
        if service is not None:
            where = and_(where, c.service_id == service)
        cuts = cuts_of(windows)

        def only(columns: Any) -> ColumnElement[bool]:
            return columns.service_id == service  # type: ignore[no-any-return]

        chosen = only if service is not None else None

        def shown(columns: Any) -> ColumnElement[bool]:
            named = columns.dimension.in_(list(dimensions))
            return and_(named, only(columns)) if service is not None else named

        group_keys = (*TALLY_KEYS, "language", "channel", "reported_channel")
        # Drivers, how far surveys went, v1 answers and the per-response CSV's rows in one
        # read (few groups: progress keys are few).
        cell_keys = ("flow_id", "trust_value", "offered", "responded", "progress")
        groups, by_dimension, by_cells, percentiles = await asyncio.gather(
            self.grouped(FIGURES, cuts, group_keys, ("n", "reprompts"), chosen),
            self.grouped(DIMENSIONS, cuts, DIMENSION_KEYS, ("n",), shown)
            if dimensions else _nothing(),
            self.grouped(FIGURES, cuts, cell_keys, ("n", "q1_n", *DRIVER_CELLS, *V1_CELLS),
                         chosen),
            self._percentiles((c.service_id,), where),
        )  # fmt: skip
        out: dict[str, QuarterCounts] = {}

        def of(service_id: str) -> QuarterCounts:
            return out.setdefault(service_id, QuarterCounts([], [], [], {}, {}, {}))

        for row in groups:  # service, the keys, the label, count, reprompts
            flags = (bool(row[4]), bool(row[5]), bool(row[6]), bool(row[7]))
            of(row[0]).groups.append(TallyGroup(row[1], row[2], row[3], *flags, row[12],
                                                row[13], *row[8:11]))  # fmt: skip
        for service_id, dimension, value, flow, trust, offered, responded, _, count in by_dimension:
            of(service_id).dimensions.append(DimensionGroup(
                dimension, value, flow, trust, bool(offered), bool(responded), count))  # fmt: skip
        drivers: dict[tuple[str, str, int | None], list[Any]] = {}
        uploads: dict[str, int] = {}
        width = len(cell_keys) + 4  # service, keys, label, count, answered q1
        for row in by_cells:
            service_id, flow_id, trust_value, offered, responded, went, _, count, v1 = row[:width]
            found = of(service_id)
            if responded and trust_value is not None:
                # The per-response CSV's rows: respondents whose trust item is A-11 v2's
                # ``question_1``. A trust answer is ``question_1`` or, in a v1 record (its
                # ``q1`` kept, answered or 0), ``q2``; a custom flow's respondents have none.
                uploads[service_id] = uploads.get(service_id, 0) + count - v1
            if responded:
                sums = drivers.setdefault((service_id, flow_id, trust_value),
                                          [0, [[0, 0] for _ in DRIVER_FIELDS]])  # fmt: skip
                sums[0] += count
                for i in range(len(DRIVER_FIELDS)):
                    sums[1][i][0] += row[width + 2 * i]
                    sums[1][i][1] += row[width + 2 * i + 1]
            if offered:
                key = went or "{}"
                found.progress[key] = found.progress.get(key, 0) + count
            if v1:
                at = width + 2 * len(DRIVER_FIELDS)
                for i, item in enumerate(V1_ITEMS):
                    for value in range(1, 6):
                        name = f"{item}_{value}"
                        found.v1[name] = found.v1.get(name, 0) + row[at + 5 * i + value - 1]
        for (service_id, flow_id, trust_value), (count, per) in drivers.items():
            cells_of = {f: (n, total) for f, (n, total) in zip(DRIVER_FIELDS, per, strict=True)}
            of(service_id).drivers.append(DriverSums(flow_id, trust_value, int(count), cells_of))
        for service_id, count in uploads.items():
            out[service_id] = replace(out[service_id], uploads=count)
        for (service_id,), cut in typing.cast(dict[tuple[str], Any], percentiles).items():
            of(service_id).percentiles.update(cut)
        # A service the catalog no longer names is read against its first record's flow:
        # looked up by the quarter's index for each such service (rare), not by a window
        # function over every row.
        named = {i for ids, _, _ in windows if ids for i in ids}
        for service_id in sorted(set(out) - named):
            first = (select(c.flow_id).where(where, c.service_id == service_id)
                     .order_by(c.reported_at, c.response_id).limit(1))  # fmt: skip
            found = out[service_id]
            out[service_id] = replace(found, first_flow=(await self._records(first) or [None])[0])
        return out


def _interpolated(n: int, at: Mapping[int, float], q: int) -> float | None:
    """The q-th percentile of n ordered values from the ones at the ranks around it
    (``statistics.quantiles(method="inclusive")``, as ``bot.core.measures.percentile``)."""
    if n == 1:
        return round(at[0], 1)
    j, delta = divmod(q * (n - 1), 100)
    return round((at[j] * (100 - delta) + at[j + 1] * delta) / 100, 1)


async def _nothing() -> list[Any]:
    return []
