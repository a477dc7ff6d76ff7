"""The per-sender token bucket: segments, not messages; shared through Redis."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from bot.core.segments import segment_info
from bot.service import delivery
from bot.store.state import State

from .conftest import Bot


async def test_bucket_takes_segments_and_says_how_long_to_wait(redis: Redis) -> None:
    state = State(redis)
    assert await state.take_capacity("s", 2, rate=10, burst=2) == 0.0
    wait = await state.take_capacity("s", 1, rate=10, burst=2)
    assert 0.05 < wait <= 0.1
    assert await state.take_capacity("other-sender", 2, rate=10, burst=2) == 0.0
    assert await state.take_capacity("s", 3, rate=10, burst=2, force=True) == 0.0
    debt = await state.take_capacity("s", 1, rate=10, burst=2)
    assert debt > 0.3  # forced use leaves the bucket in debt


@pytest.mark.parametrize("rate", [20.0])
async def test_sends_keep_to_the_configured_rate(bot: Bot, rate: float) -> None:
    import dataclasses

    bot.rt.settings = dataclasses.replace(bot.settings, send_rate=rate, send_burst=1.0)
    # Intro + trust question: two segments per invitation (GSM-7, 195 characters)
    for i in range(20):
        body = {"transaction_id": f"r{i}", "service": "benefits-application", "channel": "sms",
                "to": f"+1202555{2000 + i:04d}"}  # fmt: skip
        assert (await bot.transactions(body)).status == 202
    started = time.monotonic()
    while len(bot.fake.messages) < 20:
        await delivery.deliver_due(bot.rt)
    elapsed = time.monotonic() - started
    assert {segment_info(m.body).segments for m in bot.fake.messages} == {2}
    segments = 2 * 20
    assert elapsed >= (segments - 1) / rate * 0.95  # never faster than the bucket allows
