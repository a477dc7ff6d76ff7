"""A Redis that comes back empty (flushed, restarted without persistence, failed over to an
empty replica) while web and worker run: the bot notices, says once what was lost, and goes on.
Each test starts its own redis-server, so it can flush, kill and restart it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot import registry
from bot.service.library import Live
from bot.settings import Settings
from bot.store.state import State
from bot.wiring import open_store_ready

from .conftest import Bot, RedisServer, make_settings, serving

PHONE = "+12025550123"
OTHER = "+12025550124"


@pytest.fixture
async def running(
    own_redis: RedisServer, fake_twilio: FakeTwilio, tmp_path: Path
) -> AsyncIterator[Bot]:
    """Web and worker in one app (``feedback-bot run``) on the test's own Redis."""
    settings = make_settings(fake_twilio, tmp_path, redis_url=own_redis.url)
    async with serving(settings, [TwilioChannel(settings)], fake_twilio, worker=True) as bot:
        yield bot


async def eventually(condition: object, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {condition}")
        await asyncio.sleep(0.05)


async def survey_to_the_store(bot: Bot, phone: str, tid: str) -> None:
    """A transaction is accepted, the worker sends its invitation, the person answers, and the
    completed response reaches the measures store (nothing left unforwarded)."""
    txn = {"transaction_id": tid, "service": "benefits-application", "channel": "sms",
           "to": phone, "timezone": "America/New_York"}  # fmt: skip
    response = await bot.transactions(txn)
    assert response.status == 202 and (await response.json())["status"] == "scheduled"

    async def invited() -> bool:
        return bool(bot.fake.sent_to(phone))

    await eventually(invited)
    assert "What went well?" in await bot.text(phone, "yes")
    assert "Anything else" in await bot.text(phone, "1 3")
    assert "Thank you!" in await bot.text(phone, "Quick, thanks")
    store = bot.rt.store
    assert store is not None

    async def stored() -> bool:
        sizes = await bot.rt.state.queue_sizes()
        records = await store.responses(limit=100)  # type: ignore[attr-defined]
        return sizes["unforwarded"] == 0 and tid in {r["transaction_id"] for r in records}

    await eventually(stored)


@pytest.mark.parametrize("loss", ["flushall", "restart"])
async def test_work_goes_on_after_redis_comes_back_empty(
    loss: str, running: Bot, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await survey_to_the_store(running, PHONE, "before")
    if loss == "flushall":
        await own_redis.client().flushall()
    else:
        own_redis.kill()
        await asyncio.sleep(0.5)  # the worker meets a Redis that is away
        own_redis.start()
    await survey_to_the_store(running, OTHER, "after")
    stored = await running.rt.store.responses(limit=10)  # type: ignore[union-attr]
    assert {r["transaction_id"] for r in stored} == {"before", "after"}  # the store's are safe
    # Said once, naming what was lost, and nothing loops afterwards.
    empty = [r for r in caplog.records if "Redis came back empty" in r.getMessage()]
    assert len(empty) == 1, [r.getMessage() for r in empty]
    assert empty[0].levelno == logging.WARNING
    assert "invitations scheduled and not yet sent" in empty[0].getMessage()
    errors_before = len([r for r in caplog.records if r.levelno >= logging.ERROR])
    await asyncio.sleep(1.0)
    errors_after = len([r for r in caplog.records if r.levelno >= logging.ERROR])
    assert errors_after == errors_before


def metric(text: str, name: str, stream: str) -> float:
    [line] = [x for x in text.splitlines() if x.startswith(f'{name}{{stream="{stream}"}} ')]
    return float(line.split()[-1])


async def test_readyz_and_metrics_tell_a_stalled_consumer_from_a_healthy_one(
    running: Bot, own_redis: RedisServer
) -> None:
    bot = running
    streams = ["fb:send", "fb:ended", "fb:work"]

    async def healthy() -> bool:
        ready = await bot.client.get("/readyz")
        text = await (await bot.client.get("/metrics")).text()
        return ready.status == 200 and all(
            metric(text, "feedback_bot_stream_read_age_seconds", s) < 5 for s in streams
        )

    await eventually(healthy)
    body = await (await bot.client.get("/readyz")).json()
    assert body == {"status": "ready", "redis": "ok", "store": "ok",
                    "consumers": {s: "ok" for s in streams}}  # fmt: skip
    # One shard's work stream becomes a key of another type: every read of it fails while
    # Redis itself answers, the other consumers read on.
    client = own_redis.client()
    await client.delete("fb:{s03}:work")
    await client.set("fb:{s03}:work", "not a stream")
    bot.clock.advance(seconds=61)

    async def stalled() -> bool:  # the healthy ones have read since the clock moved
        ready = await bot.client.get("/readyz")
        consumers = (await ready.json())["consumers"]
        return ready.status == 503 and consumers == {"fb:send": "ok", "fb:ended": "ok",
                                                     "fb:work": "stalled"}  # fmt: skip

    await eventually(stalled)
    body = await (await bot.client.get("/readyz")).json()
    assert body["status"] == "unavailable" and body["redis"] == "ok"
    assert body["consumers"] == {"fb:send": "ok", "fb:ended": "ok", "fb:work": "stalled"}
    assert body["reason"].startswith("no successful read of fb:work for 61 s")
    assert "ResponseError" in body["reason"]

    async def reported() -> bool:  # each consumer writes its health at most once a second
        text = await (await bot.client.get("/metrics")).text()
        read = metric(text, "feedback_bot_stream_read_age_seconds", "fb:send")
        return read < 5 and metric(text, "feedback_bot_stream_read_errors_total", "fb:work") > 0

    await eventually(reported)
    text = await (await bot.client.get("/metrics")).text()
    assert "# TYPE feedback_bot_stream_read_errors_total counter" in text
    assert metric(text, "feedback_bot_stream_read_age_seconds", "fb:work") >= 61
    assert metric(text, "feedback_bot_stream_read_errors_total", "fb:send") == 0
    # Mended, the consumer reads again (its group made anew) and the process is ready.
    await client.delete("fb:{s03}:work")
    await eventually(healthy)


async def test_a_library_change_after_redis_came_back_empty_reaches_every_process(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    settings = Settings(redis_url=own_redis.url, data_dir=tmp_path)
    store = await open_store_ready(settings)
    redis = own_redis.client()
    try:
        one, two = (Live(store, State(redis), settings.services_file, registry.kinds())
                    for _ in range(2))  # fmt: skip
        await one.open(settings.flows_dir)  # seeds the library: generation 1
        await two.open(settings.flows_dir)
        await redis.flushall()
        # The counter is gone; counting from 1 again would land on the generation the other
        # process holds, and it would never reload.
        await one.change_service("benefits-application", {"sample_rate": 0.25}, "admin")
        assert await two.refresh()
        assert two.library.services["benefits-application"].sample_rate == 0.25
    finally:
        await store.close()
