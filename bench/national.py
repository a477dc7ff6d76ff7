"""Every budget of national volume (issue #28), measured on one data set: a million responses
in one quarter in PostgreSQL (two services, eight regions, English and Spanish).

    python3 bench/national.py [--responses 1000000] [--rounds 9] [--reuse]

Builds the data set through the bot's own commands: ``bench/dataset.py`` writes the records
as JSON lines, ``feedback-bot import`` loads them into a fresh database (BENCH_DATABASE_URL,
default postgresql://postgres@127.0.0.1:5432/national_bench), ``feedback-bot export`` writes
the quarter back out. Then, with the real app (an SMS channel, the console, the API) serving
on loopback in this process, it times each budget: the console's overview and a service page
(signed in as an admin), ``GET /v1/reports/a11`` as JSON, comment search for a common word,
the per-response CSV of every row (``feedback-bot report --format csv``, a process of its own
whose peak RSS is read from the kernel when it ends; and the API's streamed download of it),
and ``feedback-bot publish``. While each runs, people answer their surveys by SMS (signed
Twilio webhooks, ``--sms-rate`` a second) and a 5 ms ticker watches the event loop: the
webhooks' p99 and the longest stall are what a server doing that work makes an SMS wait.
It ends with a table of each figure against its budget. ``--reuse`` keeps the loaded
database. Needs Redis (BENCH_REDIS_URL, default db 12, flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import filecmp
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from adapters.sql.store import SqlStore, database_url
from adapters.testing.twilio_fake import FakeTwilio
from adapters.twilio.channel import TwilioChannel
from bench import dataset
from bench.serving import fresh_database
from bot.core.quiet_hours import daytime_zone
from bot.core.secret import Secret
from bot.service import delivery, intake
from bot.settings import Settings
from bot.web.app import create_app
from bot.wiring import open_runtime

PG = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/national_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PUBLIC = "http://127.0.0.1"  # what webhooks are signed over (the app's PUBLIC_BASE_URL)
TOKEN = "bench-auth-token"
QUARTER = f"fiscal_year={dataset.FISCAL[0]}&quarter={dataset.FISCAL[1]}"
WHEN = ["--fiscal-year", str(dataset.FISCAL[0]), "--quarter", str(dataset.FISCAL[1])]
ADMIN = {"Authorization": "Bearer admin"}
PEOPLE = 3000  # people with a survey open, who answer by SMS while the budgets are measured
MB = 1024 * 1024


@dataclass
class Row:
    """One line of the final table."""

    name: str
    figure: str
    budget: str
    met: bool | None  # None: no budget (shown for what it says)


@dataclass
class Sms:
    """Signed SMS replies sent at a steady rate, and their latencies per phase."""

    rate: float
    people: int
    phase: str = "warming up"
    latencies: dict[str, list[float]] = field(default_factory=dict)
    stalls: dict[str, float] = field(default_factory=dict)
    collections: dict[str, float] = field(default_factory=dict)  # the longest GC pause
    failures: int = 0
    _collecting: float = 0.0

    def watch_collector(self, phase: str, info: dict[str, Any]) -> None:
        """``gc.callbacks``: the longest collection per phase (a stall the code did not make)."""
        if phase == "start":
            self._collecting = time.perf_counter()
        else:
            took = 1000 * (time.perf_counter() - self._collecting)
            self.collections[self.phase] = max(self.collections.get(self.phase, 0.0), took)

    _next: int = 0

    def body(self) -> tuple[str, str, str]:
        """Who answers next, what, and the message's id: people in turn, each three steps."""
        n = self._next
        self._next += 1
        person, step = n % self.people, (n // self.people) % 3
        return number(person), ("yes", "1 3", "It was quick, thanks")[step], f"SM{n:032d}"

    async def send(self, http: aiohttp.ClientSession, base: str) -> None:
        url = PUBLIC + "/webhooks/twilio/messages"
        validator = RequestValidator(TOKEN)
        pending: set[asyncio.Task[None]] = set()

        async def one() -> None:
            sender, text, sid = self.body()
            params = {"MessageSid": sid, "From": sender, "To": "+12025550100", "Body": text}
            headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
            phase = self.phase
            t0 = time.perf_counter()
            async with http.post(base + "/webhooks/twilio/messages", data=params,
                                 headers=headers) as response:  # fmt: skip
                await response.read()
                if response.status != 200:
                    self.failures += 1
            self.latencies.setdefault(phase, []).append(1000 * (time.perf_counter() - t0))

        while True:  # on a schedule, not one after another: a slow answer does not slow the rate
            task = asyncio.create_task(one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            await asyncio.sleep(1 / self.rate)

    async def tick(self) -> None:
        """The longest the event loop went without running a 5 ms ticker, per phase."""
        while True:
            started, phase = time.perf_counter(), self.phase  # the phase the stall began in
            await asyncio.sleep(0.005)
            late = 1000 * (time.perf_counter() - started - 0.005)
            self.stalls[phase] = max(self.stalls.get(phase, 0.0), late)


def count_lines(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def number(i: int) -> str:
    return f"+1202555{i:04d}"


def settings_for(fake_url: str, data: Path) -> Settings:
    return Settings(
        redis_url=REDIS, database_url=PG, data_dir=data, public_base_url=PUBLIC,
        api_token=Secret("api"), admin_token=Secret("admin"), pseudonym_key=Secret("key"),
        twilio_account_sid=FakeTwilio.account_sid, twilio_auth_token=Secret(TOKEN),
        twilio_from_number="+12025550100", twilio_api_base_url=fake_url,
        send_rate=10_000.0, send_burst=10_000.0,
        # A page over budget is timed to its end, not cut at the usual 10 s deadline.
        request_deadline=120.0,
    )  # fmt: skip


def cli(args: list[str], data: str, out: Path | None = None) -> tuple[float, int, str]:
    """Run ``feedback-bot`` in a process of its own: seconds, its peak RSS in bytes, and what
    it said (standard output to ``out`` if given, so a file of any size never passes through
    this process). The peak is the kernel's high-water mark of the process's own memory
    (``VmHWM`` in /proc), read every 5 ms until it ends: ``wait4``'s ``ru_maxrss`` would not
    do, as a child started by vfork counts the parent's memory (this process's) as its own."""
    env = {**os.environ, "DATABASE_URL": PG, "DATA_DIR": data, "REDIS_URL": REDIS}
    with contextlib.ExitStack() as files:
        stdout = files.enter_context(out.open("wb")) if out else subprocess.PIPE
        said = files.enter_context(tempfile.TemporaryFile())
        t0 = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], env=env,
                                   stdout=stdout, stderr=said)  # fmt: skip
        peak = 0
        while process.poll() is None:
            with contextlib.suppress(OSError, ValueError, IndexError):
                status = Path(f"/proc/{process.pid}/status").read_text()
                kb = status.split("VmHWM:")[1].split()[0]
                peak = max(peak, int(kb) * 1024)
            time.sleep(0.005)
        took = time.perf_counter() - t0
        told = b""
        if out is None:
            assert process.stdout is not None
            told = process.stdout.read()
        said.seek(0)
        told += said.read()
    if process.returncode != 0:
        raise SystemExit(f"feedback-bot {args[0]} failed: {told.decode()[-2000:]}")
    return took, peak, told.decode().strip()


async def vacuum() -> None:
    # As autovacuum does soon after a load: planner statistics and the visibility map.
    conn = await asyncpg.connect(PG)
    for table in ("responses", "comments"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    await conn.close()


async def open_surveys(fake: FakeTwilio, data: Path) -> None:
    """A survey open for each of ``PEOPLE`` people (intake and delivery, as the worker does)."""
    settings = settings_for(fake.base_url, data)
    zone = daytime_zone(datetime.now(UTC))
    async with open_runtime(settings, channels=[TwilioChannel(settings)]) as rt:
        for start in range(0, PEOPLE, 1000):
            await intake.accept(rt, [
                {"transaction_id": f"sms-{i}", "service": "benefits-application",
                 "channel": "sms", "to": number(i), "timezone": zone}
                for i in range(start, min(PEOPLE, start + 1000))
            ])  # fmt: skip
        while len(fake.messages) < PEOPLE:
            await delivery.deliver_due(rt, limit=500)


@contextlib.asynccontextmanager
async def serving(data: Path) -> AsyncIterator[tuple[TestClient[Any, Any], str, FakeTwilio]]:
    """The real app (SMS, console, API) on the loaded store, on loopback in this process; its
    client and an admin's console cookie."""
    redis = Redis.from_url(REDIS)
    await redis.flushdb()
    await redis.aclose()
    fake = FakeTwilio(auth_token=TOKEN)
    await fake.start()
    try:
        await open_surveys(fake, data)
        settings = settings_for(fake.base_url, data)
        # As ``feedback-bot web`` serves it: the collector tuned for a long-running server
        # (``settle_heap``); with the defaults, a full collection of this process's heap
        # held the event loop for a couple of hundred milliseconds now and then.
        app = create_app(settings, channels=[TwilioChannel(settings)], serving=True)
        async with TestClient(TestServer(app)) as client:
            page = await (await client.get("/admin/sign-in")).text()
            csrf = page.split('name="csrf" value="')[1].split('"')[0]
            form = {"token": "admin", "csrf": csrf}
            signed = await client.post("/admin/sign-in", data=form, headers={"Origin": PUBLIC},
                                       allow_redirects=False)  # fmt: skip
            assert signed.status == 303, signed.status
            yield client, signed.headers["Set-Cookie"].split(";")[0], fake
    finally:
        await fake.stop()


async def timed(get: Callable[[], Awaitable[aiohttp.ClientResponse]]) -> float:
    """Milliseconds to the last byte of the answer; an answer other than 200 is said."""
    t0 = time.perf_counter()
    response = await get()
    await response.read()
    took = 1000 * (time.perf_counter() - t0)
    if response.status != 200:
        print(f"  {response.url.path}: HTTP {response.status} after {took:,.0f} ms")
    return took


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values):,.0f} ms (max {max(values):,.0f}, n={len(values)})"


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else max(values, default=0)


