"""The web app factory: the app's routes (each channel's, the API's, health), its middleware,
and its lifetime bound to a runtime (``bot.wiring``)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from bot.core.channels import Channel
from bot.service.runtime import utcnow
from bot.service.worker import run_worker
from bot.settings import Settings
from bot.web import api, assets, health, library, openapi
from bot.web.context import RUNTIME
from bot.web.core import AppCore
from bot.web.deadlines import DEADLINES, Deadlines
from bot.web.middleware import errors_middleware
from bot.wiring import build_channels, open_runtime

__all__ = ["DRAIN_SECONDS", "RUNTIME", "create_app", "settle_heap"]

log = logging.getLogger("bot.app")

# How long the requests in flight when the server stops (SIGTERM) have to finish. The platform
# (a Procfile's: Heroku and the like) kills the process 30 s after SIGTERM, and the process
# needs time after its requests: the worker's job in hand (``feedback-bot run``: up to
# ``worker.STOP_GRACE`` from the stop, meanwhile), then closing Redis, the store and the
# embedded Redis (its data saved), which takes under a second. An ordinary request is over by
# then anyway (its own deadline, REQUEST_DEADLINE_SECONDS, is 10 s by default); a web chat
# socket is closed at once (``Deadlines.stop``); a download still streaming is cut (its client
# sees it end early and downloads it again).
DRAIN_SECONDS = 10.0


async def settle_heap(app: web.Application) -> None:
    """Tune the garbage collector for serving: what start-up built (modules, flows, catalog)
    is frozen out of its sight, and young objects are collected every 10,000 allocations
    rather than every 700. Each request leaves little cyclic garbage, and the default made
    the collector scan the requests in flight over and over: about 10 % of the inbound reply
    path's CPU (see bench/inbound.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def create_app(
    settings: Settings,
    *,
    worker: bool = False,
    channels: list[Channel] | None = None,
    clock: Callable[[], datetime] = utcnow,
    serving: bool = False,
) -> web.Application:
    """The web app; with ``worker`` it also runs the worker loop (``feedback-bot run``).

    ``serving`` is for the process that serves it until it stops (``feedback-bot web`` and
    ``run``): once started, the garbage collector is tuned for a long-running server (see
    ``settle_heap``); it is process-wide, so tests and embedded uses leave it off.
    """
    settings.check()
    deadlines = Deadlines(settings.request_deadline)
    from bot.web.console import Console  # its templates are loaded with the app, not on import

    console = Console(settings)
    app = web.Application(middlewares=[errors_middleware(deadlines), console.middleware],
                          client_max_size=api.MAX_BODY)  # fmt: skip
    app[DEADLINES] = deadlines
    chosen = channels if channels is not None else build_channels(settings)

    stop = asyncio.Event()  # the worker's, set as the server stops
    stopped_at: float | None = None

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_runtime(settings, chosen, clock) as rt:
            app[RUNTIME] = rt
            task = asyncio.create_task(run_worker(rt, stop)) if worker else None
            sweep = asyncio.create_task(deadlines.sweep())
            yield
            stop.set()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task  # bounded: the job in hand has STOP_GRACE from the stop
            sweep.cancel()
        if stopped_at is not None:
            log.info("stopped %.1f s after the stop", time.monotonic() - stopped_at)

    async def stopping(app: web.Application) -> None:
        # Before aiohttp waits for the requests in flight: they end by the drain, and the
        # worker finishes its job in hand meanwhile.
        nonlocal stopped_at
        stopped_at = time.monotonic()
        stop.set()
        in_flight = deadlines.stop(DRAIN_SECONDS)
        log.info("stopping: %d request(s) in flight have up to %.0f s", in_flight, DRAIN_SECONDS)

    app.cleanup_ctx.append(runtime_ctx)
    app.on_shutdown.append(stopping)
    if serving:
        app.on_startup.append(settle_heap)  # after runtime_ctx: flows and catalog are loaded

    core = AppCore(app)
    for channel in chosen:
        app.router.add_routes(channel.routes(core))
    app.router.add_routes(
        api.ROUTES + library.ROUTES + health.ROUTES + openapi.ROUTES + assets.ROUTES
    )
    app.router.add_routes(console.routes())
    return app
