"""Reading for reports: the grouped counts every figure is worked out from, the sums the
overview counts, and listing records a page at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, and_, func, or_, select, true
from sqlalchemy.exc import SQLAlchemyError

from bot.core.measures import DRIVER_FIELDS, V1_ITEMS
from bot.core.sinks import (
    DimensionGroup,
    DriverSums,
    QuarterCounts,
    ResponseRecord,
    TallyGroup,
    Window,
)

from .base import StoreUnavailable, describe, to_json
from .rollups import (
    DIMENSIONS,
    FIGURES,
    STATEMENTS,
    TIMES,
    Cut,
    Rollup,
    Rollups,
    Where,
    Windows,
    cut_of,
    cuts_of,
    cuts_of_spans,
    matching,
    shape_of,
    split,
    where_params,
)
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
        only for the ``timed`` services. One query for the sums (``grouped``), and the
        percentiles (``_percentiles``) at once, on another connection."""
        cuts = cuts_of_spans(windows)

        async def times() -> dict[tuple[str, int], dict[str, float | None]]:
            if not timed:
                return {}
            chosen = set(timed)
            return await self._percentiles([
                (sorted(set(ids) & chosen), start, end, index)
                for ids, spans in windows if set(ids) & chosen
                for index, (start, end) in enumerate(spans)
            ])  # fmt: skip

        rows, percentiles = await asyncio.gather(
            self.grouped(FIGURES, cuts, TALLY_KEYS, ("n", "reprompts")), times()
        )
        out: dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]] = {}
        for service_id, flow, trust, sentiment, *flags, index, count, reprompts in rows:
            key = (service_id, int(index))
            groups, _ = out.setdefault(key, ([], percentiles.get(key, {})))
            offered, responded, started, completed = (bool(f) for f in flags)
            groups.append(TallyGroup(flow, trust, sentiment, offered, responded, started,
                                     completed, count, reprompts))  # fmt: skip
        return out

    async def _percentiles(
        self, cuts: Sequence[Cut], where: Where | None = None
    ) -> dict[tuple[str, int], dict[str, float | None]]:
        """Per (service, cut label) among the rows ``cuts`` (and ``where``) select, the median
        and 90th percentile of each time (``first_reply_minutes_p50`` …), interpolated between
        ranks as ``tests/reference.py``'s ``percentile`` does. How many times fall in each tenth of
        a minute is counted as every grouped figure is (``grouped``: days' counts and the
        rest of the rows); the two ranks around a percentile then lie in a bin or two, and
        only those bins' rows are read (by the index on the time), in the same snapshot. The
        bot never holds more than those bins' times; no database sorts a quarter."""
        found: dict[tuple[str, int], dict[str, float | None]] = {}
        if not cuts:
            return found
        try:
            async with self._snapshot() as conn:
                parts = split(cuts, await self._fresh(conn, cuts))  # both times', one snapshot
                for name, rollup in TIMES.items():
                    bins: dict[tuple[str, int], list[tuple[int, int]]] = {}
                    for service, tenth, label, n in await self._grouped(
                        conn, rollup, parts, ("tenth",), ("n",), where
                    ):
                        bins.setdefault((service, int(label)), []).append((tenth, n))
                    # Per group, each rank wanted as (bin, place in the bin).
                    placed: dict[tuple[str, int], tuple[int, dict[int, tuple[int, int]]]] = {}
                    for key, counts in bins.items():
                        total = sum(n for _, n in counts)
                        ranks = sorted({r for q in QUANTILES for r in _ranks(total, q)})
                        placed[key] = (total, _place(sorted(counts), ranks))
                    wanted: dict[tuple[str, int, int], set[int]] = {}
                    for key, (_, at) in placed.items():
                        for tenth, place in at.values():
                            wanted.setdefault((*key, tenth), set()).add(place)
                    values = await self._bin_values(conn, rollup, cuts, wanted, where)
                    for key, (total, at) in placed.items():
                        picked = {r: values[(*key, t)][i] for r, (t, i) in at.items()}
                        for q in QUANTILES:
                            found.setdefault(key, {})[f"{name}_p{q}"] = _interpolated(
                                total, picked, q
                            )
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
        return found

    async def _bin_values(
        self, conn: Any, rollup: Rollup, cuts: Sequence[Cut],
        wanted: Mapping[tuple[str, int, int], set[int]], where: Where | None,
    ) -> dict[tuple[str, int, int], dict[int, float]]:  # fmt: skip
        """For each (service, cut label, bin) ``wanted``, the times at the places wanted in
        it (from 0, in order): one query, each bin a range of the time's index (a little
        wider than the bin; the bin's own expression then says which are in it, as it did
        when they were counted), walked in order from the first place wanted to the last."""
        if not wanted:
            return {}
        keys = sorted(wanted)
        shape = (self.dialect, rollup.days.name, shape_of(where or {}))
        if (query := STATEMENTS.get(shape)) is None:
            query = STATEMENTS[shape] = self._bins_query(rollup, where or {})
        asked = []
        for i, (service, label, bin_) in enumerate(keys):
            _, start, end, _ = cut_of(cuts, service, label)
            places = wanted[(service, label, bin_)]
            asked.append({"i": i, "service": service, "tenth": bin_,
                          "since": self.moment(start), "until": self.moment(end),
                          "skip": min(places), "take": max(places) - min(places) + 1})  # fmt: skip
        found: dict[int, list[float]] = {}
        params = {"bins": to_json(asked), **where_params(where or {})}
        for i, value in await conn.execute(query, params):
            found.setdefault(int(i), []).append(float(value))
        # Rows come in no set order: each bin's few values are put in order here.
        return {key: {min(wanted[key]) + n: value
                      for n, value in enumerate(sorted(found.get(i, [])))}
                for i, key in enumerate(keys)}  # fmt: skip

    def _bins_query(self, rollup: Rollup, where: Where) -> Any:
        """The statement of ``_bin_values``: the parameter ``bins`` lists the bins (``i``,
        service, bin, the cut's moments, the first place wanted and how many)."""
        c = responses.c
        (tenth,) = rollup.keys.values()
        time_of = next(iter(tenth.clauses))
        bins, field = self.recordset("bins", [
            ("i", Integer), ("service", String), ("tenth", Integer), ("since", DateTime(True)),
            ("until", DateTime(True)), ("skip", Integer), ("take", Integer)])  # fmt: skip
        within = and_(
            c.service_id == field["service"], time_of > (field["tenth"] - 2) / 10.0,
            time_of < (field["tenth"] + 2) / 10.0, tenth == field["tenth"],
            c.reported_at >= field["since"], c.reported_at < field["until"],
        )  # fmt: skip
        within = and_(within, matching(c, where))
        if self.dialect == "postgresql":  # each bin walked by the index, in order, no further
            each = (select(time_of.label("value")).where(within).order_by(time_of)
                    .offset(field["skip"]).limit(field["take"]).lateral("each"))  # fmt: skip
            query = select(field["i"], each.c.value).select_from(bins).join(each, true())
        else:  # the bins' values numbered in order (a pilot's bins are small)
            place = func.row_number().over(partition_by=field["i"], order_by=time_of) - 1
            numbered = (select(field["i"].label("i"), time_of.label("value"),
                               place.label("place"), field["skip"].label("skip"),
                               field["take"].label("take"))
                        .select_from(bins).join(responses, within).subquery())  # fmt: skip
            n = numbered.c
            query = select(n.i, n.value).where(n.place >= n.skip, n.place < n.skip + n.take)
        return query

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

        chosen: Where = {} if service is None else {"service_id": service}
        shown: Where = {**chosen, "dimension": list(dimensions)}
        group_keys = (*TALLY_KEYS, "language", "channel", "reported_channel")
        # Drivers, how far surveys went, v1 answers and the per-response CSV's rows in one
        # read (few groups: progress keys are few).
        cell_keys = ("flow_id", "trust_value", "offered", "responded", "progress")
        groups, by_dimension, by_cells, percentiles = await asyncio.gather(
            self.grouped(FIGURES, cuts, group_keys, ("n", "reprompts"), chosen),
            self.grouped(DIMENSIONS, cuts, DIMENSION_KEYS, ("n",), shown)
            if dimensions else _nothing(),
            self.grouped(FIGURES, cuts, cell_keys, ("n", "q1_n", "question_1_n", *DRIVER_CELLS,
                                                    *V1_CELLS), chosen),
            self._percentiles(cuts, chosen),
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
        width = len(cell_keys) + 5  # service, keys, label, count, answered q1, question_1
        for row in by_cells:
            service_id, flow_id, trust_value, offered, responded, went, _, count, v1, v2 = (
                row[:width])  # fmt: skip
            found = of(service_id)
            if responded:
                # The per-response CSV's rows: respondents whose record has A-11 v2's
                # ``question_1`` (what ``upload_lines`` keeps), whatever else it holds.
                uploads[service_id] = uploads.get(service_id, 0) + v2
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
        for (service_id, _), cut in percentiles.items():
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


def _ranks(n: int, q: int) -> tuple[int, ...]:
    """The ranks (from 0) of n ordered values the q-th percentile is interpolated between."""
    j = q * (n - 1) // 100
    return (j,) if n == 1 else (j, j + 1)


def _place(counts: Sequence[tuple[int, int]], ranks: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Where each rank (ascending) falls among bins counted in order: (bin, place in it)."""
    placed: dict[int, tuple[int, int]] = {}
    before, wanted = 0, list(ranks)
    for bin_, n in counts:
        while wanted and wanted[0] < before + n:
            rank = wanted.pop(0)
            placed[rank] = (bin_, rank - before)
        before += n
    return placed


def _interpolated(n: int, at: Mapping[int, float], q: int) -> float | None:
    """The q-th percentile of n ordered values from the ones at the ranks around it
    (``statistics.quantiles(method="inclusive")``, as ``tests/reference.py``'s ``percentile``)."""
    if n == 1:
        return round(at[0], 1)
    j, delta = divmod(q * (n - 1), 100)
    return round((at[j] * (100 - delta) + at[j + 1] * delta) / 100, 1)


async def _nothing() -> list[Any]:
    return []
