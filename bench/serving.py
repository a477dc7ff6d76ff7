"""Serving an app in a benchmark's server process."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing.synchronize
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis


def serve_forever(
    app: web.Application, port: int, ready: multiprocessing.synchronize.Event
) -> None:
    """Run ``app`` on 127.0.0.1:``port`` until the process is terminated."""

    async def main() -> None:
        logging.disable(logging.WARNING)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


@asynccontextmanager
async def signed_in(database_url: str, redis_url: str) -> AsyncIterator[tuple[Any, str]]:
    """The real app on the store at ``database_url`` (Redis at ``redis_url``, flushed), on
    loopback: its client, and the cookie of an admin's console session (the admin token is
    ``admin``)."""
    from bot.core.secret import Secret
    from bot.settings import Settings
    from bot.web.app import create_app
    from tests.conftest import Clock

    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(redis_url=redis_url, database_url=database_url, data_dir=Path(data),
                            public_base_url="http://127.0.0.1", channels=(),
                            api_token=Secret("api"), admin_token=Secret("admin"),
                            pseudonym_key=Secret("key"))  # fmt: skip
        app = create_app(settings, channels=[], clock=Clock())
        async with TestClient(TestServer(app)) as client:
            page = await (await client.get("/admin/sign-in")).text()
            csrf = page.split('name="csrf" value="')[1].split('"')[0]
            signed = await client.post("/admin/sign-in", data={"token": "admin", "csrf": csrf},
                                       headers={"Origin": "http://127.0.0.1"},
                                       allow_redirects=False)  # fmt: skip
            assert signed.status == 303, signed.status
            yield client, signed.headers["Set-Cookie"].split(";")[0]


async def fresh_database(url: str) -> None:
    """Drop and create the database ``url`` names (a benchmark's own)."""
    import asyncpg

    admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    name = url.rsplit("/", 1)[1]
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
