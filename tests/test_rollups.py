"""Each closed day's grouped counts (migration 0013, ``adapters.sql.rollups``): a figure read
through them equals the same figure from the rows, on SQLite and on PostgreSQL, and stays so
when a counted day changes (a write, an update, ``forget``) before it is counted again."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import and_, func, select, update

from adapters.sql.rollups import Split, split
from adapters.sql.schema import day_figures, day_marks, rolled_days
from adapters.sql.store import SqlStore
from adapters.testing.twilio_fake import FakeTwilio
from bot.core import measures, reports
from bot.core.catalog import Service
from bot.service import themes as service_themes
from bot.service import worker
from bot.wiring import open_runtime

from . import reference
from .conftest import make_settings
from .records import FLOWS, response_record
from .reference import percentile
from .test_figures import MIN_CELL, catalog, differences, stored, varied_records

QUARTERS = [(2027, 1), (2026, 4)]


async def everything(store: SqlStore, services: dict[str, Service]) -> dict[str, Any]:
    """Every grouped read the pages make: the quarters' reports (all and one service), eight
    quarters' tallies and two of driver sums, and the themes' counts."""
    zones: dict[str, list[str]] = {}
    for service in services.values():
        zones.setdefault(service.timezone, []).append(service.id)
    spans = [(ids, [reports.quarter_bounds(fy, q, zone) for fy, q in QUARTERS])
             for zone, ids in zones.items()]  # fmt: skip
    found: dict[str, Any] = {
        f"{fy}-{q}": await reports.build(store, services, FLOWS, fy, q, min_cell=MIN_CELL)
        for fy, q in QUARTERS
    }  # fmt: skip
    found["one"] = await reports.build(store, services, FLOWS, 2027, 1, "permit-renewal",
                                       min_cell=MIN_CELL)  # fmt: skip
    found["tallies"] = sorted(
        (key, sorted(map(repr, groups)), sorted(cut.items()))
        for key, (groups, cut) in (await store.tallies(spans, list(services))).items()
    )
    found["drivers"] = sorted(
        (key, sorted(map(repr, sums))) for key, sums in (await store.driver_sums(spans)).items()
    )
    found["themes"] = await service_themes.quarter_themes(
        store, services, 2027, 1, sorted(services), MIN_CELL
    )
    return found


async def counted_days(store: SqlStore) -> int:
    async with store.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(rolled_days)) or 0)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_figures_read_through_days_counts_equal_the_rows(kind: str, tmp_path: Path) -> None:
    services = catalog()
    records = varied_records()
    assert any(r.get("themes") for r in records)
    # Flows whose fields are another instrument's: a custom flow's ``q2`` without ``q1``, and
    # a v2 record that names ``q1`` too (the per-response CSV has the second, not the first).
    # One in each quarter compared, so neither's count hides the other's.
    answered = [r for r in records if r["a11"].get("question_1") is not None]
    summer = next(r for r in answered if r["timestamps"]["ended"] < "2026-09-30")
    autumn = next(r for r in answered if r["timestamps"]["ended"] > "2026-10-02")
    borrowed = [(summer, {"q2": 4, "comment": "ok"}), (autumn, {**autumn["a11"], "q1": 3})]
    for n, (record, a11) in enumerate(borrowed):
        records.append({**record, "response_id": f"borrowed-{n}", "a11": a11})
    store = await stored(kind, tmp_path, records)
    try:
        from_rows = await everything(store, services)
        counted = await store.roll_up()
        assert counted == await counted_days(store) >= 16  # every (service, day) with a record
        assert await store.roll_up() == 0  # nothing is due twice
        assert differences(await everything(store, services), from_rows) == []

        # The days' counts are what is read: spoil one day's and a figure moves.
        async with store.engine.begin() as conn:
            await conn.execute(update(day_figures).values(n=day_figures.c.n + 1000))
        spoiled = await everything(store, services)
        assert differences(spoiled, from_rows) != []
        async with store.engine.begin() as conn:
            await conn.execute(update(day_figures).values(n=day_figures.c.n - 1000))

        # A counted day that changes is read from its rows until it is counted again.
        late = response_record(
            9001, ["no", "2 5", "Too slow, nobody helped"], service="permit-renewal",
            flow_id="a11-v2-scale", completed_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        )  # fmt: skip
        await store.write(late)
        records.append(late)
        for fy, q in QUARTERS:
            fast = await reports.build(store, services, FLOWS, fy, q, min_cell=MIN_CELL)
            slow = reference.quarterly_report(records, services, FLOWS, fy, q, min_cell=MIN_CELL)
            assert differences(fast, slow) == []
        written = await everything(store, services)
        assert await store.roll_up() == 1  # that day only
        assert differences(await everything(store, services), written) == []

        # forget deletes, an update moves a row to another day: both are seen.
        gone = records[7]
        await store.forget(gone["respondent"])
        records = [r for r in records if r["respondent"] != gone["respondent"]]
        fast = await reports.build(store, services, FLOWS, 2027, 1, min_cell=MIN_CELL)
        slow = reference.quarterly_report(records, services, FLOWS, 2027, 1, min_cell=MIN_CELL)
        assert differences(fast, slow) == []
        assert await store.roll_up() >= 1
        assert differences(await reports.build(store, services, FLOWS, 2027, 1,
                                               min_cell=MIN_CELL), slow) == []  # fmt: skip
    finally:
        await store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_today_is_never_counted_and_its_writes_wait_on_no_row(
    kind: str, tmp_path: Path
) -> None:
    """Today's rows make their day's mark once (generation 0, never moved: every write of the
    day would otherwise update one row); the day is counted once it has been over an hour."""
    now = datetime.now(UTC)
    records = [response_record(n, ["yes", "1"], completed_at=now - timedelta(minutes=n))
               for n in range(1, 4)]  # fmt: skip
    records = [r for r in records if r["timestamps"]["ended"][:10] == now.date().isoformat()]
    assert records  # (a run in the first minutes after midnight has fewer)
    store = await stored(kind, tmp_path, records[:1])
    try:
        for record in records[1:]:
            await store.write(record)
        async with store.engine.connect() as conn:
            marks = (await conn.execute(select(day_marks.c.day, day_marks.c.generation))).all()
        assert [(str(day)[:10], generation) for day, generation in marks] == [
            (now.date().isoformat(), 0)]  # fmt: skip
        assert await store.roll_up() == 0
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        assert await store.roll_up(now=tomorrow + timedelta(minutes=59)) == 0  # not over an hour
        assert await store.roll_up(now=tomorrow + timedelta(hours=1, minutes=1)) == 1
    finally:
        await store.close()


def test_a_quarter_is_split_into_counted_days_and_rows() -> None:
    """Whole UTC days inside a window that hold are read as counts; the window's first and
    last hours, a day that does not hold and a service with no day counted, as rows; the
    services no cut names are those with rows (marks) in the span, each by name."""
    start = datetime(2026, 10, 1, 4, tzinfo=UTC)  # midnight in New York
    end = datetime(2027, 1, 1, 5, tzinfo=UTC)
    days = {date(2026, 10, 2) + timedelta(days=i) for i in range(91)} - {date(2026, 11, 5)}
    found = split([(["a", "b"], start, end, 0), (None, start, end, 1)],
                  {"a": days, "x": {date(2026, 10, 3)}, "y": set()})  # fmt: skip
    moment = datetime(2026, 11, 5, tzinfo=UTC)
    assert found == Split(
        days=[("a", date(2026, 10, 2), date(2026, 11, 5), 0),
              ("a", date(2026, 11, 6), date(2027, 1, 1), 0),
              ("x", date(2026, 10, 3), date(2026, 10, 4), 1)],
        rows=[(["a"], start, datetime(2026, 10, 2, tzinfo=UTC), 0),
              (["a"], moment, moment + timedelta(days=1), 0),
              (["a"], datetime(2027, 1, 1, tzinfo=UTC), end, 0),
              (["b"], start, end, 0),
              (["x"], start, datetime(2026, 10, 3, tzinfo=UTC), 1),
              (["x"], datetime(2026, 10, 4, tzinfo=UTC), end, 1),
              (["y"], start, end, 1)],
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_percentiles_found_by_bins_are_exact(kind: str, tmp_path: Path) -> None:
    """Times to the microsecond, many in one tenth of a minute, some on a tenth's edge and
    some negative (a clock that ran back): each percentile is the reference's, read from the
    rows, from days' counts, and from both (a day changed since it was counted)."""
    rng = random.Random(11)
    seconds = [rng.choice([6.0, 12.0, 0.0]) if n % 9 == 0 else rng.uniform(-20, 900)
               for n in range(240)]  # fmt: skip
    records = [
        response_record(
            n, ["yes", "1", "Fine"], service="benefits-application", flow_id="a11-v2-thumbs",
            completed_at=datetime(2026, 11, 2 + n % 20, 1 + n % 22, tzinfo=UTC),
            first_reply_after=timedelta(seconds=s),
            ended_after=timedelta(seconds=abs(s) * 3 + 1),
        )
        for n, s in enumerate(seconds)
    ]  # fmt: skip
    services = catalog()
    window = reports.quarter_windows(services, 2027, 1)

    def expected() -> dict[str, float | None]:
        fields = [measures.tally_fields(r) for r in records]
        return {
            f"{name}_p{q}": percentile([f[name] for f in fields if f[name] is not None], q)
            for name in ("first_reply_minutes", "completion_minutes") for q in (50, 90)
        }  # fmt: skip

    store = await stored(kind, tmp_path, records)
    try:
        rows = (await store.quarter_counts(window))["benefits-application"].percentiles
        assert rows == expected()
        await store.roll_up()
        assert (await store.quarter_counts(window))["benefits-application"].percentiles == rows
        more = response_record(999, ["yes", "1", "Fine"], service="benefits-application",
                               flow_id="a11-v2-thumbs",
                               completed_at=datetime(2026, 11, 5, 12, tzinfo=UTC),
                               first_reply_after=timedelta(seconds=-3))  # fmt: skip
        await store.write(more)
        records.append(more)
        both = (await store.quarter_counts(window))["benefits-application"].percentiles
        assert both == expected() and both != rows
    finally:
        await store.close()


