"""The measures store on real SQLite and real PostgreSQL, and the outbox that feeds it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from redis.asyncio import Redis

from adapters.https_sink import SIGNATURE_HEADER, HttpsSink
from adapters.sql import SqlStore, database_url
from bot.core.library import by_id
from bot.core.secret import Secret
from bot.store.outbox import Outbox
from bot.store.state import State

from .records import FLOWS, REPORTED, T0, ended_survey, response_record

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
DROP_ALL = (
    "DROP TABLE IF EXISTS responses, cases, audit, forwards, flow_versions, flow_active, "
    "service_settings, schema_migrations, alembic_version, comments_fts, comments, comment_themes, "
    "consent, response_dimensions, day_marks, rolled_days, day_figures, day_dimensions, "
    "day_themes, day_first_replies, day_completions"
)
ALL_REVISIONS = [
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0008",
    "0012",
    "0009",
    "0010",
    "0013",
    "0014",
    "0015",
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    sql = await fresh_store(request.param, tmp_path)
    yield sql
    await sql.close()


@pytest.fixture
async def pg_store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    sql = await fresh_store("postgresql", tmp_path)
    yield sql
    await sql.close()


async def fresh_store(kind: str, tmp_path: Path) -> SqlStore:
    """An empty, migrated store (PostgreSQL: skipped without one, failed under CI=true)."""
    if kind == "sqlite":
        sql = SqlStore(database_url(None, tmp_path))
    else:
        sql = SqlStore(database_url(PG_URL, tmp_path))
        try:
            async with sql.engine.begin() as conn:
                from sqlalchemy import text

                await conn.execute(text(DROP_ALL))
        except Exception as exc:
            await sql.close()
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is required in CI ({PG_URL}): {exc}")
            pytest.skip(f"no PostgreSQL at {PG_URL}")
    assert [step.split()[0] for step in await sql.migrate()] == ALL_REVISIONS
    return sql


async def test_migrations_run_once(store: SqlStore) -> None:
    assert await store.migrate() == []


async def test_upsert_is_idempotent_on_response_id(store: SqlStore) -> None:
    record = response_record(1, ["yes", "1 3", "Great"])
    await store.write(record)
    await store.write(record)
    changed = {**record, "disposition": "partial"}
    await store.write(changed)
    rows = await store.responses()
    assert len(rows) == 1 and rows[0]["disposition"] == "partial"
    assert rows[0]["a11"]["positive_efficiency"] == 1


async def test_query_filters_and_cursor_paging(store: SqlStore) -> None:
    for i in range(7):
        service = "benefits-application" if i % 2 else "permit-renewal"
        flow = "a11-v2-thumbs" if i % 2 else "a11-v2-scale"
        await store.write(
            response_record(
                i + 1,
                ["1"] if i < 5 else [],
                flow_id=flow,
                service=service,
                completed_at=T0 + timedelta(hours=i),
            )
        )
    first = await store.responses(limit=3)
    cursor = (first[-1]["timestamps"]["ended"], first[-1]["response_id"])
    second = await store.responses(limit=3, after=cursor)
    third = await store.responses(limit=3, after=(second[-1]["timestamps"]["ended"],
                                                  second[-1]["response_id"]))  # fmt: skip
    ids = [r["response_id"] for r in first + second + third]
    assert len(ids) == 7 and len(set(ids)) == 7
    assert [r["service_id"] for r in await store.responses(service="permit-renewal")] == [
        "permit-renewal"
    ] * 4
    assert len(await store.responses(disposition="expired")) == 2
    window = await store.responses(
        since=T0 + timedelta(hours=2, minutes=10), until=T0 + timedelta(hours=4, minutes=10)
    )
    assert len(window) == 2


async def test_times_with_offsets_are_ordered_in_utc(store: SqlStore) -> None:
    eastern = datetime(2026, 11, 2, 10, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    a = response_record(1, ["1"], completed_at=eastern)  # 10:00Z written as 05:00-05:00
    b = response_record(2, ["1"], completed_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    await store.write(a)
    await store.write(b)
    rows = await store.responses(
        since=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
        until=datetime(2026, 11, 2, 11, 0, tzinfo=UTC),
    )
    assert [r["response_id"] for r in rows] == [a["response_id"]]


class FakeSink:
    """A loopback HTTPS-sink receiver that can go down and come back."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.down = False
        self.permanent_error = False
        self.arrivals: list[str] = []
        self.bad_signatures = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handler(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503)
        if self.permanent_error:
            return web.Response(status=400)
        body = await request.read()
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, ""), expected):
            self.bad_signatures += 1
            return web.Response(status=401)
        record = json.loads(body)
        assert request.headers["Idempotency-Key"] == record["response_id"]
        self.arrivals.append(record["response_id"])
        return web.Response(status=201)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/records", self.handler)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/records"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[FakeSink]:
    sink = FakeSink("sink-secret")
    await sink.start()
    yield sink
    await sink.stop()


