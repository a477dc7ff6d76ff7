"""Each closed day's grouped counts (migration 0013), and grouped reads that use them.

A figure is a grouped count over the rows reported in some windows (a quarter in each time
zone, or eight of them for a trend). ``Rollups.grouped`` reads the same groups in two parts
and adds them up in one query: the whole UTC days inside a window whose counts still hold from
``day_figures``/``day_dimensions``/``day_themes`` (and the bins of times a percentile is
found in, ``day_first_replies``/``day_completions``), and everything else (a window's first and
last hours, today, a day changed since it was counted) from the rows. The result is exactly
the rows' grouped counts: a day's counts are used only where ``rolled_days`` holds the
generation ``day_marks`` has now (the tables' triggers move it at every change), read in the
same snapshot as the counts (REPEATABLE READ on PostgreSQL).

``Rollups.roll_up`` counts the days that are over (for an hour: ``SETTLED``) and whose counts
are missing or no longer hold, a few at a time; the worker runs it every minute, ``import``
when it ends. Nothing here is needed for a figure to be right: only for it to be quick.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from bot.core.measures import DRIVER_FIELDS, V1_ITEMS
from bot.core.sinks import Window

from .base import SqlBase, StoreUnavailable, describe, to_json
from .schema import (
    DIMENSION_KEYS,
    FIGURE_KEYS,
    as_utc,
    comment_themes,
    day_completions,
    day_dimensions,
    day_figures,
    day_first_replies,
    day_marks,
    day_themes,
    response_dimensions,
    responses,
    rolled_days,
)

SETTLED = timedelta(hours=1)  # a day is counted once it has been over this long
ROLL_DAYS = 31  # (service, day)s counted in one transaction
DAY = timedelta(days=1)
_PG_ROLLUP_LOCK = 0x726F6C6C  # one roller at a time: two would count a day twice


class tenths(FunctionElement[int]):
    """A time in minutes as whole tenths of a minute, cut toward zero the same way on both
    databases (PostgreSQL's cast would round): the bins a time's percentile is found in."""

    type = Integer()
    inherit_cache = True


@compiles(tenths, "postgresql")
def _tenths_postgresql(element: tenths, compiler: Any, **kw: Any) -> str:
    return f"CAST(trunc({compiler.process(element.clauses, **kw)} * 10) AS INTEGER)"


@compiles(tenths, "sqlite")
def _tenths_sqlite(element: tenths, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} * 10 AS INTEGER)"


@dataclass(frozen=True)
class Rollup:
    """A grouped count kept per day: the table its rows are (``source``), the table of its
    days' counts (``days``), what it groups by (the rows' expression of each key), per sum
    how the rows make it, and which rows it counts (None: all)."""

    source: Table
    days: Table
    keys: Mapping[str, Any]
    sums: Mapping[str, Any]
    counted: Any = None


def _figure_sums() -> dict[str, Any]:
    c = responses.c
    sums: dict[str, Any] = {"n": func.count(), "reprompts": func.coalesce(func.sum(c.reprompts), 0),
                            "q1_n": func.count(c.q1)}  # fmt: skip
    for f in DRIVER_FIELDS:
        sums[f"{f}_n"] = func.count(c[f])
        sums[f"{f}_sum"] = func.coalesce(func.sum(c[f]), 0)
    for item in V1_ITEMS:
        for value in range(1, 6):
            sums[f"{item}_{value}"] = func.sum(case((c[item] == value, 1), else_=0))
    # The rows of the OMB per-response CSV, among respondents: those whose record has A-11 v2's
    # ``question_1`` (migration 0015; a respondent's trust answer is never null there).
    sums["question_1_n"] = func.count(c.question_1)
    return sums


def _columns(table: Table, names: Iterable[str]) -> dict[str, Any]:
    return {name: table.c[name] for name in names}


def _times(column: Any, days: Table) -> Rollup:
    return Rollup(responses, days, {"tenth": tenths(column)}, {"n": func.count()},
                  column.is_not(None))  # fmt: skip


FIGURES = Rollup(responses, day_figures, _columns(responses, FIGURE_KEYS), _figure_sums())
DIMENSIONS = Rollup(response_dimensions, day_dimensions,
                    _columns(response_dimensions, DIMENSION_KEYS), {"n": func.count()})  # fmt: skip
THEMES = Rollup(comment_themes, day_themes, _columns(comment_themes, ("theme",)), {
    "n": func.count(),
    "negative": func.sum(case((comment_themes.c.sentiment == "negative", 1), else_=0)),
})  # fmt: skip
# How many of each time fall in each tenth of a minute (a percentile's bins).
TIMES = {
    "first_reply_minutes": _times(responses.c.first_reply_minutes, day_first_replies),
    "completion_minutes": _times(responses.c.completion_minutes, day_completions),
}
ROLLUPS = (FIGURES, DIMENSIONS, THEMES, *TIMES.values())

# A cut of the rows: the services (None: every service no other cut names), the moments it
# runs from and to, and the label (``bucket``) its rows are counted under.
Cut = tuple[Sequence[str] | None, datetime, datetime, int]
# What a grouped read keeps besides its cuts: columns the rows and the days' counts share,
# each equal to a value or (a list) one of values.
Where = Mapping[str, Any]


def matching(columns: Any, where: Where) -> ColumnElement[bool]:
    """``where`` on ``columns`` (a table's or a query's), its values as parameters
    (``where_params``): the query's text is the same whatever the values."""
    return and_(true(), *(
        columns[name].in_(bindparam(f"where_{name}", expanding=True))
        if isinstance(value, list | tuple) else columns[name] == bindparam(f"where_{name}")
        for name, value in sorted(where.items())
    ))  # fmt: skip


