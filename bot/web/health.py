"""Liveness, readiness and queue metrics for the platform and its monitoring."""

from __future__ import annotations

import asyncio

from aiohttp import web
from redis.exceptions import RedisError

from bot.web.context import RUNTIME


async def healthz(request: web.Request) -> web.Response:
    """The process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Redis and the measures store answer within two seconds (503 when either does not)."""
    rt = request.app[RUNTIME]
    checks = {"redis": "ok", "store": "ok"}
    try:
        await asyncio.wait_for(rt.state.redis.ping(), 2.0)
    except (RedisError, TimeoutError):
        checks["redis"] = "down"
    try:
        if rt.store is not None:
            await asyncio.wait_for(rt.store.ping(), 2.0)
    except Exception:
        checks["store"] = "down"
    ready = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ready" if ready else "unavailable", **checks}, status=200 if ready else 503
    )


async def metrics(request: web.Request) -> web.Response:
    """Queue sizes as Prometheus gauges."""
    sizes = await request.app[RUNTIME].state.queue_sizes()
    lines = []
    for name, value in sizes.items():
        lines += [f"# TYPE feedback_bot_queue_{name} gauge", f"feedback_bot_queue_{name} {value}"]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


ROUTES = [
    web.get("/healthz", healthz),
    web.get("/readyz", readyz),
    web.get("/metrics", metrics),
]
