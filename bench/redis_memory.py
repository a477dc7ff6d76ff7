"""What a survey leaves in Redis: bytes per open survey, per completed survey, and the
steady-state projection for a national agency's volume.

    python3 bench/redis_memory.py [--surveys 2000] [--completed 300] [--per-month 1000000]

Runs the real app in this process against REDIS_URL (default redis://127.0.0.1:6379/13,
flushed first) and a loopback Twilio: ``--surveys`` transactions through the API, their
invitations sent (open surveys: ``used_memory`` before and after, divided); then
``--completed`` of them answered to the end through the signed webhook and forwarded to the
SQLite store by the outbox. Every key left is sized with ``MEMORY USAGE`` and its TTL, grouped
by kind; the projection is each kind's bytes times how long it stays (a year for a key that
never expires), at ``--per-month`` surveys a month, plus the open surveys of that rate
(surveys stay open until they end: the service's expiry at most, 72 h by default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.quiet_hours import daytime_zone
from bot.core.secret import Secret
from bot.service import delivery
from bot.service.runtime import utcnow
from bot.settings import Settings
from bot.web.app import RUNTIME, create_app

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
PUBLIC = "https://feedback.example.gov"
DAY = 86_400
YEAR = 365 * DAY
NEVER = 10**9  # a key without expiry: counted as staying a year


def kind_of(key: str) -> str:
    """A key's kind: its name without the shard tag, the pseudonym and ids."""
    key = re.sub(r"\{[^}]*\}", "{}", key)
    key = re.sub(r"[0-9a-f]{32}", "<id>", key)
    key = re.sub(r"(:txn:<id>):.*", r"\1:<transaction>", key)
    return re.sub(r":SM[0-9a-f]{32}|SM[0-9a-f]{32}", ":<sid>", key)


async def sizes(redis: Redis) -> dict[str, tuple[int, int, float]]:
    """Per kind of key: count, total bytes, mean TTL in seconds (NEVER when none)."""
    count: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    ttl: dict[str, float] = defaultdict(float)
    async for key in redis.scan_iter(count=1000):
        kind = kind_of(key)
        usage = await redis.memory_usage(key, samples=0) or 0
        left = await redis.ttl(key)
        count[kind] += 1
        total[kind] += usage
        ttl[kind] += left if left > 0 else NEVER
    return {k: (count[k], total[k], ttl[k] / count[k]) for k in count}


async def run(args: argparse.Namespace, surveys: int, complete: bool) -> dict[str, Any]:
    """Invite ``surveys`` people (and, with ``complete``, take each survey to the end and
    forward it), on a flushed database; returns used_memory's growth and the keys left."""
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    await redis.flushdb()
    fake = FakeTwilio()
    await fake.start()
    zone = daytime_zone(utcnow())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            redis_url=REDIS_URL, data_dir=Path(tmp), public_base_url=PUBLIC,
            api_token=Secret("api"), admin_token=Secret("admin"), pseudonym_key=Secret("key"),
            twilio_account_sid=fake.account_sid, twilio_auth_token=Secret(fake.auth_token),
            twilio_from_number="+12025550100", twilio_api_base_url=fake.base_url,
            send_rate=100_000.0, send_burst=100_000.0,
        )  # fmt: skip
        app = create_app(settings, channels=[TwilioChannel(settings)])
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        rt = app[RUNTIME]
        numbers = [f"+1202{5550000 + i:07d}" for i in range(surveys)]
        baseline = await sizes(redis)  # the shards' streams and groups, before any survey
        before = int((await redis.info("memory"))["used_memory"])
        for start in range(0, surveys, 500):
            batch = [{"transaction_id": f"m-{i}", "service": "benefits-application",
                      "channel": "sms", "to": numbers[i], "timezone": zone}
                     for i in range(start, min(start + 500, surveys))]  # fmt: skip
            response = await client.post("/v1/transactions", json={"transactions": batch},
                                         headers={"Authorization": "Bearer api"})  # fmt: skip
            assert response.status == 202, await response.text()
        while await delivery.deliver_due(rt, limit=500):
            pass
        if complete:
            validator = RequestValidator(fake.auth_token)
            url = "/webhooks/twilio/messages"
            for n, number in enumerate(numbers):
                for step, body in enumerate(("yes", "1 3", "Quick and easy, thank you")):
                    params = {"MessageSid": f"SM{n:016x}{step:016x}", "From": number,
                              "To": "+12025550100", "Body": body}  # fmt: skip
                    signature = validator.compute_signature(PUBLIC + url, params)
                    response = await client.post(
                        url, data=params, headers={"X-Twilio-Signature": signature}
                    )
                    assert response.status == 200
            assert rt.outbox is not None
            while await rt.outbox.step():
                pass
        after = int((await redis.info("memory"))["used_memory"])
        await client.close()
    await fake.stop()
    kinds = await sizes(redis)
    await redis.aclose()
    grown = {kind: (count, total - baseline.get(kind, (0, 0, 0.0))[1], ttl)
             for kind, (count, total, ttl) in kinds.items()}  # fmt: skip
    return {"grew": (after - before) / surveys, "kinds": grown}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    opened = await run(args, args.surveys, complete=False)
    completed = await run(args, args.completed, complete=True)
    # What each kind of key grew by (shards' streams and groups made at start-up are not a
    # cost per survey), per completed survey.
    left = {kind: (total / args.completed, ttl)
            for kind, (_, total, ttl) in completed["kinds"].items() if total > 0}  # fmt: skip
    per_open = float(opened["grew"])
    byte_days = sum(b * min(ttl, YEAR) / DAY for b, ttl in left.values())
    retention = min(YEAR, max((ttl for _, ttl in left.values()), default=DAY)) / DAY
    per_day = args.per_month / 30
    open_days = 3.0  # surveys stay open until they end: 72 h at most by default
    steady = per_day * (byte_days + per_open * open_days)
    print(f"bytes per open survey (used_memory, {args.surveys} invited): {per_open:,.0f}")
    print(
        f"what a completed survey leaves ({args.completed} completed and forwarded; what keys"
        " shared by all surveys, such as a shard's timers, grew by, divided among them):"
    )
    for kind, (b, ttl) in sorted(left.items(), key=lambda x: -x[1][0] * min(x[1][1], YEAR)):
        stays = "no expiry (a year)" if ttl >= NEVER else f"{ttl / DAY:.1f} days"
        print(f"  {kind:<44} {b:>8,.0f} B   {stays}")
    print(
        f"  bytes right after it ends: {sum(b for b, _ in left.values()):,.0f}; averaged over "
        f"its retention ({retention:.0f} days): {byte_days / retention:,.0f}"
    )
    print(
        f"steady state at {args.per_month:,} surveys a month: "
        f"{steady / 1e9:.2f} GB ({per_day * byte_days / 1e9:.2f} GB ended, "
        f"{per_day * per_open * open_days / 1e9:.2f} GB open)"
    )
    return {"per_open": per_open, "left": left, "steady_bytes": steady}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--surveys", type=int, default=2000)
    parser.add_argument("--completed", type=int, default=300)
    parser.add_argument("--per-month", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args()))