def where_params(where: Where) -> dict[str, Any]:
    """The parameters of ``matching``."""
    return {f"where_{name}": list(value) if isinstance(value, list | tuple) else value
            for name, value in where.items()}  # fmt: skip


def shape_of(where: Where) -> tuple[tuple[str, bool], ...]:
    """What of ``where`` a statement's text depends on (its columns, and which are lists)."""
    return tuple((name, isinstance(value, list | tuple)) for name, value in sorted(where.items()))


# Each grouped read's statement, built once per shape (building one with its hundred columns
# took milliseconds of the event loop each time).
STATEMENTS: dict[tuple[Any, ...], Any] = {}


def cuts_of(windows: Iterable[Window], bucket: int = 0) -> list[Cut]:
    """A quarter's windows (``bot.core.reports.quarter_windows``) as cuts, all under one label."""
    return [(ids, start, end, bucket) for ids, start, end in windows]


# Services and the windows they are cut by (the quarters of a trend).
Windows = Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]]


def cuts_of_spans(windows: Windows) -> list[Cut]:
    """Services and the windows they are cut by as cuts, each labelled by its window's index."""
    return [(ids, start, end, index) for ids, spans in windows
            for index, (start, end) in enumerate(spans)]  # fmt: skip


def cut_of(cuts: Sequence[Cut], service: str, label: int) -> Cut:
    """The cut with ``label`` that ``service``'s rows fall in (KeyError: none)."""
    named = {i for ids, *_ in cuts if ids for i in ids}
    for cut in cuts:
        ids, _, _, at = cut
        if at == label and (service in ids if ids is not None else service not in named):
            return cut
    raise KeyError((service, label))


@dataclass(frozen=True)
class Split:
    """Where a grouped read takes its rows from: days' counts (service, first day, the day
    after the last, label) and rows (services, from, to, label)."""

    days: list[tuple[str, date, date, int]]
    rows: list[tuple[Sequence[str], datetime, datetime, int]]


