"""Serving an app in a benchmark's server process."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing.synchronize

from aiohttp import web


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