async def test_the_worker_counts_the_days_that_are_due(
    fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    """The worker's own job counts the days that are over (every ``every`` seconds) and
    stops when asked; a day changed later is counted again on its next pass."""
    async with open_runtime(make_settings(fake_twilio, tmp_path), channels=[]) as rt:
        assert rt.store is not None
        store = rt.store
        assert isinstance(store, SqlStore)
        await store.write_many(varied_records(40))
        stop = asyncio.Event()
        job = asyncio.create_task(worker.count_days(rt, stop, every=0.05))
        try:
            for _ in range(100):
                if await counted_days(store) and not await store.roll_up():
                    break
                await asyncio.sleep(0.05)
            assert await counted_days(store) >= 8
            await store.write(response_record(
                9002, ["yes", "1"], completed_at=datetime(2026, 11, 2, 9, tzinfo=UTC)))  # fmt: skip
            async with store.engine.connect() as conn:
                stale = select(func.count()).select_from(day_marks.join(rolled_days, and_(
                    day_marks.c.service_id == rolled_days.c.service_id,
                    day_marks.c.day == rolled_days.c.day,
                ))).where(day_marks.c.generation != rolled_days.c.generation)  # fmt: skip
                assert await conn.scalar(stale) == 1
            for _ in range(100):
                async with store.engine.connect() as conn:
                    if not await conn.scalar(stale):
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the changed day was not counted again")
        finally:
            stop.set()
            await asyncio.wait_for(job, 5)