def split(cuts: Sequence[Cut], fresh: Mapping[str, set[date]]) -> Split:
    """The cuts as days whose counts hold and the rest as rows; ``fresh``: per service with
    rows in the cuts' span (every one: the cut of the services no other names finds them
    there), its days whose counts hold."""
    named = {i for ids, *_ in cuts if ids for i in ids}
    days: list[tuple[str, date, date, int]] = []
    rows: list[tuple[Sequence[str], datetime, datetime, int]] = []
    for ids, start, end, label in cuts:
        start, end = as_utc(start), as_utc(end)
        members = list(ids) if ids is not None else sorted(set(fresh) - named)
        # The whole days inside: from the first midnight at or after the start to the last
        # at or before the end.
        first = start.date() if _moment(start.date()) == start else start.date() + DAY
        plain = []
        for service in members:
            counted = [d for d in fresh.get(service, ()) if first <= d < end.date()]
            if not counted:
                plain.append(service)
                continue
            moment = start
            for first, after in _runs(counted):
                days.append((service, first, after, label))
                if moment < _moment(first):
                    rows.append(([service], moment, _moment(first), label))
                moment = _moment(after)
            if moment < end:
                rows.append(([service], moment, end, label))
        if plain:
            rows.append((plain, start, end, label))
    return Split(days, rows)


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, the day after the last)."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + DAY)
        else:
            runs.append((day, day + DAY))
    return runs


