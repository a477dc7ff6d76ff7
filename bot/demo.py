"""``feedback-bot demo``: the whole bot in one process on embedded defaults, with simulated
people replying by SMS through the real, signed webhook route to a loopback fake Twilio."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import secrets
import shutil
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from adapters.testing.twilio_fake import FakeMessage, FakeTwilio
from bot.core import reports
from bot.core.quiet_hours import is_federal_holiday
from bot.core.response import is_respondent
from bot.core.secret import Secret
from bot.core.sinks import ResponseRecord
from bot.service.runtime import Runtime
from bot.settings import DEMO_MARKER, ConfigError, Settings
from bot.web.app import RUNTIME, create_app

FROM_NUMBER = "+12025550100"
# What the demo's people write: positive, negative and neutral comments in English and
# Spanish touching every default theme (bot/core/themes_default.py), so that the comments
# page, the themes and the sentiment figures have something believable to show.
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "positive": (
            "Short wait, I was done in 10 minutes",
            "The website was easy to use and the upload worked the first time",
            "Verifying my identity with Login.gov took two minutes",
            "The call center called back the same day, very helpful",
            "The caseworker was patient and kind",
            "The form was short and the letter explained everything",
            "They kept me updated on my status the whole time",
            "My payment arrived by direct deposit right on time",
            "Easy to book an appointment online for the next morning",
            "They had an interpreter for my mother, thank you",
            "Quick and easy, thank you",
            "Great help from the agent on the phone",
        ),
        "negative": (
            "I waited 3 hours in line and nobody helped",
            "The website kept logging me out",
            "ID.me could not verify my face after five tries",
            "Nobody called me back and the call dropped twice",
            "The clerk was rude and did not listen",
            "They lost my documents and I had to mail them again",
            "Nobody can tell me the status of my application",
            "My refund is still missing after two months",
            "They cancelled my appointment without telling me",
            "No interpreter was available and the forms are English only",
            "Too slow, I gave up",
            "Confusing instructions, I had to ask three times",
        ),
        "neutral": (
            "I applied online and got a confirmation number",
            "I came in for my appointment at 9",
            "I called about my benefits",
            "I needed to update my mailing address",
            "It was fine",
            "First time using this service",
            "I uploaded a pay stub for my renewal",
            "The office moved to a new building",
            "My case worker changed this month",
            "I asked for the form in Spanish",
            "Average experience",
            "Renewed my permit",
        ),
    },
    "es": {
        "positive": (
            "Muy amables, gracias",
            "La página web fue fácil y subí mis documentos sin problema",
            "Verificar mi identidad con Login.gov fue rápido",
            "Me llamaron el mismo día, excelente servicio",
            "La trabajadora social me explicó todo con paciencia",
            "Me avisaron de cada paso, muy claro",
            "El depósito llegó a tiempo, gracias",
            "Conseguí cita para el día siguiente",
            "Había intérprete y todo fue en español",
            "Esperé solo 10 minutos",
            "Todo muy bien, rápido y fácil",
        ),
        "negative": (
            "Esperé 3 horas en la fila",
            "La página se cae cada vez que entro a mi cuenta",
            "No pude verificar mi identidad, la app no reconoce la cara",
            "Nadie contesta el teléfono",
            "La señora de la ventanilla fue muy grosera",
            "Perdieron mis papeles otra vez",
            "Nadie me dice el estatus de mi solicitud",
            "Todavía no llega mi reembolso",
            "Cancelaron mi cita sin avisar",
            "No había nadie que hablara español",
            "Muy lento",
            "Muy confuso, no entendí nada",
        ),
        "neutral": (
            "Fui a la oficina para renovar mi permiso",
            "Llamé para preguntar por mis beneficios",
            "Subí el comprobante de domicilio",
            "Necesitaba actualizar mi dirección",
            "Es la primera vez que uso este servicio",
            "Ni bien ni mal",
            "Hice el trámite en línea",
            "Pedí la forma en español",
        ),
    },
}
# How each answers the trust question, positively or not, by kind of flow and language.
TRUST_REPLIES: dict[tuple[str, str], dict[bool, tuple[str, ...]]] = {
    ("thumbs", "en"): {True: ("yes", "👍", "Yes"), False: ("no", "👎", "No")},
    ("thumbs", "es"): {True: ("sí", "👍", "si"), False: ("no", "👎")},
    ("scale", "en"): {True: ("5", "4", "5/5"), False: ("1", "2", "3")},
    ("scale", "es"): {True: ("5", "4", "de acuerdo"), False: ("en desacuerdo", "2", "1")},
}
SKIP = {"en": "skip", "es": "omitir"}
UNREADABLE = {"en": "maybe", "es": "mmm"}  # asked again: the effort figures count reprompts
# Believable differences: the share of people whose trust answer is positive, by service,
# moved by language, channel and region (the demo catalog's reporting dimension).
TRUST = {"benefits-application": 0.78, "permit-renewal": 0.5, "helpdesk-call": 0.66}
SHIFT = {"es": -0.14, "whatsapp": 0.08, "South": -0.16, "West": 0.08, "Northeast": 0.04}
# The drivers people choose (by option number), by service and side of the trust answer.
DRIVERS = {
    ("benefits-application", True): (1, 2, 2, 5, 3),
    ("benefits-application", False): (3, 3, 4, 4, 1),
    ("permit-renewal", True): (5, 5, 1, 3),
    ("permit-renewal", False): (3, 3, 2, 4, 4),
}
REGIONS = ("Northeast", "South", "Midwest", "West")
BEHAVIOURS = ["complete"] * 12 + ["stop", "help", "silent", "partial", "spanish_stop"]
SPEED = 120  # the demo's clock: a real second is two minutes, so surveys take minutes


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


def _answers(rng: random.Random, service: str, flow: str, language: str,
             groups: tuple[str, ...]) -> list[str]:  # fmt: skip
    """One person's answers to a whole survey: a trust answer that leans as their service and
    groups do, drivers on its side, and a comment in its tone (or none)."""
    chance = TRUST[service] + sum(SHIFT.get(g, 0.0) for g in groups)
    positive = rng.random() < chance
    tone = rng.choice(["positive"] * 4 + ["neutral"]) if positive else rng.choice(
        ["negative"] * 4 + ["neutral"]
    )  # fmt: skip
    comment = rng.choice(COMMENTS[language][tone]) if rng.random() < 0.85 else SKIP[language]
    if flow == "a11-v1":  # seven five-point ratings (trust is the second), then a comment
        low, high = (3, 5) if positive else (1, 3)
        ratings = [str(rng.randint(low, high)) for _ in range(7)]
        ratings[1] = str(rng.randint(4, 5) if positive else rng.randint(1, 3))
        return [*ratings, comment]
    kind = "thumbs" if flow == "a11-v2-thumbs" else "scale"
    trust = [rng.choice(TRUST_REPLIES[(kind, language)][positive])]
    if kind == "thumbs" and rng.random() < 0.15:
        trust.insert(0, UNREADABLE[language])
    chosen = sorted({rng.choice(DRIVERS[(service, positive)]) for _ in range(rng.randint(1, 2))})
    return [*trust, " ".join(map(str, chosen)), comment]


def _plan(rng: random.Random, script: list[str]) -> list[str]:
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


def _business_hours_clock(today: date | None = None) -> Callable[[], datetime]:
    """The demo's day: the last weekday before ``today`` (UTC) that is not a federal
    holiday, from 11:00 Eastern, running ``SPEED`` times as fast as real time. Its texts
    fall inside every quiet-hours window whenever it is run, a survey's minutes pass in
    seconds, and no record is dated after the real now (the demo stops within 90 seconds,
    three hours of its day, long before today)."""
    day = (today or datetime.now(UTC).date()) - timedelta(days=1)
    while day.weekday() >= 5 or is_federal_holiday(day):
        day -= timedelta(days=1)
    base = datetime(day.year, day.month, day.day, 11, tzinfo=ZoneInfo("America/New_York"))
    started = time.monotonic()
    return lambda: base + timedelta(seconds=SPEED * (time.monotonic() - started))


class Progress(logging.Handler):
    """The progress bar, and the log lines that arrive meanwhile written above it.

    The demo's scripted landlines make Twilio answer 21211; the worker's warning about each is
    counted here as a simulated failure for the summary rather than printed in the bar's way.
    """

    def __init__(self, total: int, out: TextIO) -> None:
        super().__init__(logging.WARNING)
        self.total, self.out, self.last, self.done = total, out, -1, 0
        self.simulated = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "send failed" in message and "code=21211" in message:
            self.simulated += 1
            return
        if self.out.isatty():
            self.out.write("\r\x1b[K")  # clear the bar's line; it is drawn again below
        self.out.write(f"{record.levelname} {record.name}: {message}\n")
        self.show(self.done)

    def show(self, done: int) -> None:
        self.done = done
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


AREA_CODES = ("202", "301", "703", "571", "410", "240", "443", "804", "757", "540")
# The demo's own files in its data folder; the settings file also marks the folder as the
# demo's (DEMO_MARKER), so that the demo never writes into, or empties, a store it did not make.
DEMO_FILES = (DEMO_MARKER, "runs", "redis", "measures.sqlite3", "measures.sqlite3-wal",
              "measures.sqlite3-shm", "measures.sqlite3.migrate-lock")  # fmt: skip
CONSOLE_PORT = 8080


def _store_has_records(store: Path) -> bool:
    """Whether a SQLite measures store holds any response (a table it lacks holds none)."""
    with closing(sqlite3.connect(store.resolve().as_uri() + "?mode=ro", uri=True)) as db:
        try:
            return db.execute("SELECT 1 FROM responses LIMIT 1").fetchone() is not None
        except sqlite3.OperationalError:  # no responses table yet
            return False


def demo_folder(env: Mapping[str, str]) -> Path:
    """Where the demo keeps its data: the data folder every other command reads by default
    (``DATA_DIR``, default ``var/``), so that ``feedback-bot report`` shows its quarter.
    ConfigError when ``DATABASE_URL`` or ``REDIS_URL`` is set: those name a deployment's
    stores, which the demo never writes into (and which the other commands would read)."""
    named = [name for name in ("DATABASE_URL", "REDIS_URL") if env.get(name)]
    if named:
        raise ConfigError(
            f"the demo runs on its embedded Redis and SQLite store and does not write into "
            f"{' or '.join(named)} (a deployment's); unset {' and '.join(named)} to run it"
        )
    return Settings.from_env(env).data_dir


def _prepare(data: Path, fresh: bool) -> tuple[int, dict[str, str]]:
    """The demo's folder (its own files removed with ``fresh``): how many runs it has seen,
    and its settings (kept, so that the same number is the same person in every run and the
    console's tokens stay). ConfigError when the folder holds a store that is not the demo's."""
    marker, store = data / DEMO_MARKER, data / "measures.sqlite3"
    if not marker.is_file() and store.is_file() and _store_has_records(store):
        raise ConfigError(
            f"{data}/ holds a measures store that is not the demo's; the demo does not mix "
            "its records into it: set DATA_DIR to another folder for the demo"
        )
    if fresh:
        for name in DEMO_FILES:
            path = data / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    if not marker.is_file():
        marker.touch(mode=0o600)  # it holds the console's tokens: readable by its owner only
        marker.write_text(_env_file(data))
    env = dict(line.split("=", 1) for line in marker.read_text().splitlines() if "=" in line)
    runs_file = data / "runs"
    runs = int(runs_file.read_text()) if runs_file.exists() else 0
    runs_file.write_text(str(runs + 1))
    return runs, env


def _env_file(data: Path) -> str:
    """The demo's settings, as an env file the console can be started with (the README's
    one-machine settings, with this folder and fresh secrets)."""
    return "".join(f"{k}={v}\n" for k, v in {
        "DATA_DIR": data, "REDIS_DIR": data / "redis",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{CONSOLE_PORT}", "PORT": CONSOLE_PORT,
        "API_TOKEN": secrets.token_hex(16), "ADMIN_TOKEN": secrets.token_hex(16),
        "PSEUDONYM_KEY": secrets.token_hex(16),
        "TWILIO_API_BASE_URL": "http://127.0.0.1:8089",  # feedback-bot twilio-fake
        "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16), "TWILIO_FROM_NUMBER": FROM_NUMBER,
    }.items())  # fmt: skip


async def run_demo(
    count: int = 300,
    seed: int = 2026,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    *,
    data: Path | None = None,
    fresh: bool = False,
) -> dict[str, Any]:
    """Run the demo; print progress and a summary; return the summary. Its data stays in
    ``data`` (default: the data folder of the process's environment, ``demo_folder``), which
    ``feedback-bot report`` and the console read."""
    folder = demo_folder(os.environ) if data is None else data
    rng = random.Random(seed)
    runs, env = await asyncio.to_thread(_prepare, folder, fresh)
    out.write(f"Demo data in {folder}/ (an embedded Redis and a SQLite measures store): run "
              f"{runs + 1}; --fresh starts over.\n")  # fmt: skip
    area = AREA_CODES[runs % len(AREA_CODES)]  # each run its own people (for ten runs)
    fake = FakeTwilio(account_sid=env["TWILIO_ACCOUNT_SID"], auth_token=env["TWILIO_AUTH_TOKEN"])
    await fake.start()
    sock = _free_socket()
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        redis_url=None,
        redis_dir=Path(env["REDIS_DIR"]),
        data_dir=folder,
        public_base_url=public,
        api_token=Secret(env["API_TOKEN"]),
        admin_token=Secret(env["ADMIN_TOKEN"]),
        pseudonym_key=Secret(env["PSEUDONYM_KEY"]),
        twilio_account_sid=fake.account_sid,
        twilio_auth_token=Secret(fake.auth_token),
        twilio_from_number=FROM_NUMBER,
        twilio_api_base_url=fake.base_url,
        send_rate=500.0,  # a short code's capacity, so the demo is quick
        send_burst=500.0,
    )
    progress = Progress(count + 1, err)
    root = logging.getLogger()
    handlers, root.handlers = root.handlers, [progress]  # log lines go above the bar
    # Warnings go above the bar; the demo's own start-up notices (embedded Redis, SQLite) are
    # said in the line above instead.
    quiet = [logging.getLogger(n) for n in ("bot", "bot.app", "adapters")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR if logger.name in ("bot", "bot.app") else logging.WARNING)
    try:
        summary = await _run(count, rng, runs, area, fake, sock, public, settings, progress, out)
    finally:
        root.handlers = handlers
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
        await fake.stop()
    fiscal_year, quarter = summary["report"]["fiscal_year"], summary["report"]["quarter"]
    out.write(_closing(folder, fiscal_year, quarter))
    return summary


def _closing(data: Path, fiscal_year: int, quarter: int) -> str:
    """Where the demo's data is, and the commands that show it again."""
    # The other commands read the default data folder unless told otherwise.
    prefix = "" if data == Settings().data_dir else f"DATA_DIR={data} "
    env = data / DEMO_MARKER
    return (
        f"\nThe demo's data stays in {data}/ (the SQLite measures store and the embedded "
        f"Redis; {env} holds its settings and tokens).\n"
        f"  Its report again:  {prefix}feedback-bot report --fiscal-year {fiscal_year} "
        f"--quarter {quarter}\n"
        f"  Its console:       set -a; . {env}; set +a; feedback-bot web\n"
        f"                     then http://127.0.0.1:{CONSOLE_PORT}/admin, signing in with "
        f"the ADMIN_TOKEN in {env}\n"
    )


async def _run(
    count: int, rng: random.Random, runs: int, area: str, fake: FakeTwilio,
    sock: socket.socket, public: str, settings: Settings, progress: Progress, out: TextIO,
) -> dict[str, Any]:  # fmt: skip
    app = create_app(settings, worker=True, clock=_business_hours_clock())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    rt: Runtime = app[RUNTIME]
    ended_before = await rt.state.ended_count()
    # Days of a real survey's life pass in minutes of the demo's clock (seconds of real time):
    # a reminder after 5 minutes, the end after 16.
    for sid, service in list(rt.services.items()):
        rt.services[sid] = replace(
            service, delay=timedelta(0), reminder=timedelta(minutes=5),
            expiry=timedelta(minutes=16),
        )  # fmt: skip

    people: dict[str, Person] = {}
    validator = RequestValidator(fake.auth_token)
    sequence = iter(range(10**9))
    tasks: list[asyncio.Task[None]] = []

    async with aiohttp.ClientSession() as http:

        async def reply(person: Person, body: str) -> None:
            params = {
                "MessageSid": f"SM{runs:08d}{next(sequence):024d}",
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

        pace = random.Random(rng.random())  # the delays: apart from the people's plans

        async def live(person: Person) -> None:
            while True:
                await person.inbox.get()
                if person.replies_sent < len(person.script):
                    # the first answer within a couple of the clock's minutes (before the
                    # reminder), the next ones in under one
                    first = person.replies_sent == 0
                    minutes = pace.uniform(0.3, 2.4) if first else pace.uniform(0.15, 0.8)
                    await asyncio.sleep(minutes * 60 / SPEED)
                    person.replies_sent += 1
                    await reply(person, person.script[person.replies_sent - 1])

        undelivered: list[str] = []
        phones_off: set[str] = set()  # the first invitation to each is reported undelivered

        def on_send(message: FakeMessage) -> None:
            person = people.get(message.to.removeprefix("whatsapp:"))
            if person is not None:
                person.inbox.put_nowait(message.body)
            status = "delivered"
            if message.to in phones_off and message.to not in undelivered:
                status = "undelivered"  # a phone that is off: the carrier gives up
                undelivered.append(message.to)
            tasks.append(asyncio.create_task(_report(fake, http, message, status)))

        fake.on_send = on_send
        services = [
            ("benefits-application", "a11-v2-thumbs", "sms"),
            ("benefits-application", "a11-v2-thumbs", "whatsapp"),
            ("permit-renewal", "a11-v2-scale", "sms"),
            ("helpdesk-call", "a11-v1", "sms"),
        ]
        transactions = []
        landlines = 0
        for i in range(count):
            number = f"+1{area}555{1000 + i:04d}"
            service_id, flow, channel = rng.choice(services)
            language = "es" if rng.random() < 0.3 else "en"
            region = rng.choice(REGIONS)
            groups = (language, channel) + ((region,) if service_id == "benefits-application"
                                            else ())  # fmt: skip
            to = f"whatsapp:{number}" if channel == "whatsapp" else number
            script = _answers(rng, service_id, flow, language, groups)
            people[number] = Person(to, _plan(rng, script))
            tasks.append(asyncio.create_task(live(people[number])))
            if i % 50 == 7:
                fake.failures[number] = (400, 21211)  # a landline: never deliverable
                landlines += 1
            elif i % 100 == 31:
                phones_off.add(to)
            transaction: dict[str, Any] = {
                "transaction_id": f"demo-{runs}-{i}", "service": service_id, "channel": channel,
                "to": to, "language": language,
            }  # fmt: skip
            if service_id == "benefits-application":  # its catalog reports by region
                transaction["attributes"] = {"region": region}
            elif service_id == "helpdesk-call":  # a call is helped by staff: q7 is asked
                transaction["attributes"] = {"staff_assisted": True}
            transactions.append(transaction)
        # a few repeats: idempotent, and a second survey for the same person is suppressed
        transactions += [dict(transactions[0]),
                         {**transactions[1], "transaction_id": f"demo-{runs}-x"}]  # fmt: skip

        headers = {"Authorization": f"Bearer {settings.api_token.reveal()}"}
        decisions: Counter[str] = Counter()
        surveys: set[str] = set()
        for start in range(0, len(transactions), 250):
            batch = {"transactions": transactions[start : start + 250]}
            async with http.post(public + "/v1/transactions", json=batch, headers=headers) as r:
                for result in (await r.json())["results"]:
                    if result["survey_id"] in surveys:
                        decisions["repeat"] += 1
                        continue
                    surveys.add(result["survey_id"])
                    scheduled = result["status"] == "scheduled"
                    decisions["scheduled" if scheduled else result["reason"]] += 1

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while True:
            ended = await rt.state.ended_count() - ended_before
            progress.show(min(ended, len(surveys)))
            if ended >= len(surveys) or loop.time() > deadline:
                break
            await asyncio.sleep(0.2)
        progress.end()
        assert rt.outbox is not None and rt.store is not None
        while loop.time() < deadline:  # let the outbox bring every record to the store
            status = await rt.outbox.status()
            if status["waiting"] + status["in_flight"] + status["retrying"] == 0:
                break
            await asyncio.sleep(0.1)
        everything = await rt.store.responses(limit=1_000_000)
        records = [r for r in everything if r["survey_id"] in surveys]
        fiscal_year, quarter = reports.fiscal_quarter(rt.clock(), "America/New_York")
        report = await reports.build(rt.store, rt.services, rt.flows, fiscal_year, quarter,
                                     min_cell=settings.min_cell)  # fmt: skip
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    await runner.cleanup()
    summary = _summary(records, decisions, fake, landlines, len(undelivered), progress.simulated)
    _print_summary(summary, out)
    out.write("\n" + reports.as_table(report))
    if runs:
        out.write(f"(the report holds this quarter's surveys of all {runs + 1} demo runs)\n")
    summary["report"] = report
    summary["records"] = records  # this run's, for a look at what the demo's people said
    return summary


async def _report(
    fake: FakeTwilio, http: aiohttp.ClientSession, message: FakeMessage, status: str
) -> None:
    await asyncio.sleep(0.05)
    await fake.send_status(http, message, "sent")
    await fake.send_status(http, message, status)


def _summary(
    records: list[ResponseRecord], decisions: Counter[str], fake: FakeTwilio, landlines: int,
    undelivered: int, simulated: int,
) -> dict[str, Any]:  # fmt: skip
    dispositions = Counter(r["disposition"] for r in records)
    respondents = [r for r in records if is_respondent(r)]
    v1 = sum(1 for r in respondents if "q2" in r["a11"])
    invited = sum(1 for r in records if r["timestamps"]["invited"])
    return {
        "transactions": sum(decisions.values()),
        "decisions": dict(decisions),
        "surveys": len(records),
        "invited": invited,
        "delivered": sum(1 for r in records if r["timestamps"]["delivered"]),
        "landlines": landlines,
        "undelivered": undelivered,
        "simulated_failures": simulated,
        "dispositions": dict(dispositions),
        "respondents": len(respondents),
        "respondents_opted_out": sum(1 for r in respondents if r["disposition"] == "opted_out"),
        "respondents_v1": v1,
        "sms_sent": len(fake.messages),
        "reminders": len(fake.messages) - invited,
    }


def _print_summary(summary: dict[str, Any], out: TextIO) -> None:
    """The summary's lines: each indented line counts part of the line it is under, and the
    lines under one line add up to it. The surveys' endings are the record's dispositions,
    each said with the lines above it that it comes from."""
    d, decisions = summary["dispositions"], summary["decisions"]
    suppressed = {k: v for k, v in decisions.items() if k not in ("scheduled", "repeat")}
    refused, undelivered = summary["landlines"], summary["undelivered"]
    why = {
        "undeliverable": f"the {refused} refused and the {undelivered} not delivered above",
        "suppressed": f"the {sum(suppressed.values())} suppressed at once above",
        "opted_out": "said STOP (or PARAR)",
        "expired": "no answer, or stopped answering, before the survey's end",
        "partial": "answered some questions, not all",
    }
    order = ("completed", "partial", "expired", "opted_out", "undeliverable", "suppressed")
    ended = sorted(d.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    rows = [
        ("transactions reported", summary["transactions"], ""),
        ("  repeats (the first decision again)", decisions.get("repeat", 0), ""),
        ("  surveys", summary["surveys"], ""),
        ("    suppressed at once", sum(suppressed.values()),
         ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(suppressed.items()))),
        ("    scheduled", decisions.get("scheduled", 0), ""),
        ("      refused by Twilio", refused, "a landline (simulated error 21211)"),
        ("      invitations sent", summary["invited"], ""),
        ("        delivered", summary["delivered"], "Twilio's status callback said delivered"),
        ("        not delivered", undelivered,
         "its callback said undelivered (a simulated phone that is off)"),
        ("how the surveys ended", sum(d.values()), "one ending per survey"),
        *((f"  {k.replace('_', ' ')}", v, why.get(k, "")) for k, v in ended),
        ("responses (trust item answered)", summary["respondents"],
         f"{summary['respondents_opted_out']} of them then opted out; "
         f"{summary['respondents_v1']} on the A-11 v1 help-desk survey, not in the v2 CSV"),
        ("messages sent through Twilio", summary["sms_sent"],
         f"{summary['invited']} invitations and {summary['reminders']} reminders; answers "
         "went back on the webhook"),
    ]  # fmt: skip
    out.write("\nDemo summary (an indented line counts part of the line above it)\n")
    for label, value, note in rows:
        out.write(f"  {label:<38} {value:>6}" + (f"   {note}" if note else "") + "\n")
    if summary["simulated_failures"]:
        out.write(f"  ({summary['simulated_failures']} simulated Twilio failures, as scripted;"
                  " any other warning is shown above)\n")  # fmt: skip
    out.flush()