async def count_days() -> None:
    """The days' figures counted, as the worker does every minute (an import counts the days
    it filled; a reused database may have days to count)."""
    store = SqlStore(database_url(PG, Path(".")))
    t0 = time.perf_counter()
    days = await store.roll_up()
    await store.close()
    print(f"days' figures counted: {days:,} service-days in {time.perf_counter() - t0:.1f} s")


async def measure(args: argparse.Namespace, data: Path, rows: list[Row]) -> None:
    async with serving(data) as (client, cookie, _):
        await count_days()
        base = str(client.make_url("")).rstrip("/")
        console = {"Cookie": cookie}
        sms = Sms(args.sms_rate, PEOPLE)
        async with aiohttp.ClientSession() as http:
            sender = asyncio.create_task(sms.send(http, base))
            ticker = asyncio.create_task(sms.tick())
            gc.callbacks.append(sms.watch_collector)
            sms.phase = "warming up"
            await asyncio.sleep(3)
            sms.phase = "idle"
            await asyncio.sleep(5)  # the webhooks' own latency, for comparison

            async def rounds(phase: str, path: str, headers: dict[str, str], n: int) -> list[float]:
                sms.phase = phase
                await timed(lambda: client.get(path, headers=headers))  # warms it
                return [await timed(lambda: client.get(path, headers=headers)) for _ in range(n)]

            overview = await rounds("console overview", f"/admin?{QUARTER}", console, args.rounds)
            rows.append(Row("console overview (server time)", ms(overview), "median ≤ 500 ms",
                            statistics.median(overview) <= 500))  # fmt: skip
            page = await rounds("service page", f"/admin/services/permit-renewal?{QUARTER}",
                                console, max(3, args.rounds // 3))  # fmt: skip
            rows.append(Row("service page (server time)", ms(page), "median ≤ 500 ms",
                            statistics.median(page) <= 500))  # fmt: skip
            report = await rounds("GET /v1/reports/a11 JSON", f"/v1/reports/a11?{QUARTER}", ADMIN,
                                  3)  # fmt: skip
            rows.append(Row("GET /v1/reports/a11 (JSON)", ms(report), "≤ 2 s",
                            max(report) <= 2000))  # fmt: skip
            search = await rounds("comment search", f"/v1/comments?q=help&{QUARTER}", ADMIN,
                                  args.rounds)  # fmt: skip
            rows.append(Row("comment search, a common word", ms(search), "median ≤ 500 ms",
                            statistics.median(search) <= 500))  # fmt: skip

            # The API's CSV streamed to another process (curl), as a client downloads it.
            sms.phase = "GET /v1/reports/a11 CSV (streamed)"
            t0 = time.perf_counter()
            curl = await asyncio.create_subprocess_exec(
                "curl", "-sS", "-o", str(data / "api.csv"), "-w", "%{http_code}", "-H",
                "Authorization: Bearer admin", f"{base}/v1/reports/a11?{QUARTER}&format=csv",
                stdout=asyncio.subprocess.PIPE)  # fmt: skip
            code = (await curl.communicate())[0].decode()
            took = time.perf_counter() - t0
            # The files are read in a thread: this process is the server being measured.
            lines = await asyncio.to_thread(count_lines, data / "api.csv")
            figure = f"{took:.1f} s, HTTP {code}, {lines:,} lines"
            rows.append(Row("API per-response CSV, streamed (curl)", figure, "-", None))

            # The CLI's per-response CSV and publish, each a process of its own; the server
            # keeps answering SMS meanwhile (they share the database and the machine).
            sms.phase = "feedback-bot report --format csv"
            out = data / "cli.csv"
            took, peak, _ = await asyncio.to_thread(
                cli, ["report", *WHEN, "--format", "csv"],
                str(data), out)  # fmt: skip
            lines = await asyncio.to_thread(count_lines, out)
            same = await asyncio.to_thread(filecmp.cmp, out, data / "api.csv", False)
            figure = f"{took:.1f} s, peak RSS {peak / MB:.0f} MB, {lines:,} lines" + (
                "" if same else " (differs from the API's!)")  # fmt: skip
            met = took <= 60 and peak <= 300 * MB and same
            rows.append(Row("per-response CSV, every row (CLI)", figure, "≤ 60 s, ≤ 300 MB", met))
            sms.phase = "feedback-bot publish"
            site = data / "site"
            took, peak, _ = await asyncio.to_thread(
                cli, ["publish", *WHEN, "--out", str(site)],
                str(data))  # fmt: skip
            rows.append(Row("feedback-bot publish", f"{took:.1f} s, peak RSS {peak / MB:.0f} MB",
                            "≤ 20 s, ≤ 300 MB", took <= 20 and peak <= 300 * MB))  # fmt: skip
            sms.phase = "idle, after"
            await asyncio.sleep(2)
            sender.cancel()
            ticker.cancel()
            await asyncio.sleep(1)  # the last replies come back

    print(f"\nSMS webhooks at {args.sms_rate:g} a second (people answering open surveys), "
          "per phase:")  # fmt: skip
    worst = 0.0
    for phase, latencies in sms.latencies.items():
        stall = sms.stalls.get(phase, 0.0)
        print(
            f"  {phase:<40} n={len(latencies):>5}  p50 {statistics.median(latencies):6.1f} ms"
            f"  p99 {p99(latencies):7.1f} ms  longest event-loop stall {stall:6.0f} ms"
            f" (longest collection {sms.collections.get(phase, 0.0):4.0f} ms)"
        )
        if not phase.startswith(("idle", "warming")):
            worst = max(worst, p99(latencies))
    busy = [phase for phase in sms.latencies if not phase.startswith(("idle", "warming"))]
    every = [x for phase in busy for x in sms.latencies[phase]]
    stall = max((sms.stalls.get(phase, 0.0) for phase in busy), default=0.0)
    rows.append(Row("SMS webhook p99 while these run", f"{p99(every):.0f} ms over {len(every):,}"
                    f" (worst phase {worst:.0f} ms; longest stall {stall:.0f} ms)"
                    + (f"; {sms.failures} not 200" if sms.failures else ""),
                    "p99 ≤ 100 ms, no stall > 100 ms",
                    p99(every) <= 100 and stall <= 100 and not sms.failures))  # fmt: skip


def load(args: argparse.Namespace, data: Path, rows: list[Row]) -> None:
    """The data set through ``feedback-bot import`` (and out again through ``export``)."""
    path = data / "records.jsonl"
    t0 = time.perf_counter()
    dataset.write(path, args.responses)
    print(f"{args.responses:,} records written as JSON lines in {time.perf_counter() - t0:.0f} s")
    asyncio.run(fresh_database(PG))
    took, peak, said = cli(["import", str(path)], str(data))
    imported = next(line for line in said.splitlines() if line.startswith("imported"))
    print("import: " + "; ".join(said.splitlines()[-2:]))
    # Its own rate (from its first record to its last), and the whole command's.
    own = float(imported.split(" a second")[0].rsplit("(", 1)[1].replace(",", ""))
    rows.append(Row("feedback-bot import", f"{own:,.0f} records/s ({args.responses / took:,.0f}"
                    f" with the process's start; peak RSS {peak / MB:.0f} MB)", "≥ 10,000/s",
                    own >= 10_000))  # fmt: skip
    took, peak, said = cli(["export", "--out", str(data / "q1.jsonl"), *WHEN], str(data))
    rows.append(Row("feedback-bot export (the quarter)", f"{args.responses / took:,.0f} records/s"
                    f" ({took:.1f} s, peak RSS {peak / MB:.0f} MB)", "-", None))  # fmt: skip
    os.remove(path)
    os.remove(data / "q1.jsonl")
    asyncio.run(vacuum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--sms-rate", type=float, default=20.0, help="webhooks a second")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        raise SystemExit("needs curl (the API's CSV is downloaded by another process)")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as temp:
        data = Path(temp)
        if not args.reuse:
            load(args, data, rows)
        asyncio.run(measure(args, data, rows))
    load_average = os.getloadavg()
    print(f"\n{args.responses:,} responses in one quarter, PostgreSQL; load average "
          f"{load_average[0]:.1f} / {load_average[1]:.1f} / {load_average[2]:.1f} on "
          f"{os.cpu_count()} CPUs\n")  # fmt: skip
    width = max(len(r.figure) for r in rows)
    print(f"{'budget':<40} {'measured':<{width}}  {'allowed':<32} met")
    for r in rows:
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        print(f"{r.name:<40} {r.figure:<{width}}  {r.budget:<32} {met}")


if __name__ == "__main__":
    main()