class Rollups(SqlBase):
    """Grouped reads over rows and days' counts; counting the days that are due."""

    def _day_of(self, column: Any) -> Any:
        """A moment's UTC day, as the triggers work it out."""
        if self.dialect == "postgresql":
            return cast(func.timezone("UTC", column), Date)
        return func.date(column)

    async def grouped(
        self, rollup: Rollup, cuts: Sequence[Cut], keys: Sequence[str], sums: Sequence[str],
        where: Where | None = None,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        """Per group of ``service_id``, ``keys`` and the cut's label (``bucket``), the
        ``sums`` of ``rollup`` over the rows within ``cuts`` (and ``where``), as (service,
        *keys, label, *sums) with whole numbers; a row of no cut is not counted."""
        if not cuts:
            return []
        try:
            async with self._snapshot() as conn:
                parts = split(cuts, await self._fresh(conn, cuts))
                return await self._grouped(conn, rollup, parts, keys, sums, where)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None

    @contextlib.asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[Any]:
        """A connection whose reads see one snapshot (on PostgreSQL: REPEATABLE READ, so which
        days hold and their counts agree), without JIT compilation (it spent 0.4 s compiling
        these queries to save a few milliseconds), each query planned for its own values
        (from its sixth run a prepared statement may get a generic plan, blind to how few
        rows a bin or a quarter's edge holds)."""
        async with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
                await conn.execute(text("SET LOCAL jit = off"))
                await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            yield conn

    async def _grouped(
        self, conn: Any, rollup: Rollup, parts: Split, keys: Sequence[str],
        sums: Sequence[str], where: Where | None = None,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        """``grouped`` on ``conn``, its cuts already ``split`` in that connection's snapshot."""
        where = where or {}
        shape = (self.dialect, rollup.days.name, tuple(keys), tuple(sums), shape_of(where))
        if (query := STATEMENTS.get(shape)) is None:
            query = STATEMENTS[shape] = self._query(rollup, keys, sums, where)
        width = 2 + len(keys)
        found = await conn.execute(query, {**self._stretches(parts), **where_params(where)})
        return [(*row[:width], *(int(v or 0) for v in row[width:])) for row in found]

    async def _fresh(self, conn: Any, cuts: Sequence[Cut]) -> dict[str, set[date]]:
        """Per service with rows in the cuts' span (``day_marks`` knows every (service, day)
        with a row: the triggers make the mark), its days whose counts still hold."""
        r, m = rolled_days.c, day_marks.c
        first = min(as_utc(start) for _, start, _, _ in cuts).date()
        last = max(as_utc(end) for _, _, end, _ in cuts).date()
        holds = r.generation == m.generation
        query = (select(m.service_id, m.day, holds)
                 .join_from(day_marks, rolled_days, and_(r.service_id == m.service_id,
                                                         r.day == m.day), isouter=True)
                 .where(m.day >= first, m.day <= last))  # fmt: skip
        if all(ids is not None for ids, *_ in cuts):
            named = sorted({i for ids, *_ in cuts if ids for i in ids})
            query = query.where(m.service_id.in_(named))
        found: dict[str, set[date]] = {}
        for service, day, counted in await conn.execute(query):
            days = found.setdefault(service, set())
            if counted:
                days.add(_day(day))
        return found

    def recordset(self, name: str, fields: Sequence[tuple[str, Any]]) -> tuple[Any, Any]:
        """A list of records passed as one JSON parameter ``name``, as a table to join: the
        table and, per field, its column. One parameter, whatever the number of records, so
        a query's text (and SQLAlchemy's compiled form of it, cached: compiling these took
        tens of milliseconds of the event loop) does not change with the data."""
        param = bindparam(name, type_=Text)
        if self.dialect == "postgresql":
            table = (func.json_to_recordset(cast(param, JSON))
                     .table_valued(*(column(f, kind) for f, kind in fields))
                     .render_derived(name=name, with_types=True))  # fmt: skip
            return table, {f: table.c[f] for f, _ in fields}
        table = func.json_each(param).table_valued("value").alias(name)
        return table, {f: func.json_extract(table.c.value, f"$.{f}") for f, _ in fields}

    def moment(self, value: datetime) -> str:
        """A moment in a ``recordset``, as the database compares it with its columns (SQLite
        keeps a moment as the text of its UTC time, without an offset)."""
        if self.dialect == "postgresql":
            return as_utc(value).isoformat()
        return as_utc(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def _stretches(self, parts: Split) -> dict[str, str]:
        """The parameters of ``_query``: the days' stretches and the rows'."""
        moment = self.moment

        days = [{"service": service, "first_day": first.isoformat(),
                 "after_day": after.isoformat(), "label": label}
                for service, first, after, label in parts.days]  # fmt: skip
        rows = [{"service": service, "since": moment(start), "until": moment(end), "label": label}
                for ids, start, end, label in parts.rows for service in ids]  # fmt: skip
        return {"days": to_json(days), "rows": to_json(rows)}

    def _query(self, rollup: Rollup, keys: Sequence[str], sums: Sequence[str], where: Where) -> Any:
        """The grouped read of ``grouped``: the days' counts of the stretches of days (the
        parameter ``days``) and the rows of the stretches of rows (``rows``), added up."""
        d, s = rollup.days.c, rollup.source.c
        days, day = self.recordset("days", [("service", String), ("first_day", Date),
                                            ("after_day", Date), ("label", Integer)])  # fmt: skip
        counted = (select(d.service_id, *(d[k] for k in keys), day["label"].label("bucket"),
                          *(func.sum(d[name]).label(name) for name in sums))
                   .select_from(days)
                   .join(rollup.days, and_(d.service_id == day["service"],
                                           d.day >= day["first_day"], d.day < day["after_day"]))
                   .group_by(d.service_id, *(d[k] for k in keys), day["label"]))  # fmt: skip
        counted = counted.where(matching(d, where))
        stretches, row = self.recordset("rows", [
            ("service", String), ("since", DateTime(timezone=True)),
            ("until", DateTime(timezone=True)), ("label", Integer)])  # fmt: skip
        within = and_(s.service_id == row["service"], s.reported_at >= row["since"],
                      s.reported_at < row["until"])  # fmt: skip
        if rollup.counted is not None:
            within = and_(within, rollup.counted)
        within = and_(within, matching(s, where))
        grouped = [rollup.keys[k] for k in keys]
        named = [*(rollup.keys[k].label(k) for k in keys),
                 *(rollup.sums[name].label(name) for name in sums)]  # fmt: skip
        if self.dialect == "postgresql":
            # Each stretch its own range of the (service, moment) index, whatever the
            # planner would think of a join: a lateral query per stretch.
            each = (select(s.service_id, *named).where(within)
                    .group_by(s.service_id, *grouped).lateral("each"))  # fmt: skip
            from_rows = (select(each.c.service_id, *(each.c[k] for k in keys),
                                row["label"].label("bucket"), *(each.c[n] for n in sums))
                         .select_from(stretches).join(each, true()))  # fmt: skip
        else:
            from_rows = (select(s.service_id, *named[: len(keys)],
                                row["label"].label("bucket"), *named[len(keys):])
                         .select_from(stretches).join(rollup.source, within)
                         .group_by(s.service_id, *grouped, row["label"]))  # fmt: skip
        both = union_all(counted, from_rows).subquery()
        out = [both.c.service_id, *(both.c[k] for k in keys), both.c.bucket]
        return select(*out, *(func.sum(both.c[name]) for name in sums)).group_by(*out)

    async def roll_up(self, now: datetime | None = None, days: int = ROLL_DAYS) -> int:
        """Count every day that has been over for ``SETTLED`` and whose counts are missing or
        no longer hold, ``days`` (service, day)s a transaction; returns how many were
        counted. On PostgreSQL one process does it at a time: another finds the lock taken
        and returns at once."""
        last = as_utc(now or datetime.now(UTC)) - SETTLED - DAY
        r, m = rolled_days.c, day_marks.c
        counted = 0
        while True:
            try:
                async with self.engine.begin() as conn:
                    if self.dialect == "postgresql":
                        lock = text("SELECT pg_try_advisory_xact_lock(:key)")
                        if not await conn.scalar(lock, {"key": _PG_ROLLUP_LOCK}):
                            return counted
                    due = (await conn.execute(
                        select(m.service_id, m.day, m.generation)
                        .join_from(day_marks, rolled_days, and_(r.service_id == m.service_id,
                                                                r.day == m.day), isouter=True)
                        .where(m.day <= last.date(),
                               or_(r.generation.is_(None), r.generation != m.generation))
                        .order_by(m.service_id, m.day).limit(days)
                    )).all()  # fmt: skip
                    if not due:
                        return counted
                    await self._count_days(conn, [(s, _day(d), g) for s, d, g in due])
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
            counted += len(due)

    async def _count_days(self, conn: Any, due: Sequence[tuple[str, date, int]]) -> None:
        """Count ``due`` (service, day, generation read before counting: a change made
        meanwhile leaves the day behind its mark, to be counted again)."""
        pairs = [(service, day) for service, day, _ in due]
        per: dict[str, list[date]] = {}
        for service, day in pairs:
            per.setdefault(service, []).append(day)
        for rollup in ROLLUPS:
            t, s = rollup.days, rollup.source.c
            await conn.execute(t.delete().where(tuple_(t.c.service_id, t.c.day).in_(pairs)))
            within = or_(
                *(
                    and_(
                        s.service_id == service,
                        s.reported_at >= _moment(first),
                        s.reported_at < _moment(after),
                    )
                    for service, found in per.items()
                    for first, after in _runs(found)
                )
            )
            if rollup.counted is not None:
                within = and_(within, rollup.counted)
            day = self._day_of(s.reported_at)
            keys = [s.service_id, day, *rollup.keys.values()]
            counts = select(*keys, *rollup.sums.values()).where(within).group_by(*keys)
            columns = ["service_id", "day", *rollup.keys, *rollup.sums]
            await conn.execute(t.insert().from_select(columns, counts))  # fmt: skip
        insert = self._insert()(rolled_days).values(
            [{"service_id": s, "day": d, "generation": g} for s, d, g in due]
        )
        await conn.execute(insert.on_conflict_do_update(
            index_elements=[rolled_days.c.service_id, rolled_days.c.day],
            set_={"generation": insert.excluded.generation}))  # fmt: skip


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
