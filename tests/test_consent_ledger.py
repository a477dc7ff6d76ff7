"""The consent ledger outlives a Redis that loses its memory: every opt-out and opt-in reaches
the measures store (its system of record) through the outbox, the store answers for a person
while Redis is being restored, and Redis is restored from it, a page at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from adapters.sql import SqlStore
from adapters.testing.twilio_fake import FakeMessage, FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.sinks import ConsentChange
from bot.service import consent
from bot.store.state import State

from .conftest import Bot, RedisServer, make_settings, serving
from .test_store import PG_URL, fresh_store

PHONE = "+12025550123"
OTHER = "+12025550124"
SCOPE = "sender:+12025550100"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def running(
    own_redis: RedisServer, fake_twilio: FakeTwilio, tmp_path: Path, database: str
) -> AsyncIterator[Bot]:
    """Web and worker in one app (``feedback-bot run``) on the test's own Redis, on a fresh
    SQLite or PostgreSQL store."""
    await (await fresh_store(database, tmp_path)).close()  # empty and migrated
    url = PG_URL if database == "postgresql" else None
    settings = make_settings(fake_twilio, tmp_path, redis_url=own_redis.url, database_url=url)
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, worker=True) as bot:
        yield bot


@pytest.fixture
async def web(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path, database: str
) -> AsyncIterator[Bot]:
    """The web app alone (no worker: nothing restores Redis unless the test says so)."""
    await (await fresh_store(database, tmp_path)).close()
    url = PG_URL if database == "postgresql" else None
    settings = make_settings(fake_twilio, tmp_path, database_url=url)
    async with serving(settings, [TwilioChannel(settings)], fake_twilio) as bot:

        async def restored() -> bool:  # the start-up's restore, in the background
            return not await bot.rt.state.unrestored()

        await eventually(restored)
        yield bot


async def eventually(condition: Any, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {condition}")
        await asyncio.sleep(0.05)


def transaction(tid: str, phone: str = PHONE) -> dict[str, str]:
    return {"transaction_id": tid, "service": "benefits-application", "channel": "sms",
            "to": phone, "timezone": "America/New_York"}  # fmt: skip


async def decide(bot: Bot, tid: str, phone: str = PHONE) -> dict[str, Any]:
    response = await bot.transactions(transaction(tid, phone))
    assert response.status == 202, await response.text()
    decided: dict[str, Any] = await response.json()
    return decided


async def drained(bot: Bot) -> bool:
    """Nothing left in the outbox (the store has every change handed to it)."""
    return (await bot.rt.state.queue_sizes())["unforwarded"] == 0


async def forward(bot: Bot) -> None:
    """Run the outbox until it is empty (no worker runs it)."""
    assert bot.rt.outbox is not None
    while await bot.rt.outbox.step():
        pass


async def lose_memory(state: State) -> None:
    """Redis is emptied; its consumer groups are made again (as a consumer does when it
    finds them gone: ``tests/test_empty_redis.py``)."""
    await state.redis.flushdb()
    await state.ensure_groups()


def ledger(bot: Bot) -> SqlStore:
    store = bot.rt.store
    assert isinstance(store, SqlStore)
    return store


@pytest.mark.parametrize("loss", ["flushall", "restart"])
async def test_an_opt_out_outlives_a_redis_that_comes_back_empty(
    loss: str, running: Bot, own_redis: RedisServer
) -> None:
    bot = running
    assert "unsubscribed" in await bot.text(PHONE, "STOP")
    await eventually(lambda: drained(bot))  # the outbox handed it to the store
    if loss == "flushall":
        await own_redis.client().flushall()
    else:
        own_redis.kill()
        await asyncio.sleep(0.5)
        own_redis.start()
    # Whether Redis is restored yet or not, the person is not surveyed again.
    decided = await decide(bot, "after-the-loss")
    assert (decided["status"], decided["reason"]) == ("suppressed", "opted_out")
    assert "<Message>" not in await bot.text(PHONE, "hello")  # nothing to an opted-out number

    async def restored() -> bool:
        return not await bot.rt.state.unrestored()

    await eventually(restored)  # the worker restored Redis's opt-outs from the store
    person = bot.rt.person(PHONE)
    assert await bot.rt.state.opted_out(person, [SCOPE]) is True
    # START after the restore lifts it, in Redis and then in the store: surveyed again.
    assert "resubscribed" in await bot.text(PHONE, "START")
    assert await bot.rt.state.opted_out(person, [SCOPE]) is False
    await eventually(lambda: drained(bot))
    assert await ledger(bot).opted_out_of([person]) == {}
    decided = await decide(bot, "after-start")
    assert decided["status"] == "scheduled"

    async def invited() -> bool:
        return bool(bot.fake.sent_to(PHONE))

    await eventually(invited)
    assert len(bot.fake.sent_to(PHONE)) == 1  # the one invitation after START, nothing before


async def test_the_store_answers_while_redis_is_restored_and_start_lifts_it(web: Bot) -> None:
    """No worker runs: between the loss and the restore, the intake and the reply path ask
    the store for the person; START then lifts the opt-out in both."""
    bot, state = web, web.rt.state
    person = bot.rt.person(PHONE)
    assert "unsubscribed" in await bot.text(PHONE, "STOP")
    await forward(bot)
    assert await ledger(bot).opted_out_of([person]) == {person: frozenset({SCOPE})}
    await lose_memory(state)
    assert await state.opted_out(person, [SCOPE]) is None  # Redis cannot tell
    decided = await decide(bot, "in-the-gap")
    assert (decided["status"], decided["reason"]) == ("suppressed", "opted_out")
    other = await decide(bot, "someone-else", OTHER)
    assert other["status"] == "scheduled"  # the store says who opted out, not everyone
    assert "<Message>" not in await bot.text(PHONE, "hello")
    assert await consent.restore(bot.rt, page=1) == 1
    assert await state.opted_out(person, [SCOPE]) is True and not await state.unrestored()
    assert await consent.restore(bot.rt) is None  # whole: nothing to do
    assert "resubscribed" in await bot.text(PHONE, "START")
    await forward(bot)
    assert await ledger(bot).opted_out_of([person]) == {}
    await lose_memory(state)  # lost again: the store's lifting holds
    assert (await decide(bot, "after-start"))["status"] == "scheduled"


async def test_an_opt_out_said_while_redis_is_restored_holds_before_the_store_has_it(
    web: Bot,
) -> None:
    """In the gap, Redis holds a new opt-out the outbox has not yet handed to the store: the
    intake takes Redis's and the store's together, not the store's alone."""
    await lose_memory(web.rt.state)
    assert "unsubscribed" in await web.text(PHONE, "STOP")
    assert not await drained(web)  # not in the store yet
    decided = await decide(web, "in-the-gap")
    assert (decided["status"], decided["reason"]) == ("suppressed", "opted_out")
    assert "<Message>" not in await web.text(PHONE, "hello")


