"""Liveness, readiness and queue metrics for the platform and its monitoring."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from bot.store.consumers import STALLED_AFTER
from bot.web.context import RUNTIME


async def healthz(request: web.Request) -> web.Response:
    """The process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Redis and the measures store answer within two seconds, and each consumer of a stream
    this process runs (the worker's, in ``feedback-bot run``) read it successfully within
    ``STALLED_AFTER`` seconds; 503 with the reason when not."""
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
    reasons = [f"{name} down" for name, value in checks.items() if value != "ok"]
    body: dict[str, Any] = dict(checks)
    now = rt.clock()
    running = [h for h in rt.consumers() if h.started is not None]
    if running:
        body["consumers"] = {}
        for health in running:
            stalled = health.stalled(now)
            body["consumers"][health.stream] = "stalled" if stalled else "ok"
            reasons += [stalled] if stalled else []
    if reasons:
        body = {"status": "unavailable", "reason": "; ".join(reasons), **body}
        return web.json_response(body, status=503)
    return web.json_response({"status": "ready", **body})


async def metrics(request: web.Request) -> web.Response:
    """Queue sizes, and how the consumers of each stream are doing (in every process), in
    Prometheus's text format."""
    rt = request.app[RUNTIME]
    sizes = await rt.state.queue_sizes()
    lines = []
    for name, value in sizes.items():
        lines += [f"# TYPE feedback_bot_queue_{name} gauge", f"feedback_bot_queue_{name} {value}"]
    consumers = await rt.state.consumers_health()
    now = rt.clock().timestamp()
    lines += [
        "# HELP feedback_bot_stream_read_age_seconds Seconds since a consumer of the stream, "
        "in any process, last read it successfully (+Inf: none since Redis began); "
        f"/readyz calls a consumer stalled past {STALLED_AFTER:.0f}",
        "# TYPE feedback_bot_stream_read_age_seconds gauge",
    ]
    for stream, (last_read, _) in consumers.items():
        age = "+Inf" if last_read is None else f"{max(0.0, now - last_read):.3f}"
        lines.append(f'feedback_bot_stream_read_age_seconds{{stream="{stream}"}} {age}')
    lines += [
        "# HELP feedback_bot_stream_read_errors_total Failed reads of the stream by its "
        "consumers, in every process, since Redis began",
        "# TYPE feedback_bot_stream_read_errors_total counter",
    ]
    for stream, (_, errors) in consumers.items():
        lines.append(f'feedback_bot_stream_read_errors_total{{stream="{stream}"}} {errors}')
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


ROUTES = [
    web.get("/healthz", healthz),
    web.get("/readyz", readyz),
    web.get("/metrics", metrics),
]
