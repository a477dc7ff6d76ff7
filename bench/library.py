"""Run-time flow changes: how long a second runtime takes to follow an activation, and what a
reload costs as versions pile up.

Two runtimes on the same Redis and SQLite store (as a web and a worker process would be, each
with its own connections and its own watcher); one activates a version, the time until the
other runs on it is measured, alternately activating two versions. Then the reload itself is
timed with N versions kept.

    python3 bench/library.py [--changes 20] [--versions 200]

Uses REDIS_URL (default redis://127.0.0.1:6379/13, flushed first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis

from bot.core.secret import Secret
from bot.settings import Settings
from bot.wiring import open_runtime
from flows import FLOWS_DIR

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
THUMBS = (FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8")


def variant(n: int) -> str:
    return THUMBS.replace("Reminder from {agency}:", f"Reminder {n} from {{agency}}:")


async def main(changes: int, versions: int) -> None:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    data = Path(tempfile.mkdtemp(prefix="feedback-bot-bench-library-"))
    settings = Settings(redis_url=REDIS_URL, data_dir=data, channels=(),
                        pseudonym_key=Secret("key"))  # fmt: skip
    async with (
        open_runtime(settings, channels=[]) as web,
        open_runtime(settings, channels=[]) as worker,
    ):
        assert web.library is not None and worker.library is not None
        kept = [(await web.library.put_flow("a11-v2-thumbs", variant(n), "bench"))[0].version
                for n in range(2)]  # fmt: skip
        delays = []
        for i in range(changes):
            version = kept[i % 2]
            await asyncio.sleep(random.uniform(0, 0.5))  # any moment of the watcher's cycle
            started = time.perf_counter()
            await web.library.activate("a11-v2-thumbs", version, "bench")
            while worker.flows["a11-v2-thumbs"].version != version:
                await asyncio.sleep(0.005)
            delays.append(time.perf_counter() - started)
        delays.sort()
        print(f"pick-up by the second runtime over {changes} activations: median "
              f"{statistics.median(delays) * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms "
              f"(the watcher looks every 0.5 s)")  # fmt: skip
        for n in range(2, versions):
            await web.library.put_flow("a11-v2-thumbs", variant(n), "bench")
        worker.library.parsed.clear()  # as a process that starts with them all kept
        started = time.perf_counter()
        await worker.library.reload()
        first = time.perf_counter() - started
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            await worker.library.reload()
            timings.append(time.perf_counter() - started)
        print(
            f"reload with {versions} versions kept: first (parsing every version) "
            f"{first * 1000:.0f} ms; then median {statistics.median(timings) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--versions", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.changes, args.versions))
