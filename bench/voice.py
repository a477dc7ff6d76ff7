"""Voice under load: concurrent calls, each taking a whole survey through the signed webhooks.

The bot's web process runs on its own (as deployed); this process opens ``--calls`` voice
links (default 200) and drives that many simulated callers at once through the bot's TwiML
(``adapters.testing.twilio_fake.converse``: every request signed as Twilio signs it): the link
opened, then three answers by keypad and speech, each after the caller has listened for
about ``--pause`` seconds (default 4; 0 sends every request at once, a measure of capacity).
Reported: webhook requests per second, the latency of one (p50, p99) and the server's CPU
per request.

    python3 bench/voice.py [--calls 200] [--rounds 3] [--pause 4]

Uses REDIS_URL (default redis://127.0.0.1:6379/13, flushed first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.testing.twilio_fake import FakeTwilio, converse, new_call
from adapters.voice.channel import VoiceChannel
from bench.inbound import DATA_DIR, TOKEN, _socket, bot_settings, cpu_seconds, start
from bench.serving import serve_forever
from bot.web.app import create_app

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
SCRIPT = [{"Digits": "1"}, {"SpeechResult": "one and three"},
          {"SpeechResult": "Quick and clear, thank you"}]  # fmt: skip


def serve_bot(port: int, ready: object) -> None:
    os.environ["REDIS_URL"] = REDIS_URL
    settings = bot_settings(port, "http://127.0.0.1:9")
    settings = type(settings)(**{**settings.__dict__, "redis_url": REDIS_URL,
                                 "channels": ("voice",)})  # fmt: skip
    app = create_app(settings, channels=[VoiceChannel(settings)], serving=True)
    serve_forever(app, port, ready)  # type: ignore[arg-type]


async def calls(base: str, first: int, count: int, pause: float = 0.0) -> tuple[list[float], float]:
    """``count`` callers at once, each through its whole survey."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        items = [
            {"transaction_id": f"call-{first + i}", "service": "benefits-application",
             "channel": "voice", "to": f"+1202{2000000 + (first + i) % 8000000:07d}"}
            for i in range(count)
        ]  # fmt: skip
        async with http.post(f"{base}/v1/transactions", json={"transactions": items},
                             headers={"Authorization": "Bearer api"}) as response:  # fmt: skip
            results = (await response.json())["results"]
        links = [str(r["voice_url"]) for r in results if "voice_url" in r]
        latencies: list[float] = []
        t0 = time.perf_counter()

        async def caller(url: str) -> None:
            # Calls are transferred over a pause's time, not all in the same instant.
            await asyncio.sleep(random.uniform(0, pause))
            await converse(http, TOKEN, new_call("+12025550100", "+12025550123", url), SCRIPT,
                           lambda u: u, FakeTwilio.account_sid, latencies, pause)  # fmt: skip

        await asyncio.gather(*(caller(url) for url in links))
        return latencies, time.perf_counter() - t0


async def main(count: int, rounds: int, pause: float) -> None:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    sock = _socket()
    port = sock.getsockname()[1]
    sock.close()
    server = start(serve_bot, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await calls(base, 10**6, 20)  # warm up
        rates, p50s, p99s, cpus = [], [], [], []
        for n in range(rounds):
            cpu0 = cpu_seconds(server)
            latencies, elapsed = await calls(base, n * count, count, pause)
            cpu = cpu_seconds(server) - cpu0
            latencies.sort()
            rates.append(len(latencies) / elapsed)
            p50s.append(latencies[len(latencies) // 2] * 1000)
            p99s.append(latencies[int(len(latencies) * 0.99)] * 1000)
            cpus.append(cpu / len(latencies) * 1e6)
        print(f"voice, {rounds} rounds of {count} concurrent calls x 4 webhooks, "
              f"{pause:g} s to answer, {os.cpu_count()} CPUs")  # fmt: skip
        print(f"webhooks/s {statistics.median(rates):.0f} (rounds: "
              f"{', '.join(f'{r:.0f}' for r in rates)}); p50 {statistics.median(p50s):.1f} ms; "
              f"p99 {statistics.median(p99s):.1f} ms; server CPU "
              f"{statistics.median(cpus):.0f} us/webhook")  # fmt: skip
    finally:
        server.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pause",
        type=float,
        default=4.0,
        help="seconds a caller listens before answering (0: all at once)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds, args.pause))
