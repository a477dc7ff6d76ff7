"""What a Redis without persistence loses when it restarts, measured, and how soon work goes on.

    python3 bench/redis_loss.py [--people 50] [--durable]

Starts its own redis-server (``--save '' --appendonly no``: it comes back empty; with
``--durable``, ``--appendonly yes``, as the README asks, killed a second after the last write)
on a free port,
the real app on it with a SQLite measures store (DATABASE_URL for PostgreSQL) and a loopback
Twilio. ``--people`` people in each state: a response completed and in the store; one
completed whose record is still in the outbox; a survey open mid-way; an invitation sent and
not answered; an invitation scheduled and not yet sent; an opt-out (which the outbox has
handed to the store, as it does within milliseconds). Then Redis is killed and
started again empty, and each is looked at again: what the store holds, what Redis still
knows, what a person's next message gets, and what a repeated transaction or a new one for a
person who just answered is decided. Last, the worker's loops run: the seconds from the
restart until a transaction accepted after it is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestClient, TestServer
from redis import Redis as SyncRedis
from redis.exceptions import RedisError
from twilio.request_validator import RequestValidator

from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bot.core.quiet_hours import daytime_zone
from bot.core.secret import Secret
from bot.service import consent, delivery
from bot.service.runtime import Runtime, utcnow
from bot.service.worker import run_worker
from bot.settings import Settings
from bot.web.app import RUNTIME, create_app

PUBLIC = "https://feedback.example.gov"
# Each state, and what is looked at for its people.
STATES = {
    "stored": "completed, in the store: responses in the store",
    "unforwarded": "completed, record in the outbox: records waiting in the outbox",
    "open": "answering (one answer given): surveys open in Redis",
    "invited": "invited, no answer yet: surveys open in Redis",
    "scheduled": "scheduled, not yet sent: surveys open in Redis",
    "opted_out": "said STOP: opt-outs honoured (Redis's, else the store's)",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """redis-server without persistence (a restart comes back empty), or with an append-only
    file fsynced every second (``durable``)."""

    def __init__(self, directory: str, durable: bool) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server must be on the PATH"
        self.port = free_port()
        self.command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "yes" if durable else "no", "--appendfsync", "everysec",
                        "--dir", directory]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it, and wait until it answers (its append-only file loaded)."""
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        client = SyncRedis(port=self.port)
        for _ in range(400):
            with contextlib.suppress(RedisError):
                client.ping()
                client.close()
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


class World:
    """The app, the fake Twilio, and signed texts from people."""

    def __init__(self, client: TestClient[Any, Any], fake: FakeTwilio) -> None:
        self.client, self.fake = client, fake
        self.rt: Runtime = client.app[RUNTIME]  # type: ignore[index]
        self.sequence = 0

    async def transaction(self, tid: str, to: str, service: str = "benefits-application") -> Any:
        body = {"transaction_id": tid, "service": service, "channel": "sms", "to": to,
                "timezone": daytime_zone(utcnow())}  # fmt: skip
        response = await self.client.post("/v1/transactions", json=body,
                                          headers={"Authorization": "Bearer api"})  # fmt: skip
        return await response.json()

    async def text(self, number: str, body: str) -> str:
        self.sequence += 1
        params = {"MessageSid": f"SM{self.sequence:032x}", "From": number,
                  "To": "+12025550100", "Body": body}  # fmt: skip
        url = "/webhooks/twilio/messages"
        signature = RequestValidator(self.fake.auth_token).compute_signature(PUBLIC + url, params)
        response = await self.client.post(url, data=params,
                                          headers={"X-Twilio-Signature": signature})  # fmt: skip
        return await response.text()


async def look(rt: Runtime, people: dict[str, list[str]]) -> dict[str, int]:
    """For each state, how many of its people the store or Redis holds as STATES says."""
    store: Any = rt.store
    kept = [r["transaction_id"] for r in await store.responses(limit=10_000)]
    waiting = [r["transaction_id"] for r in await rt.state.ended_records()]
    scopes = rt.scopes(rt.services["benefits-application"], "sms")
    out: dict[str, int] = {}
    for state, numbers in people.items():
        persons = [rt.person(n) for n in numbers]
        if state == "stored":
            out[state] = sum(t.startswith("stored-") for t in kept)
        elif state == "unforwarded":
            out[state] = sum(t.startswith("unforwarded-") for t in waiting)
        elif state == "opted_out":
            # What the bot decides by: Redis, or the store while Redis is being restored.
            out[state] = sum([await consent.opted_out(rt, p, scopes) for p in persons])
        else:
            out[state] = sum([bool(await rt.state.open_surveys(p)) for p in persons])
    return out


