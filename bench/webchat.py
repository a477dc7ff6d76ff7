"""Web chat under load: concurrent conversations over WebSockets, each taking a whole survey.

The bot's web process runs on its own (as deployed); this process opens ``--people`` survey
links at once (default 500), each page read once, then each conversation answers its three
questions over its own WebSocket, all at the same time. Reported: answers per second, the
latency of an answer (p50, p99), and the server's CPU per answer — beside the SMS reply path's
figures from ``bench/inbound.py``.

    python3 bench/webchat.py [--people 500] [--rounds 3]

Uses REDIS_URL (default redis://127.0.0.1:6379/13, flushed first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.webchat.channel import WebChatChannel
from bench.inbound import DATA_DIR, _socket, bot_settings, cpu_seconds, start
from bench.serving import serve_forever
from bot.web.app import create_app

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def serve_bot(port: int, ready: object) -> None:
    os.environ["REDIS_URL"] = REDIS_URL
    settings = bot_settings(port, "http://127.0.0.1:9")
    settings = type(settings)(**{**settings.__dict__, "redis_url": REDIS_URL,
                                 "channels": ("webchat",)})  # fmt: skip
    app = create_app(settings, channels=[WebChatChannel(settings)], serving=True)
    serve_forever(app, port, ready)  # type: ignore[arg-type]


async def conversations(base: str, first: int, people: int) -> tuple[list[float], float]:
    """``people`` conversations at once: each opens its link, then answers over its socket."""
    headers = {"Authorization": "Bearer api"}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        items = [
            {"transaction_id": f"web-{first + i}", "service": "benefits-application",
             "channel": "webchat", "to": f"visitor-{first + i}"}
            for i in range(people)
        ]  # fmt: skip
        async with http.post(f"{base}/v1/transactions", json={"transactions": items},
                             headers=headers) as response:  # fmt: skip
            results = (await response.json())["results"]
        links = [str(r["survey_url"]) for r in results]
        latencies: list[float] = []

        async def one(n: int, url: str) -> None:
            # Each visitor from an address of its own (in 198.18.0.0/15, kept for benchmarks),
            # as the platform's router (this process, on a trusted loopback) reports it: the
            # limits per client address would otherwise see one client.
            client = {"X-Forwarded-For": f"198.{18 + n // 65536 % 2}.{n // 256 % 256}.{n % 256}"}
            async with http.get(url, headers=client) as page:
                fields = dict(HIDDEN.findall(await page.text())[:3])
            async with http.ws_connect(f"{url}/ws", headers={"Origin": base, **client}) as ws:
                for answer in ({"answer": "1"}, {"answer": "", "choice": ["1", "3"]},
                               {"answer": "", "text": "Quick and clear, thank you"}):  # fmt: skip
                    t0 = time.perf_counter()
                    await ws.send_json({**fields, **answer, "nonce": f"n{len(latencies)}"})
                    reply = await ws.receive_json()
                    latencies.append(time.perf_counter() - t0)
                    html = reply.get("html", "")
                    fields = dict(HIDDEN.findall(html)[:3]) or fields

        t0 = time.perf_counter()
        await asyncio.gather(*(one(first + n, url) for n, url in enumerate(links)))
        return latencies, time.perf_counter() - t0


async def main(people: int, rounds: int) -> None:
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
        await conversations(base, 10**6, 50)  # warm up
        rates, p50s, p99s, cpus = [], [], [], []
        for n in range(rounds):
            cpu0 = cpu_seconds(server)
            latencies, elapsed = await conversations(base, n * people, people)
            cpu = cpu_seconds(server) - cpu0
            latencies.sort()
            rates.append(len(latencies) / elapsed)
            p50s.append(latencies[len(latencies) // 2] * 1000)
            p99s.append(latencies[int(len(latencies) * 0.99)] * 1000)
            cpus.append(cpu / len(latencies) * 1e6)
        print(f"web chat, {rounds} rounds of {people} concurrent conversations x 3 answers, "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        print(f"answers/s {statistics.median(rates):.0f} (rounds: "
              f"{', '.join(f'{r:.0f}' for r in rates)}); p50 {statistics.median(p50s):.1f} ms; "
              f"p99 {statistics.median(p99s):.1f} ms; server CPU "
              f"{statistics.median(cpus):.0f} us/answer")  # fmt: skip
    finally:
        server.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.people, args.rounds))
