"""``feedback-bot demo``: the whole bot in one process on embedded defaults, with simulated
people replying by SMS through the real, signed webhook route to a loopback fake Twilio."""

from __future__ import annotations

import asyncio
import json
import random
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from adapters.twilio_fake import FakeMessage, FakeTwilio
from bot import reports
from bot.app import RUNTIME, create_app
from bot.quiet_hours import is_federal_holiday
from bot.runtime import Runtime
from bot.settings import Secret, Settings

FROM_NUMBER = "+12025550100"
SCRIPTS: dict[tuple[str, str], list[list[str]]] = {
    ("a11-v2-thumbs", "en"): [
        ["yes", "1 3", "Quick and easy, thank you"],
        ["👎", "2 3", "The website kept logging me out"],
        ["maybe", "yes", "fast", "skip"],
    ],
    ("a11-v2-thumbs", "es"): [["sí", "1 y 2", "Muy amables"], ["no", "tiempo", "omitir"]],
    ("a11-v2-scale", "en"): [["5/5", "all", "skip"], ["2", "staff", "Nobody called me back"]],
    ("a11-v2-scale", "es"): [["de acuerdo", "2", "omitir"], ["en desacuerdo", "3", "Muy lento"]],
    ("a11-v1", "en"): [["5", "4", "4", "3", "5", "agree", "Great help"]],
    ("a11-v1", "es"): [["5", "4", "de acuerdo", "3", "5", "4", "Muy bien"]],
}
BEHAVIOURS = ["complete"] * 12 + ["stop", "help", "silent", "partial", "spanish_stop"]


@dataclass
class Person:
    address: str  # as Twilio shows it: +1..., or whatsapp:+1...
    script: list[str]
    replies_sent: int = 0
    inbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _plan(rng: random.Random, flow: str, language: str) -> list[str]:
    script = list(rng.choice(SCRIPTS[(flow, language)]))
    behaviour = rng.choice(BEHAVIOURS)
    if behaviour == "stop":
        return [script[0], "STOP"]
    if behaviour == "spanish_stop":
        return ["PARAR"]
    if behaviour == "help":
        return ["HELP", *script]
    if behaviour == "silent":
        return []
    if behaviour == "partial":
        return script[:1]
    return script