async def restored_after(rt: Runtime, started: float) -> float:
    """Seconds from ``started`` until every shard of Redis's opt-outs is whole again."""
    while await rt.state.unrestored():
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def main(args: argparse.Namespace) -> None:
    n = args.people
    fake = FakeTwilio()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(tmp, args.durable)
        server.start()
        settings = Settings(
            redis_url=f"redis://127.0.0.1:{server.port}/0", data_dir=Path(tmp),
            database_url=os.environ.get("DATABASE_URL") or None, public_base_url=PUBLIC,
            api_token=Secret("api"), admin_token=Secret("admin"), pseudonym_key=Secret("key"),
            twilio_account_sid=fake.account_sid, twilio_auth_token=Secret(fake.auth_token),
            twilio_from_number="+12025550100", twilio_api_base_url=fake.base_url,
            send_rate=100_000.0, send_burst=100_000.0,
        )  # fmt: skip
        app = create_app(settings, channels=[TwilioChannel(settings)])
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        world, rt = World(client, fake), app[RUNTIME]
        people = {s: [f"+1202{5550000 + 1000 * k + i:07d}" for i in range(n)]
                  for k, s in enumerate(STATES)}  # fmt: skip
        first = ""
        try:
            for state, numbers in people.items():
                # helpdesk-call waits 5 minutes before its invitation: scheduled, not sent
                service = "helpdesk-call" if state == "scheduled" else "benefits-application"
                for i, number in enumerate(numbers):
                    decided = await world.transaction(f"{state}-{i}", number, service)
                    first = first if (state, i) != ("stored", 0) else decided["survey_id"]
            await delivery.deliver_due(rt, limit=100_000)
            # The STOPs before the records left in the outbox: the outbox hands the opt-outs
            # to the store within milliseconds, as it does when it runs.
            for state in ("stored", "opted_out", "unforwarded", "open"):
                for number in people[state]:
                    replies = {"open": ["yes"], "opted_out": ["STOP"]}.get(
                        state, ["yes", "1 3", "Quick and easy"]
                    )
                    for body in replies:
                        await world.text(number, body)
                if state in ("stored", "opted_out"):
                    assert rt.outbox is not None
                    while await rt.outbox.step():
                        pass
            before = await look(rt, people)
            sizes = await rt.state.queue_sizes()
            if args.durable:
                await asyncio.sleep(1.1)  # the last write fsynced
            started = time.monotonic()
            server.kill()
            server.start()
            after = await look(rt, people)
            # What comes next for the people: a reply mid-survey, a repeated transaction,
            # a new one for someone who just answered (within the response cool-down).
            late = await world.text(people["open"][0], "1 3")
            repeat = await world.transaction("stored-0", people["stored"][0])
            again = await world.transaction("new-for-stored-1", people["stored"][1])
            opted = await world.transaction("new-for-opted-0", people["opted_out"][0])
            scopes = rt.scopes(rt.services["benefits-application"], "sms")
            # The worker's loops: how soon a transaction accepted after the restart is sent.
            stop = asyncio.Event()
            worker = asyncio.create_task(run_worker(rt, stop))
            restoring = asyncio.create_task(restored_after(rt, started))
            number = "+12025559999"
            await world.transaction("after-restart", number)
            while not fake.sent_to(number):
                await asyncio.sleep(0.01)
            recovered = time.monotonic() - started
            restored = await restoring
            in_redis = sum([bool(await rt.state.opted_out(rt.person(p), scopes))
                            for p in people["opted_out"]])  # fmt: skip
            stop.set()
            await worker
        finally:
            await client.close()
            await fake.stop()
            server.kill()
    how = "with its append-only file" if args.durable else "empty"
    print(f"{n} people in each state; Redis killed (SIGKILL) and started again {how}\n")
    print(f"{'state: what is looked at':<68} {'before':>6} {'after':>6}")
    for state, what in STATES.items():
        print(f"{what:<68} {before[state]:>6} {after[state]:>6}")
    print(f"queues before the restart: {sizes}")
    print(f"a reply mid-survey after the restart is answered: {late.strip()[:120]!r}")
    same = "its first decision" if repeat["survey_id"] == first else "a second survey"
    print(f"a repeated transaction: {same} ({repeat['status']} {repeat.get('reason', '')})")
    print(f"a new transaction for another who had just answered: {again['status']} "
          f"{again.get('reason', '')}")  # fmt: skip
    print(f"a new transaction for a person who had opted out: {opted['status']} "
          f"{opted.get('reason', '')}")  # fmt: skip
    print(f"seconds from the restart until a transaction accepted after it was sent: "
          f"{recovered:.2f}")  # fmt: skip
    print(f"seconds from the restart until Redis's opt-outs were restored from the store: "
          f"{restored:.2f} ({in_redis} of {n} in Redis again)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--durable", action="store_true")
    asyncio.run(main(parser.parse_args()))
