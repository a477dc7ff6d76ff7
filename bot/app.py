"""The app factory: the one place that wires settings, Redis, flows and adapters together."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.twilio import TwilioChannel
from bot import conversation, delivery, intake
from bot.catalog import load_catalog
from bot.channels import Inbound, Outbound
from bot.embedded_redis import EmbeddedRedis
from bot.flowfile import load_flows
from bot.runtime import Runtime, utcnow
from bot.settings import Secret, Settings
from bot.state import State
from bot.worker import run_worker

log = logging.getLogger("bot.app")

RUNTIME = web.AppKey("runtime", Runtime)
MAX_BATCH = 1000
MAX_BODY = 4 * 1024 * 1024


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    channels: list[Any] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> AsyncIterator[Runtime]:
    """Connect Redis (or start the embedded one), load flows and catalog, start channels."""
    flows = load_flows(settings.flows_dir)
    services = load_catalog(settings.services_file, flows)
    embedded: EmbeddedRedis | None = None
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
    else:
        embedded = EmbeddedRedis(settings.redis_dir)
        socket_path = await asyncio.to_thread(embedded.start)
        redis = Redis(unix_socket_path=socket_path, decode_responses=True)
    started: list[Any] = []
    try:
        await redis.ping()
        outbound: dict[str, Outbound] = {}
        for channel in channels if channels is not None else build_channels(settings):
            await channel.start()
            started.append(channel)
            for name in channel.channels:
                if name in settings.channels:
                    outbound[name] = channel
        yield Runtime(settings, State(redis), flows, services, outbound, clock)
    finally:
        for channel in started:
            await channel.close()
        await redis.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def build_channels(settings: Settings) -> list[Any]:
    """The channel adapters the settings enable."""
    if {"sms", "whatsapp"} & set(settings.channels):
        return [TwilioChannel(settings)]
    return []


def _json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _authorised(request: web.Request, token: Secret) -> bool:
    header = request.headers.get("Authorization", "")
    expected = f"Bearer {token.reveal()}"
    return bool(token) and hmac.compare_digest(header.encode(), expected.encode())


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """No traceback ever reaches a caller; a failing dependency is a 503 to retry."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except RedisError as exc:
        log.error("redis unavailable path=%s error=%s", request.path, type(exc).__name__)
        return _json_error(503, "temporarily unavailable, retry later")
    except Exception:
        log.exception("unhandled error path=%s", request.path)
        return _json_error(500, "internal error")


async def post_transactions(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.api_token):
        return _json_error(401, "missing or wrong bearer token")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _json_error(413, f"body over {MAX_BODY} bytes")
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return _json_error(400, "body is not valid JSON")
    batch = isinstance(payload, dict) and "transactions" in payload
    items = payload["transactions"] if batch else [payload]
    if not isinstance(payload, dict) or not isinstance(items, list):
        return _json_error(400, 'expected a JSON object or {"transactions": [...]}')
    if not items:
        return _json_error(400, "no transactions")
    if len(items) > MAX_BATCH:
        return _json_error(413, f"at most {MAX_BATCH} transactions per request")
    results, invalid = await intake.accept(rt, items)
    status = 422 if invalid else 202
    body: Any = {"results": results} if batch else results[0]
    return web.json_response(body, status=status)


async def get_services(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.admin_token):
        return _json_error(401, "missing or wrong bearer token")
    now = rt.clock()
    services = []
    for s in rt.services.values():
        flow = rt.flows[s.flow]
        services.append(
            {
                "id": s.id,
                "name": s.name,
                "agency": s.agency,
                "channels": list(s.channels),
                "flow": {"id": flow.id, "version": flow.version, "languages": list(flow.languages)},
                "omb_control_number": s.omb_control_number,
                "omb_expires": s.omb_expires.isoformat() if s.omb_expires else None,
                "active": not s.paused and not s.omb_expired(now),
            }
        )
    return web.json_response({"services": services})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    try:
        await asyncio.wait_for(rt.state.redis.ping(), 2.0)
    except (RedisError, TimeoutError):
        return web.json_response({"status": "unavailable", "redis": "down"}, status=503)
    return web.json_response({"status": "ready", "redis": "ok"})


async def metrics(request: web.Request) -> web.Response:
    state = request.app[RUNTIME].state
    pipe = state.redis.pipeline(transaction=False)
    pipe.zcard(state.k_due)
    pipe.zcard(state.k_timers)
    pipe.xlen(state.k_ended)
    due, timers, ended = await pipe.execute()
    lines = [
        "# TYPE feedback_bot_invitations_due gauge",
        f"feedback_bot_invitations_due {due}",
        "# TYPE feedback_bot_timers_pending gauge",
        f"feedback_bot_timers_pending {timers}",
        "# TYPE feedback_bot_ended_surveys gauge",
        f"feedback_bot_ended_surveys {ended}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def create_app(
    settings: Settings,
    *,
    worker: bool = False,
    channels: list[Any] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    """The web app; with ``worker`` it also runs the worker loop (``feedback-bot run``)."""
    settings.check()
    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_BODY)
    chosen = channels if channels is not None else build_channels(settings)

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_runtime(settings, chosen, clock) as rt:
            app[RUNTIME] = rt
            stop = asyncio.Event()
            task = asyncio.create_task(run_worker(rt, stop)) if worker else None
            yield
            stop.set()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.cleanup_ctx.append(runtime_ctx)

    async def on_message(msg: Inbound) -> list[str]:
        return await conversation.handle(app[RUNTIME], msg)

    async def on_status(message_id: str, status: str, code: int | None) -> None:
        await delivery.on_status(app[RUNTIME], message_id, status, code)

    for channel in chosen:
        app.router.add_routes(channel.routes(on_message, on_status))
    app.router.add_post("/v1/transactions", post_transactions)
    app.router.add_get("/v1/services", get_services)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
