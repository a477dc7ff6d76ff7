"""Inbound reply path: signed webhook -> Redis session -> engine -> TwiML reply + hand-off.

Measured beside a bare aiohttp handler that returns fixed TwiML, in the same run, each server
in its own process and the load from this one over loopback. The two are measured in
alternating rounds after a warm-up (the machine's load drifts), each round with people of its
own; the figures are the medians over rounds, with the spread of the per-round ratio. Each
server's CPU time per reply is read from /proc: what the bot itself costs, whatever the load
generator can drive.

    python3 bench/inbound.py [--people 1800] [--rounds 5] [--concurrency 32]

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
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bench.serving import serve_forever
from bot.core.quiet_hours import daytime_zone
from bot.core.secret import Secret
from bot.service import delivery, intake
from bot.settings import Settings
from bot.web.app import create_app, settle_heap
from bot.wiring import open_runtime

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
DATA_DIR = Path(tempfile.gettempdir()) / "feedback-bot-bench"
TOKEN = "bench-auth-token"
WARM_UP = 200  # people, before the measured rounds
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def bot_settings(port: int, fake_url: str) -> Settings:
    return Settings(
        redis_url=REDIS_URL,
        data_dir=DATA_DIR,
        public_base_url=f"http://127.0.0.1:{port}",
        api_token=Secret("api"),
        admin_token=Secret("admin"),
        pseudonym_key=Secret("key"),
        twilio_account_sid=FakeTwilio.account_sid,
        twilio_auth_token=Secret(TOKEN),
        twilio_from_number="+12025550100",
        twilio_api_base_url=fake_url,
        send_rate=10_000.0,
        send_burst=10_000.0,
    )


def serve_bot(port: int, ready: mp.synchronize.Event) -> None:
    """The web process alone, as deployed (the worker is another process)."""

    settings = bot_settings(port, "http://127.0.0.1:9")
    app = create_app(settings, channels=[TwilioChannel(settings)], serving=True)
    serve_forever(app, port, ready)


def serve_bare(port: int, ready: mp.synchronize.Event) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=TWIML, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/webhooks/twilio/messages", handler)
    app.on_startup.append(settle_heap)  # the same collector tuning as the bot's
    serve_forever(app, port, ready)


def start(target: object, port: int) -> mp.Process:
    ready = mp.get_context("spawn").Event()
    process = mp.get_context("spawn").Process(target=target, args=(port, ready), daemon=True)
    process.start()
    if not ready.wait(60):
        raise SystemExit("server did not start")
    return process


def number(i: int) -> str:
    return f"+1202555{i:04d}"


@dataclass
class Round:
    latencies: list[float]
    elapsed: float
    cpu: float  # the server process's CPU seconds

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


def cpu_seconds(process: mp.Process) -> float:
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def run_round(base: str, people: range, concurrency: int, server: mp.Process) -> Round:
    validator = RequestValidator(TOKEN)
    url = base + "/webhooks/twilio/messages"
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in people:
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
        cpu0, t0 = cpu_seconds(server), time.perf_counter()
        await asyncio.gather(*(person(http) for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(server) - cpu0
    return Round(latencies, elapsed, cpu)


async def prepare(port: int, people: int) -> None:
    """Open a survey for every person: intake and delivery, as the worker would do them."""
    fake = FakeTwilio(auth_token=TOKEN)
    await fake.start()
    settings = bot_settings(port, fake.base_url)
    zone = daytime_zone(datetime.now(UTC))
    async with open_runtime(settings, channels=[TwilioChannel(settings)]) as rt:
        for start in range(0, people, 1000):
            items: list[object] = [
                {"transaction_id": f"bench-{i}", "service": "benefits-application",
                 "channel": "sms", "to": number(i), "timezone": zone}
                for i in range(start, min(people, start + 1000))
            ]  # fmt: skip
            await intake.accept(rt, items)
        while len(fake.messages) < people:
            await delivery.deliver_due(rt, limit=500)
    await fake.stop()


def report(name: str, rounds: list[Round]) -> float:
    rate = statistics.median(r.rate for r in rounds)
    latencies = [x for r in rounds for x in r.latencies]
    q = statistics.quantiles(latencies, n=100)
    cpu = sum(r.cpu for r in rounds) / len(latencies)
    print(f"{name:<28} {rate:>8.0f} replies/s   p50 {q[49] * 1000:6.2f} ms   "
          f"p99 {q[98] * 1000:6.2f} ms   server CPU {cpu * 1e6:5.0f} us/reply   "
          f"(rounds: {', '.join(f'{r.rate:.0f}' for r in rounds)})")  # fmt: skip
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser()
    # Five rounds: on a shared machine one round in three can be off by a fifth.
    parser.add_argument("--people", type=int, default=1800, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if args.people * args.rounds + WARM_UP > 10_000:
        raise SystemExit("at most 10,000 people in all (their numbers are +1202555XXXX)")
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()

    bot_port, bare_port = (_socket().getsockname()[1] for _ in range(2))
    await prepare(bot_port, args.people * args.rounds + WARM_UP)
    bot = start(serve_bot, bot_port)
    bare = start(serve_bare, bare_port)
    bare_rounds: list[Round] = []
    bot_rounds: list[Round] = []
    try:
        # Not measured: connections opened, first calls of every code path made.
        warm_up = range(args.people * args.rounds, args.people * args.rounds + WARM_UP)
        await run_round(f"http://127.0.0.1:{bare_port}", warm_up, args.concurrency, bare)
        await run_round(f"http://127.0.0.1:{bot_port}", warm_up, args.concurrency, bot)
        for n in range(args.rounds):
            people = range(n * args.people, (n + 1) * args.people)
            bare_rounds.append(
                await run_round(f"http://127.0.0.1:{bare_port}", people, args.concurrency, bare)
            )
            bot_rounds.append(
                await run_round(f"http://127.0.0.1:{bot_port}", people, args.concurrency, bot)
            )
    finally:
        bot.terminate()
        bare.terminate()
    print(f"inbound reply path, {args.rounds} rounds of {args.people} people x 3 replies, "
          f"concurrency {args.concurrency}, {os.cpu_count()} CPUs")  # fmt: skip
    bare_rate = report("bare aiohttp fixed TwiML", bare_rounds)
    bot_rate = report("bot (signed, Redis, engine)", bot_rounds)
    ratios = [b.rate / a.rate for a, b in zip(bare_rounds, bot_rounds, strict=True)]
    print(f"ratio bot/bare: {bot_rate / bare_rate:.2f} "
          f"(per round {min(ratios):.2f}-{max(ratios):.2f})")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