async def feed(state: State, surveys: list[dict[str, Any]]) -> None:
    for survey in surveys:
        await state.hand_off(survey["person"], json.dumps(survey))


async def drain(outbox: Outbox, rounds: int = 200) -> None:
    for _ in range(rounds):
        status = await outbox.status()
        if status["waiting"] + status["in_flight"] == 0:
            return
        await outbox.step()
    raise AssertionError(f"outbox did not drain: {await outbox.status()}")


async def test_sink_outage_loses_nothing_and_duplicates_nothing(
    store: SqlStore, redis: Redis, receiver: FakeSink
) -> None:
    https = HttpsSink(receiver.url, Secret("sink-secret"))
    await https.start()
    state = State(redis)
    outbox = Outbox(
        state,
        [store, https],
        by_id(FLOWS),
        lambda: datetime.now(UTC),
        reported=REPORTED,
        base_delay=0.001,
    )
    await outbox.ensure_group()
    surveys = [ended_survey(i, ["yes", "1", f"comment {i}"]) for i in range(1, 61)]
    await feed(state, surveys[:20])
    await drain(outbox)
    receiver.down = True  # the sink goes down in the middle of the stream
    await feed(state, surveys[20:40])
    for _ in range(5):
        await outbox.step()
    assert (await outbox.status())["retrying"] > 0
    await feed(state, surveys[40:])
    receiver.down = False  # and comes back
    await drain(outbox)
    await https.close()
    expected = sorted(s["survey_id"] for s in surveys)
    assert sorted(receiver.arrivals) == expected  # each exactly once
    assert Counter(receiver.arrivals).most_common(1)[0][1] == 1
    assert receiver.bad_signatures == 0
    stored = await store.responses(limit=1000)
    assert sorted(r["response_id"] for r in stored) == expected
    assert await outbox.status() == {"waiting": 0, "in_flight": 0, "retrying": 0, "dead": 0}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def run_for(outbox: Outbox, clock: Clock, seconds: float, tick: float = 5.0) -> None:
    """Let the outbox work while ``seconds`` of simulated time pass."""
    end = clock.now + timedelta(seconds=seconds)
    while clock.now < end:
        await outbox.step()
        clock.now += timedelta(seconds=tick)


async def test_dead_letter_and_replay(store: SqlStore, redis: Redis, receiver: FakeSink) -> None:
    https = HttpsSink(receiver.url, Secret("sink-secret"))
    await https.start()
    state = State(redis)
    clock = Clock()
    outbox = Outbox(state, [store, https], by_id(FLOWS), clock, reported=REPORTED, max_delay=3600)
    await outbox.ensure_group()
    receiver.down = True
    await feed(state, [ended_survey(1, ["yes"]), ended_survey(2, ["no"])])
    await run_for(outbox, clock, 23 * 3600, tick=600)
    assert (await outbox.status())["dead"] == 0  # still retrying after 23 hours
    await run_for(outbox, clock, 2 * 3600, tick=600)
    dead = await outbox.dead_letters()
    assert len(dead) == 2 and all("still failing after 24" in d["error"] for d in dead)
    assert all(json.loads(d["progress"])["done"] == ["sql"] for d in dead)
    receiver.permanent_error, receiver.down = True, False
    assert await outbox.replay() == 2
    await drain(outbox)
    assert (await outbox.status())["dead"] == 2  # a 400 is not retried
    receiver.permanent_error = False
    await outbox.replay()
    await drain(outbox)
    await https.close()
    assert sorted(receiver.arrivals) == [f"{1:032x}", f"{2:032x}"]
    assert len(await store.responses()) == 2


