"""Crash safety with real worker processes: SIGKILL half-way loses and repeats nothing;
SIGTERM finishes what is in hand and acknowledges nothing unfinished."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.quiet_hours import daytime_zone
from bot.core.secret import Secret
from bot.service import delivery, intake
from bot.settings import Settings
from bot.store.state import State
from bot.wiring import open_runtime

from .conftest import REDIS_URL, Bot
from .test_cluster import free_port


def worker_env(fake: FakeTwilio, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "API_TOKEN": "api-token",
        "ADMIN_TOKEN": "admin-token",
        "PSEUDONYM_KEY": "pseudonym-key",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": "+12025550100",
        "TWILIO_API_BASE_URL": fake.base_url,
        "PUBLIC_BASE_URL": "https://feedback.example.gov",
        "SEND_RATE": "10000",
        "STALLED_AFTER_SECONDS": "2",
        "CHANNELS": "sms",
        "LOG_LEVEL": "WARNING",
    }


def settings_for(fake: FakeTwilio, data_dir: Path) -> Settings:
    return Settings(
        redis_url=REDIS_URL,
        data_dir=data_dir,
        pseudonym_key=Secret("pseudonym-key"),
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=Secret(fake.auth_token),
        twilio_from_number="+12025550100",
        twilio_api_base_url=fake.base_url,
        channels=("sms",),
    )


async def schedule(settings: Settings, count: int) -> None:
    zone = daytime_zone(datetime.now(UTC))
    async with open_runtime(settings, channels=[]) as rt:
        for start in range(0, count, 1000):
            items: list[Any] = [
                {"transaction_id": f"fault-{i}", "service": "benefits-application",
                 "channel": "sms", "to": f"+1202555{1000 + i:04d}", "timezone": zone}
                for i in range(start, min(count, start + 1000))
            ]  # fmt: skip
            results, invalid = await intake.accept(rt, items)
            assert not invalid
            assert all(r["status"] == "scheduled" for r in results), results[:3]


async def pending_sends(redis: Redis) -> int:
    state = State(redis)
    replies = await state.each_shard(lambda pipe, s: pipe.xpending(state.k_send(s), "senders"))
    return sum(int(r["pending"]) for r in replies)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=out, stderr=out
        )


async def wait_for(condition: Any, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_sigkill_half_way_sends_every_survey_exactly_once(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    count = 2000
    fake_twilio.delay = 0.002  # a send takes a moment, so the kill can land mid-request
    await schedule(settings_for(fake_twilio, tmp_path), count)
    env = worker_env(fake_twilio, tmp_path)
    first, second = start_worker(env, tmp_path / "w1.log"), start_worker(env, tmp_path / "w2.log")
    try:
        await wait_for(lambda: len(fake_twilio.messages) >= count // 2, 120)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        await wait_for(lambda: len(fake_twilio.messages) >= count, 180)
        await asyncio.sleep(3)  # anything still to come would be a duplicate
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
    per_number = Counter(m.to for m in fake_twilio.messages)
    assert len(per_number) == count
    assert max(per_number.values()) == 1
    assert await pending_sends(redis) == 0


async def test_sigterm_finishes_in_flight_sends_and_exits(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    fake_twilio.delay = 0.3  # every send is slow: SIGTERM will find one in flight
    await schedule(settings_for(fake_twilio, tmp_path), 20)
    worker = start_worker(worker_env(fake_twilio, tmp_path), tmp_path / "worker.log")
    try:
        await wait_for(lambda: fake_twilio.requests >= 2, 60)
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert code == 0, (tmp_path / "worker.log").read_text()
    sent = {m.to for m in fake_twilio.messages}
    assert 1 <= len(sent) < 20  # it stopped after the send in hand, not after the batch
    statuses: Counter[str] = Counter()
    async for key in redis.scan_iter("fb:*:survey:*"):
        raw = await redis.get(key)
        assert raw is not None
        statuses[json.loads(raw)["status"]] += 1
    assert statuses["sending"] == 0  # none left half-way
    assert statuses["active"] == len(sent)
    # what it had not started stays unacknowledged, and a new worker sends it exactly once
    fake_twilio.delay = 0
    successor = start_worker(worker_env(fake_twilio, tmp_path), tmp_path / "successor.log")
    try:
        await wait_for(lambda: len(fake_twilio.messages) >= 20, 60)
        await asyncio.sleep(1)
    finally:
        successor.send_signal(signal.SIGTERM)
        successor.wait(30)
    per_number = Counter(m.to for m in fake_twilio.messages)
    assert len(per_number) == 20 and max(per_number.values()) == 1


async def test_web_process_answers_a_signed_webhook_and_stops_on_sigterm(
    redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    settings = settings_for(fake_twilio, tmp_path)
    await schedule(settings, 1)
    async with open_runtime(settings, channels=[TwilioChannel(settings)]) as rt:
        assert await delivery.deliver_due(rt) == 1
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**worker_env(fake_twilio, tmp_path), "PORT": str(port), "PUBLIC_BASE_URL": base,
           "LOG_LEVEL": "INFO"}  # fmt: skip
    log = tmp_path / "web.log"
    with log.open("ab") as out:
        web = subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env, stdout=out,
                               stderr=out)  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for_http(http, f"{base}/healthz")
            url = f"{base}/webhooks/twilio/messages"
            params = {"MessageSid": "SMweb", "From": "+12025551000", "To": "+12025550100",
                      "Body": "yes"}  # fmt: skip
            signature = RequestValidator(fake_twilio.auth_token).compute_signature(url, params)
            async with http.post(
                url, data=params, headers={"X-Twilio-Signature": signature}
            ) as response:
                assert response.status == 200, await response.text()
                assert "What went well?" in await response.text()
            # A token in a query string never reaches the access log.
            async with http.get(f"{base}/v1/responses?token=leaky-token-123") as response:
                assert response.status == 401
        web.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(web.wait, 30)
    finally:
        if web.poll() is None:
            web.kill()
    assert code == 0, log.read_text()
    logged = log.read_text()
    assert "GET /v1/responses 401" in logged and "POST /webhooks/twilio/messages 200" in logged
    assert "leaky-token-123" not in logged and "+12025551000" not in logged


async def wait_for_http(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_serving_tunes_the_collector_once_started() -> None:
    # In a process of its own: the tuning is process-wide.
    code = """
import asyncio, gc
from aiohttp import web
from bot.web.app import create_app
from bot.core.secret import Secret
from bot.settings import Settings

async def main():
    before = gc.get_threshold()
    settings = Settings(redis_url=REDIS_URL, api_token=Secret("a"), admin_token=Secret("a"),
                        pseudonym_key=Secret("k"), channels=())
    runner = web.AppRunner(create_app(settings, channels=[], serving=True))
    await runner.setup()
    print(before[0], gc.get_threshold()[0], gc.get_freeze_count() > 0)
    await runner.cleanup()

asyncio.run(main())
""".replace("REDIS_URL", repr(REDIS_URL))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["700", "10000", "True"]


async def test_a_burst_beyond_the_redis_pool_waits_instead_of_failing(bot: Bot) -> None:
    # redis-py's default pool refuses the 101st concurrent command (MaxConnectionsError): a
    # burst of requests must wait for a connection, not get 503s.
    headers = {"Authorization": "Bearer admin-token"}
    url = str(bot.client.make_url("/v1/services"))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def status() -> int:
            async with http.get(url, headers=headers) as response:
                return response.status

        statuses = await asyncio.gather(*(status() for _ in range(250)))
    assert statuses == [200] * 250