def _business_hours_clock() -> Callable[[], datetime]:
    """Now, moved to the next weekday at 11:00 Eastern that is not a federal holiday, so the
    demo's texts fall inside every quiet-hours window whenever it is run."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    while day.weekday() >= 5 or is_federal_holiday(day):
        day += timedelta(days=1)
    base = datetime(day.year, day.month, day.day, 11, tzinfo=ZoneInfo("America/New_York"))
    started = time.monotonic()
    return lambda: base + timedelta(seconds=time.monotonic() - started)


class Progress:
    def __init__(self, total: int, out: TextIO) -> None:
        self.total, self.out, self.last = total, out, -1

    def show(self, done: int) -> None:
        width = 40
        filled = width * done // max(self.total, 1)
        if self.out.isatty():
            bar = "#" * filled + "." * (width - filled)
            self.out.write(f"\r[{bar}] {done}/{self.total} surveys ended")
            self.out.flush()
        elif filled // 4 != self.last:  # a line per tenth when not on a terminal
            self.last = filled // 4
            self.out.write(f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}\n")

    def end(self) -> None:
        if self.out.isatty():
            self.out.write("\n")


async def run_demo(
    count: int = 300, seed: int = 2026, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> dict[str, Any]:
    """Run the demo; print progress and a summary; return the summary."""
    rng = random.Random(seed)
    fake = FakeTwilio(auth_token=secrets.token_hex(16))
    await fake.start()
    sock = _free_socket()
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="feedback-bot-demo-"))
    settings = Settings(
        redis_url=None,
        redis_dir=tmp / "redis",
        data_dir=tmp,
        public_base_url=public,
        api_token=Secret(secrets.token_hex(16)),
        admin_token=Secret(secrets.token_hex(16)),
        pseudonym_key=Secret(secrets.token_hex(16)),
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=Secret(fake.auth_token),
        twilio_from_number=FROM_NUMBER,
        twilio_api_base_url=fake.base_url,
        send_rate=500.0,  # a short code's capacity, so the demo is quick
        send_burst=500.0,
    )
    app = create_app(settings, worker=True, clock=_business_hours_clock())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    rt: Runtime = app[RUNTIME]
    # Minutes of a real survey's life pass in seconds here.
    for sid, service in list(rt.services.items()):
        rt.services[sid] = replace(
            service, delay=timedelta(0), reminder=timedelta(seconds=3),
            expiry=timedelta(seconds=6),
        )  # fmt: skip

    people: dict[str, Person] = {}
    validator = RequestValidator(fake.auth_token)
    sequence = iter(range(10**9))
    tasks: list[asyncio.Task[None]] = []

    async with aiohttp.ClientSession() as http:

        async def reply(person: Person, body: str) -> None:
            params = {
                "MessageSid": f"SM{next(sequence):032d}",
                "AccountSid": fake.account_sid,
                "From": person.address,
                "To": FROM_NUMBER,
                "Body": body,
            }
            url = public + "/webhooks/twilio/messages"
            headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
            async with http.post(url, data=params, headers=headers) as response:
                twiml = await response.text()
            for text in re.findall(r"<Message>(.*?)</Message>", twiml, re.S):
                person.inbox.put_nowait(unescape(text))

        async def live(person: Person) -> None:
            while True:
                await person.inbox.get()
                if person.replies_sent < len(person.script):
                    await asyncio.sleep(rng.uniform(0.05, 0.5))
                    person.replies_sent += 1
                    await reply(person, person.script[person.replies_sent - 1])

        def on_send(message: FakeMessage) -> None:
            person = people.get(message.to.removeprefix("whatsapp:"))
            if person is not None:
                person.inbox.put_nowait(message.body)
            status = "undelivered" if message.to.endswith("99") else "delivered"
            tasks.append(asyncio.create_task(_report(fake, http, message, status)))

        fake.on_send = on_send
        services = [
            ("benefits-application", "a11-v2-thumbs", "sms"),
            ("benefits-application", "a11-v2-thumbs", "whatsapp"),
            ("permit-renewal", "a11-v2-scale", "sms"),
            ("helpdesk-call", "a11-v1", "sms"),
        ]
        transactions = []
        for i in range(count):
            number = f"+1202555{1000 + i:04d}"
            service_id, flow, channel = rng.choice(services)
            language = "es" if rng.random() < 0.3 else "en"
            to = f"whatsapp:{number}" if channel == "whatsapp" else number
            people[number] = Person(to, _plan(rng, flow, language))
            tasks.append(asyncio.create_task(live(people[number])))
            if i % 50 == 7:
                fake.failures[number] = (400, 21211)  # a landline: never deliverable
            transactions.append(
                {"transaction_id": f"demo-{i}", "service": service_id, "channel": channel,
                 "to": to, "language": language}
            )  # fmt: skip
        # a few repeats: idempotent, and a second survey for the same person is suppressed
        transactions += [dict(transactions[0]), {**transactions[1], "transaction_id": "demo-x"}]

        headers = {"Authorization": f"Bearer {settings.api_token.reveal()}"}
        decisions: Counter[str] = Counter()
        for start in range(0, len(transactions), 250):
            batch = {"transactions": transactions[start : start + 250]}
            async with http.post(public + "/v1/transactions", json=batch, headers=headers) as r:
                for result in (await r.json())["results"]:
                    scheduled = result["status"] == "scheduled"
                    decisions["scheduled" if scheduled else result["reason"]] += 1

        progress = Progress(count + 1, err)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while True:
            ended = await rt.state.ended_count()
            progress.show(min(ended, count + 1))
            if ended >= count + 1 or loop.time() > deadline:
                break
            await asyncio.sleep(0.2)
        progress.end()
        assert rt.outbox is not None and rt.store is not None
        while loop.time() < deadline:  # let the outbox bring every record to the store
            status = await rt.outbox.status()
            if status["waiting"] + status["in_flight"] + status["retrying"] == 0:
                break
            await asyncio.sleep(0.1)
        records = await rt.store.responses(limit=100_000)
        fiscal_year, quarter = reports.fiscal_quarter(rt.clock(), "America/New_York")
        report = reports.quarterly_report(records, rt.services, rt.flows, fiscal_year, quarter)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    await runner.cleanup()
    await fake.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # the embedded Redis and SQLite files
    summary = _summary(records, decisions, fake)
    _print_summary(summary, out)
    out.write("\n" + reports.as_table(report))
    summary["report"] = report
    return summary


async def _report(
    fake: FakeTwilio, http: aiohttp.ClientSession, message: FakeMessage, status: str
) -> None:
    await asyncio.sleep(0.05)
    await fake.send_status(http, message, "sent")
    await fake.send_status(http, message, status)


def _summary(
    records: list[dict[str, Any]], decisions: Counter[str], fake: FakeTwilio
) -> dict[str, Any]:
    dispositions = Counter(r["disposition"] for r in records)
    return {
        "transactions": sum(decisions.values()),
        "decisions": dict(decisions),
        "invited": sum(1 for r in records if r["timestamps"]["invited"]),
        "delivered": sum(1 for r in records if r["timestamps"]["delivered"]),
        "dispositions": dict(dispositions),
        "sms_sent": len(fake.messages),
    }


def _print_summary(summary: dict[str, Any], out: TextIO) -> None:
    d = summary["dispositions"]
    rows = [
        ("transactions reported", summary["transactions"]),
        ("invitations sent", summary["invited"]),
        ("invitations delivered", summary["delivered"]),
        ("completed", d.get("completed", 0)),
        ("partial", d.get("partial", 0)),
        ("expired (no answer)", d.get("expired", 0)),
        ("opted out", d.get("opted_out", 0)),
        ("undeliverable", d.get("undeliverable", 0)),
        ("suppressed", d.get("suppressed", 0)),
        ("messages sent through Twilio", summary["sms_sent"]),
    ]
    out.write("\nDemo summary\n")
    for label, value in rows:
        out.write(f"  {label:<30} {value:>6}\n")
    out.write(f"  decisions: {json.dumps(summary['decisions'], sort_keys=True)}\n")
    out.flush()
