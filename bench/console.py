"""The console's page budget: server time of the overview (and of a service page) with
``--responses`` response records in PostgreSQL, all in the quarter shown (the worst case);
then ``feedback-bot report`` of that quarter as JSON (the figures, the per-response CSV's row
count and address) and as the collection CSV (the figures alone), each in a process of its
own: its time and peak memory (maximum resident set size).

    python3 bench/console.py [--responses 100000] [--rounds 15] [--no-fill]

Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/
console_bench, created and refilled) and Redis (BENCH_REDIS_URL, default db 12, flushed).
The records are a few hundred real ones (built through the engine) copied with new ids over
three services, two languages and four regions. Times are per request on loopback, signed in
as an admin; the first request is reported apart (it warms the process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from adapters.sql import SqlStore, database_url
from bench.serving import fresh_database, signed_in
from tests.records import response_record

PG = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/console_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SCRIPTS = [["yes", "1 3", "Quick and easy"], ["no", "2", "Too slow"], ["yes", "1", "skip"],
           ["no", "4 5", "Nobody called me back"], ["yes"], []]  # fmt: skip
SERVICES = [("benefits-application", "a11-v2-thumbs"), ("permit-renewal", "a11-v2-scale")]
REGIONS = ["Northeast", "South", "Midwest", "West"]


async def fill(count: int) -> None:
    store = SqlStore(database_url(PG, Path(".")))
    await store.migrate()
    templates = []
    for n in range(240):
        service, flow = SERVICES[n % len(SERVICES)]
        templates.append(response_record(
            n, SCRIPTS[n % len(SCRIPTS)], flow_id=flow, service=service,
            language="es" if n % 5 == 0 else "en", attributes={"region": REGIONS[n % 4]},
            expire=n % len(SCRIPTS) >= 4,
        ))  # fmt: skip
    batch: list[Any] = []
    for i in range(count):
        record = {**templates[i % len(templates)]}
        record["response_id"] = record["survey_id"] = f"{i:032x}"
        record["transaction_id"] = f"bench-{i}"
        batch.append(record)
        if len(batch) == 2000:
            await store.write_many(batch)
            batch = []
    await store.write_many(batch)
    await store.close()
    # As autovacuum does soon after a load: planner statistics and the visibility map (the
    # overview's sums come from the index alone once pages are all-visible).
    admin = await asyncpg.connect(PG)
    await admin.execute("VACUUM ANALYZE responses")
    await admin.close()


class Stalls:
    """The longest the event loop went without running a 5 ms ticker: how long the server's
    other requests (an SMS reply, a webhook) would wait behind a page."""

    def __init__(self) -> None:
        self.longest: dict[str, float] = {}
        self.path = ""

    async def tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            late = 1000 * (time.perf_counter() - started - 0.005)
            self.longest[self.path] = max(self.longest.get(self.path, 0.0), late)


STALLS = Stalls()


async def measure(rounds: int) -> dict[str, list[float]]:
    async with signed_in(PG, REDIS) as (client, cookie):
        times: dict[str, list[float]] = {}
        ticker = asyncio.create_task(STALLS.tick())
        for path, count in (("/admin", rounds), ("/admin/services/permit-renewal", 3)):
            times[path] = []
            STALLS.path = path
            for _ in range(count + 1):
                t0 = time.perf_counter()
                response = await client.get(path, headers={"Cookie": cookie},
                                            allow_redirects=False)  # fmt: skip
                await response.read()
                if response.status != 200:  # the request deadline (a 503) was passed
                    print(f"GET {path}: {response.status} after "
                          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
                    break
                times[path].append(1000 * (time.perf_counter() - t0))
        ticker.cancel()
        return times


def report_runs() -> None:
    """``feedback-bot report`` of the bench's quarter, each format in a fresh process, its
    peak memory by GNU time (``/usr/bin/time -f %M``: kilobytes)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": PG, "PYTHONPATH": str(root)}
    for form in ("collection-csv", "json"):
        t0 = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", sys.executable, "-c",
             "import sys; from bot.cli import main; sys.exit(main())",
             "report", "--fiscal-year", "2027", "--quarter", "1", "--format", form],
            env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            check=False,
        )  # fmt: skip
        took = time.perf_counter() - t0
        peak = int(done.stderr.strip().splitlines()[-1]) / 1024
        state = "" if done.returncode == 0 else f" (exit {done.returncode}: {done.stderr[-300:]!r})"
        print(f"feedback-bot report --format {form:<15} {took:6.1f} s, peak RSS {peak:5.0f} MB"
              f"{state}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-fill", action="store_true", help="measure the data already there")
    args = parser.parse_args()
    if not args.no_fill:
        await fresh_database(PG)
        t0 = time.perf_counter()
        await fill(args.responses)
        print(f"{args.responses} response records written in {time.perf_counter() - t0:.1f} s")
    for path, ms in (await measure(args.rounds)).items():
        if len(ms) < 2:
            continue
        first, rest = ms[0], sorted(ms[1:])
        p95 = rest[int(0.95 * (len(rest) - 1))]
        print(
            f"GET {path:<40} first {first:7.0f} ms   then median {statistics.median(rest):7.0f} "
            f"ms, p95 {p95:7.0f} ms, range {rest[0]:.0f}-{rest[-1]:.0f} ms over {len(rest)}; "
            f"event loop stalled at most {STALLS.longest.get(path, 0):.0f} ms"
        )
    report_runs()


if __name__ == "__main__":
    asyncio.run(main())
