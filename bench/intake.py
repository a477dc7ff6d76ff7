"""Transactions accepted per second through the batch API, with real Redis; and the send rate
achieved against the configured per-sender rate.

    python3 bench/intake.py [--transactions 50000] [--concurrency 4] [--rate 40]

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
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bench.serving import serve_forever
from bot.core.quiet_hours import daytime_zone
from bot.core.secret import Secret
from bot.service import delivery
from bot.settings import Settings
from bot.web.app import create_app
from bot.wiring import open_runtime

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")


def settings(fake_url: str, data_dir: Path, **kw: object) -> Settings:
    return Settings(
        redis_url=REDIS_URL,
        data_dir=data_dir,
        api_token=Secret("api"),
        admin_token=Secret("admin"),
        pseudonym_key=Secret("key"),
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=Secret("token"),
        twilio_from_number="+12025550100",
        twilio_api_base_url=fake_url,
        public_base_url="https://feedback.example.gov",  # required with the sms channel
        **kw,  # type: ignore[arg-type]
    )


def serve(port: int, data_dir: str, ready: mp.synchronize.Event) -> None:
    serve_forever(
        create_app(settings("http://127.0.0.1:9", Path(data_dir)), channels=[], serving=True),
        port,
        ready,
    )


async def intake_rate(total: int, concurrency: int, data_dir: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    server = ctx.Process(target=serve, args=(port, data_dir, ready), daemon=True)
    server.start()
    ready.wait(60)
    url = f"http://127.0.0.1:{port}/v1/transactions"
    batches = [
        [{"transaction_id": f"b-{i}", "service": "benefits-application", "channel": "sms",
          "to": f"+1{2025550000 + i % 8_000_000 + 1000}", "timezone": "America/New_York"}
         for i in range(start, start + 1000)]
        for start in range(0, total, 1000)
    ]  # fmt: skip
    latencies: list[float] = []
    queue: asyncio.Queue[list[dict[str, str]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def client(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            t0 = time.perf_counter()
            async with http.post(
                url, json={"transactions": batch}, headers={"Authorization": "Bearer api"}
            ) as response:
                await response.read()
                if response.status != 202:
                    raise SystemExit(f"HTTP {response.status}: {await response.text()}")
            latencies.append(time.perf_counter() - t0)

    async with aiohttp.ClientSession() as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    server.terminate()
    print(f"batch intake: {total} transactions in {elapsed:.2f} s = {total / elapsed:,.0f}/s "
          f"(batches of 1,000, {concurrency} at a time; batch p50 "
          f"{statistics.median(latencies) * 1000:.0f} ms)")  # fmt: skip


async def send_rate(rate: float, invitations: int, data_dir: Path) -> None:
    fake = FakeTwilio(auth_token="token")
    await fake.start()
    config = settings(fake.base_url, data_dir, send_rate=rate, send_burst=1.0)
    zone = daytime_zone(datetime.now(UTC))
    async with open_runtime(config, channels=[TwilioChannel(config)]) as rt:
        from bot.service import intake

        items: list[object] = [
            {"transaction_id": f"s-{i}", "service": "benefits-application", "channel": "sms",
             "to": f"+1202555{3000 + i:04d}", "timezone": zone}
            for i in range(invitations)
        ]  # fmt: skip
        await intake.accept(rt, items)
        while len(fake.messages) < invitations:
            await delivery.deliver_due(rt)
    stamps = [m.created.timestamp() for m in fake.messages]
    from bot.core.segments import segment_info

    segments = sum(segment_info(m.body).segments for m in fake.messages)
    # the first message's segments are taken from a full bucket; the rest are paced
    paced = segments - segment_info(fake.messages[0].body).segments
    achieved = paced / (stamps[-1] - stamps[0])
    await fake.stop()
    print(f"send rate: configured {rate:.1f} segments/s, achieved {achieved:.2f} segments/s "
          f"({100 * (achieved - rate) / rate:+.1f}%) over {invitations} invitations, "
          f"{segments} segments")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=40.0)
    parser.add_argument("--invitations", type=int, default=200)
    args = parser.parse_args()
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    with tempfile.TemporaryDirectory() as tmp:
        await intake_rate(args.transactions, args.concurrency, tmp)
        await redis.flushdb()
        await send_rate(args.rate, args.invitations, Path(tmp))
    await redis.flushdb()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
