"""Inbound reply path: signed webhook -> Redis session -> engine -> TwiML reply + hand-off.

Measured beside a bare aiohttp handler that returns fixed TwiML, in the same run, each server
in its own process and the load from this one over loopback.

    python3 bench/inbound.py [--people 600] [--concurrency 32]

Uses REDIS_URL (default redis://127.0.0.1:6379/14, flushed first).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.twilio import TwilioChannel
from adapters.twilio_fake import FakeTwilio
from bot.app import create_app
from bot.settings import Secret, Settings

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
TOKEN = "bench-auth-token"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def serve_bot(port: int, ready: mp.synchronize.Event) -> None:
    async def main() -> None:
        import logging

        logging.disable(logging.WARNING)
        fake = FakeTwilio(auth_token=TOKEN)
        await fake.start()
        settings = Settings(
            redis_url=REDIS_URL,
            public_base_url=f"http://127.0.0.1:{port}",
            api_token=Secret("api"),
            admin_token=Secret("admin"),
            pseudonym_key=Secret("key"),
            twilio_account_sid=fake.account_sid,
            twilio_auth_token=Secret(TOKEN),
            twilio_from_number="+12025550100",
            twilio_api_base_url=fake.base_url,
            send_rate=10_000.0,
            send_burst=10_000.0,
        )
        app = create_app(settings, worker=True, channels=[TwilioChannel(settings)])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_bare(port: int, ready: mp.synchronize.Event) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=TWIML, content_type="application/xml")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/webhooks/twilio/messages", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def start(target: object, port: int) -> mp.Process:
    ready = mp.get_context("spawn").Event()
    process = mp.get_context("spawn").Process(target=target, args=(port, ready), daemon=True)
    process.start()
    if not ready.wait(60):
        raise SystemExit("server did not start")
    return process


def number(i: int) -> str:
    return f"+1202555{i:04d}"


async def run_people(base: str, people: int, concurrency: int) -> tuple[list[float], float]:
    validator = RequestValidator(TOKEN)
    url = base + "/webhooks/twilio/messages"
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(people):
        queue.put_nowait(i)

    async def person(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            for step, body in enumerate(("yes", "1 3", "It was quick, thanks")):
                params = {"MessageSid": f"SM{i:016d}{step:016d}", "From": number(i),
                          "To": "+12025550100", "Body": body}  # fmt: skip
                signature = validator.compute_signature(url, params)
                t0 = time.perf_counter()
                async with http.post(
                    url, data=params, headers={"X-Twilio-Signature": signature}
                ) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"HTTP {response.status}")
                latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(person(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return latencies, elapsed


async def prepare(base: str, people: int) -> None:
    from redis.asyncio import Redis

    headers = {"Authorization": "Bearer api"}
    async with aiohttp.ClientSession() as http:
        for start in range(0, people, 1000):
            batch = [
                {"transaction_id": f"bench-{i}", "service": "benefits-application",
                 "channel": "sms", "to": number(i)}
                for i in range(start, min(people, start + 1000))
            ]  # fmt: skip
            async with http.post(
                base + "/v1/transactions", json={"transactions": batch}, headers=headers
            ) as r:
                assert r.status == 202, await r.text()
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    while await redis.zcard("fb:due") or await redis.xlen("fb:send"):
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    await redis.aclose()


def report(name: str, latencies: list[float], elapsed: float) -> float:
    rate = len(latencies) / elapsed
    q = statistics.quantiles(latencies, n=100)
    print(f"{name:<28} {rate:>8.0f} replies/s   p50 {q[49] * 1000:6.2f} ms   "
          f"p99 {q[98] * 1000:6.2f} ms   ({len(latencies)} requests)")  # fmt: skip
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()

    bot_port, bare_port = (_socket().getsockname()[1] for _ in range(2))
    bot = start(serve_bot, bot_port)
    bare = start(serve_bare, bare_port)
    try:
        await prepare(f"http://127.0.0.1:{bot_port}", args.people)
        bare_lat, bare_elapsed = await run_people(
            f"http://127.0.0.1:{bare_port}", args.people, args.concurrency
        )
        bot_lat, bot_elapsed = await run_people(
            f"http://127.0.0.1:{bot_port}", args.people, args.concurrency
        )
    finally:
        bot.terminate()
        bare.terminate()
    print(f"inbound reply path, {args.people} people x 3 replies, concurrency {args.concurrency}")
    bare_rate = report("bare aiohttp fixed TwiML", bare_lat, bare_elapsed)
    bot_rate = report("bot (signed, Redis, engine)", bot_lat, bot_elapsed)
    print(f"ratio bot/bare: {bot_rate / bare_rate:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
