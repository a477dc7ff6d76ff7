"""Slack acknowledgement latency and case-job throughput.

Genuinely signed requests to the real ``POST /slack/events`` route (the app on a real socket,
Slack's Web API faked on loopback, real Redis, the SQLite store): ``/cx flows`` commands
(answered inline), Claim clicks on posted cases (queued), and direct-message survey replies
(handled, the answer queued). Prints p50/p99/max acknowledgement time per kind against Slack's
3 s limit, then how fast the worker runs the queued case jobs (chat.update + store write).

    python3 bench/slack.py [--cases 400] [--concurrency 16]

Uses REDIS_URL (default redis://127.0.0.1:6379/14, flushed first). Server, client and fake
share one process and event loop, so the latencies are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.slack.channel import SlackChannel
from adapters.testing.slack_fake import FakeSlack
from bot.core import cases
from bot.core.secret import Secret
from bot.service import alerts
from bot.settings import Settings
from bot.web.app import RUNTIME, create_app

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET = "bench-signing-secret"


def signed(body: str, content_type: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
            "Content-Type": content_type}  # fmt: skip


async def timed(
    session: aiohttp.ClientSession, url: str, bodies: list[tuple[str, str]], concurrency: int
) -> list[float]:
    latencies: list[float] = []
    queue = list(bodies)

    async def client() -> None:
        while queue:
            body, content_type = queue.pop()
            started = time.perf_counter()
            async with session.post(
                url, data=body.encode(), headers=signed(body, content_type)
            ) as r:
                await r.read()
                assert r.status == 200, r.status
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies


def summary(name: str, latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return (f"{name:<24} n={len(ms):>5}  p50 {statistics.median(ms):6.1f} ms  p99 {p99:6.1f} ms"
            f"  max {ms[-1]:6.1f} ms")  # fmt: skip


async def main(count: int, concurrency: int) -> None:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    fake = FakeSlack()
    await fake.start()
    settings = Settings(
        redis_url=REDIS_URL, data_dir=Path(tempfile.mkdtemp(prefix="fb-bench-slack-")),
        api_token=Secret("api"), admin_token=Secret("admin"), pseudonym_key=Secret("key"),
        channels=("slack",), slack_bot_token=Secret(fake.token),
        slack_signing_secret=Secret(SECRET), slack_api_url=fake.base_url,
        slack_alert_channel="C0ALERTS",
    )  # fmt: skip
    app = create_app(settings, channels=[SlackChannel(settings)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/slack/events"
    rt = app[RUNTIME]
    assert rt.outbox is not None

    refs = []
    now = rt.clock()
    for n in range(count):
        ref = f"{n:032x}/c{n}"
        case = cases.from_message(
            f"c{n}", "benefits-application", "sms", "emergency", ("emergency",), now
        )
        await alerts.open_case(rt, ref, case)
        refs.append(ref)
    while await rt.work.step():
        pass

    form = "application/x-www-form-urlencoded"
    commands = [
        (urlencode({"command": "/cx", "text": "flows", "user_id": f"U{n:08d}",
                    "response_url": fake.response_url()}), form)
        for n in range(count)
    ]  # fmt: skip
    clicks = [
        (urlencode({"payload": json.dumps({
            "type": "block_actions", "user": {"id": "U0STAFF"}, "channel": {"id": "C0ALERTS"},
            "actions": [{"action_id": "case_claim", "value": ref, "action_ts": f"{n}.1"}],
        })}), form)
        for n, ref in enumerate(refs)
    ]  # fmt: skip
    dms = [
        (json.dumps({"type": "event_callback", "event_id": f"Ev{n}", "event": {
            "type": "message", "channel_type": "im", "user": f"U{n:08d}", "text": "hello",
            "ts": f"{n}.2", "client_msg_id": f"m{n}"}}), "application/json")
        for n in range(count)
    ]  # fmt: skip
    async with aiohttp.ClientSession() as session:
        results: list[tuple[str, list[float]]] = []
        for name, bodies in (("/cx flows (inline)", commands), ("Claim click (queued)", clicks),
                             ("DM message (queued)", dms)):  # fmt: skip
            results.append((name, await timed(session, url, bodies, concurrency)))
    started = time.perf_counter()
    jobs = 0
    while handled := await rt.work.step():
        jobs += handled
    elapsed = time.perf_counter() - started
    print(f"Slack acknowledgements, concurrency {concurrency} (Slack allows 3,000 ms):")
    for name, latencies in results:
        print("  " + summary(name, latencies))
    print(
        f"worker: {jobs} queued jobs (a claim: chat.update + store write; a DM answer:"
        f" conversations.open + chat.postMessage) in {elapsed:.2f} s = {jobs / elapsed:.0f}/s"
    )
    claimed = sum(
        1 for m in fake.posted("C0ALERTS") if "claimed by" in json.dumps(m.get("blocks", []))
    )
    print(f"cases shown as claimed: {claimed} of {count}")
    await runner.cleanup()
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.concurrency))