async def test_a_carrier_opt_out_reaches_the_store_with_how_it_came(web: Bot) -> None:
    """Twilio's 21610 for a message the bot does not know: recorded as a STOP is, ``carrier``."""
    callback = web.settings.public_base_url + "/webhooks/twilio/status"
    stranger = FakeMessage(sid="SM" + "f" * 32, to=OTHER, from_="+12025550100", body="",
                           status_callback=callback, created=datetime.now(UTC))  # fmt: skip
    assert await web.status(stranger, "failed", code=21610) == 204
    await forward(web)
    person = web.rt.person(OTHER)
    async with ledger(web).engine.connect() as conn:
        rows = (await conn.execute(text("SELECT person, scope, opted_out, how, channel "
                                        "FROM consent"))).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [(person, SCOPE, True, "carrier", "sms")]


async def test_forgetting_a_person_keeps_their_opt_out_in_the_store(web: Bot) -> None:
    person = web.rt.person(PHONE)
    assert "unsubscribed" in await web.text(PHONE, "STOP")
    await forward(web)
    admin = {"Authorization": "Bearer admin-token"}
    assert (await web.client.delete(f"/v1/people/{person}", headers=admin)).status == 200
    assert await ledger(web).opted_out_of([person]) == {person: frozenset({SCOPE})}
    await lose_memory(web.rt.state)
    decided = await decide(web, "after-forget-and-loss")
    assert (decided["status"], decided["reason"]) == ("suppressed", "opted_out")


