"""Property: no sequence of transactions, STOPs, STARTs and replies ever sends a survey
message to a number while it is opted out."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from adapters.testing.twilio_fake import FakeMessage, FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.service import delivery
from bot.web.app import create_app

from .conftest import REDIS_URL, Bot, Clock, make_settings

NUMBERS = ["+12025550131", "+12025550132"]
action = st.one_of(
    st.tuples(st.just("txn"), st.sampled_from(NUMBERS)),
    st.tuples(st.just("stop"), st.sampled_from(NUMBERS),
              st.sampled_from(["STOP", "stop.", "Cancel", "PARAR", "unsubscribe"])),
    st.tuples(st.just("start"), st.sampled_from(NUMBERS), st.sampled_from(["START", "yes"])),
    st.tuples(st.just("reply"), st.sampled_from(NUMBERS), st.sampled_from(["1", "no", "hi"])),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("later"), st.sampled_from([1, 25, 80])),
)  # fmt: skip


async def scenario(actions: list[tuple[Any, ...]]) -> None:
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    await redis.flushdb()
    fake = FakeTwilio()
    await fake.start()
    opted_out: set[str] = set()
    violations: list[str] = []

    def on_send(message: FakeMessage) -> None:
        if message.to in opted_out:
            violations.append(f"sent to {message.to} while opted out")

    fake.on_send = on_send
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        config = make_settings(
            fake, Path(tmp), invitation_cooldown_days=0, response_cooldown_days=0
        )
        app = create_app(config, channels=[TwilioChannel(config)], clock=clock)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        bot = Bot(client, fake, clock, config)
        try:
            for n, step in enumerate(actions):
                kind = step[0]
                if kind == "txn":
                    body = {"transaction_id": f"p{n}", "service": "benefits-application",
                            "channel": "sms", "to": step[1]}  # fmt: skip
                    assert (await bot.transactions(body)).status == 202
                elif kind == "deliver":
                    await delivery.deliver_due(bot.rt)
                    await delivery.run_timers(bot.rt)
                elif kind == "later":
                    clock.advance(hours=step[1])
                else:
                    number, text = step[1], step[2]
                    was_out = number in opted_out
                    twiml = await bot.text(number, text)
                    if kind == "stop":
                        opted_out.add(number)
                        if was_out and "<Message>" in twiml:
                            violations.append("a second STOP confirmation")
                    elif kind == "start" and was_out:
                        opted_out.discard(number)
                        if "resubscribed" not in twiml:
                            violations.append("no START confirmation")
                    elif was_out and "<Message>" in twiml:
                        violations.append(f"answered {text!r} while opted out: {twiml}")
        finally:
            await client.close()
            await fake.stop()
            await redis.flushdb()
            await redis.aclose()
    assert violations == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=1, max_size=14))
def test_no_send_while_opted_out(actions: list[tuple[Any, ...]]) -> None:
    asyncio.run(scenario(actions))