async def test_a_sink_down_for_minutes_loses_nothing_and_gets_each_record_once(
    store: SqlStore, redis: Redis, receiver: FakeSink
) -> None:
    https = HttpsSink(receiver.url, Secret("sink-secret"))
    await https.start()
    state = State(redis)
    clock = Clock()
    outbox = Outbox(state, [store, https], by_id(FLOWS), clock, reported=REPORTED)
    await outbox.ensure_group()
    receiver.down = True
    surveys = [ended_survey(i, ["yes", "1", f"comment {i}"]) for i in range(1, 41)]
    await feed(state, surveys)
    await run_for(outbox, clock, 15 * 60)  # a quarter of an hour of outage
    assert (await outbox.status())["dead"] == 0
    assert len(await store.responses(limit=100)) == 40  # the store took each on the first try
    receiver.down = False
    await run_for(outbox, clock, 10 * 60)
    await https.close()
    assert sorted(receiver.arrivals) == sorted(s["survey_id"] for s in surveys)
    assert max(Counter(receiver.arrivals).values()) == 1
    assert await outbox.status() == {"waiting": 0, "in_flight": 0, "retrying": 0, "dead": 0}


async def test_a_record_the_store_can_never_take_is_dead_lettered_at_once(
    pg_store: SqlStore, redis: Redis, receiver: FakeSink
) -> None:
    # PostgreSQL refuses NUL in text (SQLSTATE 22021), whatever the retry; SQLite would keep
    # it. The store says so before sending it (test_transfer: a refusal of the database's own).
    store = pg_store
    https = HttpsSink(receiver.url, Secret("sink-secret"))
    await https.start()
    state = State(redis)
    outbox = Outbox(state, [store, https], by_id(FLOWS), Clock(), reported=REPORTED)
    await outbox.ensure_group()
    # Handed off by an older version that kept a NUL in the comment.
    survey = ended_survey(1, ["yes", "1", "fine"])
    survey["session"]["answers"]["question_4"]["value"] = "bad\x00text"
    await feed(state, [survey])
    await outbox.step()
    [dead] = await outbox.dead_letters()
    assert "refused the record: free_text: a NUL character" in dead["error"]
    assert dead["attempts"] == "1"
    assert receiver.arrivals == [survey["survey_id"]]  # the other sink took it, once
    await https.close()


async def test_malformed_entries_are_dead_lettered_with_the_reason(
    store: SqlStore, redis: Redis
) -> None:
    state = State(redis)
    outbox = Outbox(state, [store], by_id(FLOWS), lambda: datetime.now(UTC), reported=REPORTED)
    await outbox.ensure_group()
    broken = ended_survey(1, ["yes"])
    broken["disposition"] = "vanished"
    await state.redis.xadd(state.k_ended("s03"), {"record": "{not json"})
    await feed(state, [broken, ended_survey(2, ["yes"])])
    await drain(outbox)
    errors = sorted(fields["error"] for fields in await outbox.dead_letters())
    assert len(errors) == 2
    assert errors[0].startswith("malformed: Expecting property name")
    assert 'disposition: "vanished" is not one of' in errors[1]
    assert [r["response_id"] for r in await store.responses()] == [f"{2:032x}"]


async def test_a_dead_forwarders_entries_are_taken_over(store: SqlStore, redis: Redis) -> None:
    state = State(redis)
    dead_one = Outbox(
        state, [store], by_id(FLOWS), lambda: datetime.now(UTC), reported=REPORTED, consumer="dead"
    )
    await dead_one.ensure_group()
    survey = ended_survey(1, ["yes"])
    await feed(state, [survey])
    # the first forwarder reads the entry and dies before acknowledging it
    stream = state.k_ended(state.shard_of(survey["person"]))
    assert await redis.xreadgroup("forwarders", "dead", {stream: ">"}, count=10)
    await asyncio.sleep(0.05)
    survivor = Outbox(state, [store], by_id(FLOWS), lambda: datetime.now(UTC), reported=REPORTED,
                      consumer="alive", claim_idle_ms=20)  # fmt: skip
    assert await survivor.step() == 1
    assert len(await store.responses()) == 1
    assert await survivor.status() == {"waiting": 0, "in_flight": 0, "retrying": 0, "dead": 0}


async def test_case_outcomes_upsert(store: SqlStore) -> None:
    from bot.core import cases

    record = response_record(7, ["no", "1", "Slow"])
    case = cases.from_response(record, FLOWS["a11-v2-thumbs"], ("trust_negative",), T0)
    await store.write_case(cases.outcome(case))
    claimed = cases.act(case, "claim", "U1", T0 + timedelta(minutes=5))
    await store.write_case(cases.outcome(claimed))
    await store.write_case(cases.outcome(claimed))  # a retried job writes it again
    kept = await store.case(case["case_id"])
    assert kept is not None and kept["status"] == "claimed" and kept["claimed_by"] == "U1"
    async with store.engine.connect() as conn:
        from sqlalchemy import text

        rows = (await conn.execute(text("SELECT status, claimed_at FROM cases"))).all()
    assert len(rows) == 1 and rows[0][0] == "claimed"