async def test_an_opt_out_said_while_the_store_is_down_reaches_it_once_it_is_back(
    web: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot, state, store = web, web.rt.state, ledger(web)
    person = bot.rt.person(PHONE)
    away = True
    async with store.engine.begin() as conn:  # the store fails every write of the ledger
        await conn.execute(text("ALTER TABLE consent RENAME TO consent_away"))
    try:
        assert "unsubscribed" in await bot.text(PHONE, "STOP")  # answered at once all the same
        await forward(bot)
        assert not await drained(bot)  # kept for a retry, not lost
        status = await bot.rt.outbox.sink_status(["sql"])  # type: ignore[union-attr]
        assert status["sql"]["retrying"] == 1
        assert "sink sql failed" not in caplog.text  # a consent change is the ledger's alone
        decided = await decide(bot, "while-down")  # Redis honours it meanwhile
        assert (decided["status"], decided["reason"]) == ("suppressed", "opted_out")
        async with store.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE consent_away RENAME TO consent"))
        away = False
    finally:
        if away:  # the next test's store is made afresh, but not this table's other name
            async with store.engine.begin() as conn:
                await conn.execute(text("ALTER TABLE consent_away RENAME TO consent"))
    bot.clock.advance(minutes=10)  # past the retry's backoff
    await forward(bot)
    assert await drained(bot)
    assert await store.opted_out_of([person]) == {person: frozenset({SCOPE})}
    await lose_memory(state)
    decided = await decide(bot, "after-the-loss")
    assert (decided["status"], decided["reason"]) == ("suppressed", "opted_out")


async def test_the_ledger_keeps_the_latest_change_whatever_order_it_arrives_in(
    tmp_path: Path, database: str
) -> None:
    store = await fresh_store(database, tmp_path)
    try:

        def said(opted_out: bool, minute: int, how: str) -> ConsentChange:
            return {"person": "a" * 32, "scopes": [SCOPE] if opted_out else [SCOPE, "all"],
                    "opted_out": opted_out, "at": f"2026-11-03T15:{minute:02d}:00+00:00",
                    "how": how, "channel": "sms"}  # fmt: skip

        await store.record_consent(said(True, 1, "stop"))
        await store.record_consent(said(False, 3, "start"))
        await store.record_consent(said(True, 2, "stop"))  # a retry, said before the START
        assert await store.opted_out_of(["a" * 32]) == {}
        await store.record_consent(said(True, 4, "carrier"))
        assert await store.opted_out_of(["a" * 32]) == {"a" * 32: frozenset({SCOPE})}
        async with store.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT scope, how FROM consent"))).all()
        assert [tuple(r) for r in rows] == [(SCOPE, "carrier")]  # no row for a lifted "all"
        # Paged in key order, whatever the page's size.
        await store.keep_opt_outs([("b" * 32, "all"), ("b" * 32, SCOPE), ("c" * 32, "all"),
                                   ("a" * 32, "all")], consent.UNKNOWN_TIME)  # fmt: skip
        pages, after = [], None
        while page := await store.opt_out_page(after, 2):
            pages.append(page)
            after = page[-1]
        assert [len(page) for page in pages] == [2, 2, 1]
        assert [p for page in pages for p in page] == [
            ("a" * 32, "all"), ("a" * 32, SCOPE), ("b" * 32, "all"), ("b" * 32, SCOPE),
            ("c" * 32, "all"),
        ]  # fmt: skip
    finally:
        await store.close()


async def test_opt_outs_redis_held_before_the_store_kept_them_are_kept_in_it(
    redis: Redis, tmp_path: Path
) -> None:
    """An earlier version kept the ledger in Redis alone: the first restore copies what Redis
    holds into the store before it marks Redis whole."""
    store = await fresh_store("sqlite", tmp_path)
    try:
        state = State(redis)
        person = "d" * 32
        await redis.sadd(state.k_optouts_of(person), f"{person}|{SCOPE}")  # no RESTORED
        from bot.service.runtime import Runtime

        rt = Runtime(make_settings(FakeTwilio(), tmp_path), state, {}, {}, store=store)
        assert await consent.restore(rt) == 1
        assert await store.opted_out_of([person]) == {person: frozenset({SCOPE})}
        assert await state.opted_out(person, [SCOPE]) is True
        assert not await state.unrestored()
    finally:
        await store.close()


async def test_a_restore_stops_where_redis_lost_its_memory_again(
    redis: Redis, tmp_path: Path
) -> None:
    """A restore that meets a Redis emptied meanwhile does not mark it whole (its pages so far
    were lost): the next one starts again."""
    store = await fresh_store("sqlite", tmp_path)
    try:
        state = State(redis)
        people = [f"{n:02x}" * 16 for n in range(6)]
        for person in people:
            await store.keep_opt_outs([(person, SCOPE)], consent.UNKNOWN_TIME)
        token = "t"
        shards = await state.begin_restore(state.shards, token)
        assert shards == state.shards
        assert await state.begin_restore(state.shards, "another") == []  # one at a time
        await state.restore_page(token, shards, [(people[0], SCOPE)])
        await redis.flushdb()
        assert await state.restore_page(token, shards, [(people[1], SCOPE)]) == []
        assert await state.end_restore(token, shards, finished=True) == []
        assert len(await state.unrestored()) == len(state.shards)
        from bot.service.runtime import Runtime

        rt = Runtime(make_settings(FakeTwilio(), tmp_path), state, {}, {}, store=store)
        assert await consent.restore(rt, page=4) == 6
        assert all([await state.opted_out(p, [SCOPE]) for p in people])
    finally:
        await store.close()
