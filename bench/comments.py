"""Comment search at national volume: ``GET /v1/comments`` with a million responses in one
quarter in PostgreSQL, through the real app on loopback; and the import that loads them.

    python3 bench/comments.py [--responses 1000000] [--rounds 15] [--reuse]

Builds the data set of ``bench/dataset.py`` (two services, eight regions, English and
Spanish, all in one quarter that is over), loads it into a fresh database
(BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/national_data_bench) with
``feedback-bot import`` and prints its rate, imports it again (nothing changes), then times
searches: a common English word, a common Spanish one without its accent, each with the
quarter and with a service too, a rare word, no word (newest first), the next page, and the
whole CSV of a common word from the console; then a theme (alone, with a service, with a word)
and a quarter's theme counts per service (the grouped SQL of the service page, the JSON report
and ``/cx themes``). ``--reuse`` keeps the database as it is.
Needs Redis (BENCH_REDIS_URL, default db 12, flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench import dataset
from bench.serving import fresh_database, signed_in

PG = os.environ.get("BENCH_DATABASE_URL",
                    "postgresql://postgres@127.0.0.1:5432/national_data_bench")  # fmt: skip
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
QUARTER = f"fiscal_year={dataset.FISCAL[0]}&quarter={dataset.FISCAL[1]}"
SEARCHES = [
    ("common English word", f"q=help&{QUARTER}"),
    ("common English word, one service", f"q=help&service=benefits-application&{QUARTER}"),
    ("common Spanish word, no accent", f"q=atencion&{QUARTER}"),
    ("two words", f"q=staff+office&{QUARTER}"),
    ("rare word", f"q=passport&{QUARTER}"),
    ("no word, newest first", QUARTER),
    ("negative, Spanish", f"sentiment=negative&language=es&{QUARTER}"),
    ("a theme", f"theme=phone&{QUARTER}"),
    ("a theme, one service", f"theme=money&service=benefits-application&{QUARTER}"),
    ("a theme and a word", f"theme=staff&q=help&{QUARTER}"),
]


def run_import(path: Path, data: str) -> str:
    env = {**os.environ, "DATABASE_URL": PG, "DATA_DIR": data}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "import", str(path)], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return (
        f"{done.stdout.strip()} [importer CPU {cpu:.0f} s, peak RSS {after.ru_maxrss // 1024} MB]"
    )


async def analyze() -> None:
    # As autovacuum does soon after a load: planner statistics (which words are common).
    conn = await asyncpg.connect(PG)
    await conn.execute("VACUUM ANALYZE comments")
    await conn.execute("VACUUM ANALYZE responses")
    await conn.execute("VACUUM ANALYZE comment_themes")
    await conn.close()


async def measure(rounds: int) -> None:
    async with signed_in(PG, REDIS) as (client, cookie):
        headers = {"Authorization": "Bearer admin"}
        for name, query in SEARCHES:
            times, body = [], {}
            for _ in range(rounds + 1):
                t0 = time.perf_counter()
                response = await client.get(f"/v1/comments?{query}", headers=headers)
                body = await response.json()
                assert response.status == 200, body
                times.append(1000 * (time.perf_counter() - t0))
            rest = sorted(times[1:])
            print(f"{name:<36} median {statistics.median(rest):6.0f} ms, max {rest[-1]:6.0f} ms"
                  f" (first {times[0]:.0f} ms; {len(body['comments'])} shown)")  # fmt: skip
            if name == "common English word" and body["next_cursor"]:
                following = f"/v1/comments?{query}&cursor={body['next_cursor']}"
                t0 = time.perf_counter()
                assert (await client.get(following, headers=headers)).status == 200
                print(f"{'  its next page':<36} {1000 * (time.perf_counter() - t0):6.0f} ms")
        # The console's CSV of every comment holding a common word, timed, rows counted.
        t0 = time.perf_counter()
        response = await client.get(f"/admin/comments.csv?q=help&{QUARTER}",
                                    headers={"Cookie": cookie})  # fmt: skip
        rows = 0
        async for line in response.content:
            rows += line.startswith(b"20")
        took = time.perf_counter() - t0
        print(f"{'CSV of a common word (console)':<36} {took:6.1f} s for {rows:,} rows")
    await theme_counts(rounds)


async def theme_counts(rounds: int) -> None:
    """A quarter's theme counts (and the quarter before's), per service: two grouped queries."""
    from adapters.sql import SqlStore, database_url
    from bot.core.catalog import load_catalog
    from bot.core.flowfile import load_flows
    from bot.registry import kinds
    from bot.service.themes import quarter_themes
    from flows import FLOWS_DIR

    services = load_catalog(FLOWS_DIR / "services.yaml", load_flows(FLOWS_DIR), kinds())
    store = SqlStore(database_url(PG, Path(tempfile.gettempdir())))
    try:
        for name, chosen in (("one service", ["benefits-application"]),
                             ("every service", sorted(services))):  # fmt: skip
            times = []
            for _ in range(rounds + 1):
                t0 = time.perf_counter()
                found = await quarter_themes(store, services, *dataset.FISCAL, chosen, 10)
                times.append(1000 * (time.perf_counter() - t0))
            rest = sorted(times[1:])
            counted = sum(r["comments"] or 0 for rows in found.values() for r in rows)
            label = f"theme counts, {name}"
            print(f"{label:<36} median {statistics.median(rest):6.0f} ms, max {rest[-1]:6.0f} ms"
                  f" (first {times[0]:.0f} ms; {counted:,} tags)")  # fmt: skip
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    args = parser.parse_args()
    if not args.reuse:
        with tempfile.TemporaryDirectory() as data:
            path = Path(data) / "records.jsonl"
            dataset.write(path, args.responses)
            await fresh_database(PG)
            print("import:", run_import(path, data))
            print("again: ", run_import(path, data))
        await analyze()
    await measure(args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
