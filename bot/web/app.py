"""The app factory: the one place that wires settings, Redis, flows and adapters together."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import gc
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Middleware
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from adapters.https_sink import HttpsSink
from adapters.slack import SlackChannel
from adapters.sql_store import SqlStore, database_url
from adapters.twilio import TwilioChannel
from bot import logs
from bot.core import cases, reports
from bot.core.catalog import load_catalog
from bot.core.channels import DeliveryStatus, Hooks, Inbound, Outbound, Reply, StaffNotifier
from bot.core.errors import RetryableError
from bot.core.flowfile import load_flows
from bot.service import alerts, conversation, cx, delivery, intake, privacy
from bot.service.runtime import Runtime, utcnow
from bot.service.worker import run_worker
from bot.settings import Secret, Settings
from bot.startup import StartupError, mask_url, reason, wait_for
from bot.store.embedded_redis import EmbeddedRedis
from bot.store.outbox import Outbox
from bot.store.pipelined import Pipelined
from bot.store.state import DAY, SEND_GROUP, State, is_ref
from bot.web.deadlines import Deadlines
from bot.web.headers import header_bytes

log = logging.getLogger("bot.app")

RUNTIME = web.AppKey("runtime", Runtime)
ADMIN_ACTOR = "admin token"  # who the audit log names for a request with $ADMIN_TOKEN
DISPOSITIONS = ("completed", "partial", "expired", "opted_out", "undeliverable", "suppressed")
SERVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RESPONSE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_BATCH = 1000
MAX_BODY = 4 * 1024 * 1024


def open_store(settings: Settings) -> SqlStore:
    """The SQL measures store the settings name (a SQLite file when DATABASE_URL is unset)."""
    if not settings.database_url:
        log.warning(
            "DATABASE_URL is not set: using a SQLite measures store in %s "
            "(for a single machine only; use PostgreSQL in production)",
            settings.data_dir,
        )
    url = database_url(settings.database_url, settings.data_dir)
    try:
        return SqlStore(url)
    except Exception as exc:  # SQLAlchemy's ArgumentError, NoSuchModuleError, a bad port...
        raise StartupError(f"cannot start: DATABASE_URL {mask_url(url)}: {reason(exc)}") from None


async def open_store_ready(settings: Settings, *, migrate: bool = True) -> SqlStore:
    """The measures store, once it answers (waited for up to ``STARTUP_WAIT_SECONDS``) and,
    with ``migrate``, its tables are up to date."""
    store = open_store(settings)
    try:
        await wait_for("DATABASE_URL", mask_url(store.url), store.ping, settings.startup_wait)
        if migrate:
            await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    channels: list[Any] | None = None,
    clock: Callable[[], datetime] = utcnow,
    *,
    sinks: list[Any] | None = None,
) -> AsyncIterator[Runtime]:
    """Connect Redis (or start the embedded one) and the measures store, load flows and
    catalog, start channels and sinks."""
    logs.quiet_libraries()  # whoever set up logging, nothing personal reaches it
    flows = load_flows(settings.flows_dir)
    services = load_catalog(settings.services_file, flows)
    async with open_redis(settings) as redis:
        started: list[Any] = []
        store = await open_store_ready(settings)
        lane = Pipelined.for_client(redis)
        try:
            outbound: dict[str, Outbound] = {}
            notifier: StaffNotifier | None = None
            chosen = channels if channels is not None else build_channels(settings)
            for channel in chosen:
                await channel.start()
                started.append(channel)
                for name in channel.channels:
                    if name in settings.channels:
                        outbound[name] = channel
                if hasattr(channel, "post_case") and settings.slack_bot_token:
                    notifier = channel
            extra = sinks if sinks is not None else build_sinks(settings)
            for sink in extra:
                await sink.start()
                started.append(sink)
            open_for = max(
                (s.delay + s.stale_after + s.expiry for s in services.values()),
                default=timedelta(0),
            )  # the longest a survey can stay open
            invited = max(timedelta(days=settings.invitation_cooldown_days), open_for)
            responded = timedelta(days=settings.response_cooldown_days)
            state = State(redis, lane=lane, invited_ttl=int(invited.total_seconds()) + DAY,
                          responded_ttl=int(responded.total_seconds()) + DAY)  # fmt: skip
            await state.upgrade_layout()
            for shard in state.shards:
                await state.ensure_group(state.k_send(shard), SEND_GROUP)
            rt = Runtime(settings, state, flows, services, outbound, clock, store)
            rt.notifier = notifier
            # Cases are opened as responses are forwarded, so none is missed or opened twice.
            alert_sinks = [alerts.AlertSink(rt)] if notifier is not None else []
            rt.outbox = Outbox(state, [store, *extra, *alert_sinks], flows, clock,
                               retry_for=settings.outbox_retry_hours * 3600)  # fmt: skip
            await rt.outbox.ensure_group()
            register_jobs(rt, chosen)
            await rt.work.ensure_group()
            yield rt
        finally:
            for part in started:
                await part.close()
            await store.close()
            if lane is not None:
                await lane.close()


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    """A client for ``REDIS_URL``, or for an embedded Redis server when it is unset."""
    embedded: EmbeddedRedis | None = None
    redis: Redis
    address = mask_url(settings.redis_url or "")
    try:
        if settings.redis_url and settings.redis_cluster:
            cluster = RedisCluster.from_url(settings.redis_url, decode_responses=True)
            redis = cast(Redis, cluster)  # the same command surface, routed by slot
        elif settings.redis_url:
            # No per-command read timeout (it costs an asyncio timer per command on the hot
            # path): each web request has its own deadline, each worker pass too, and
            # keepalive finds a dead peer.
            redis = Redis.from_url(
                settings.redis_url,
                decode_responses=True,
                socket_timeout=None,
                socket_connect_timeout=5,
                socket_keepalive=True,
            )
        else:
            embedded = EmbeddedRedis(settings.redis_dir)
            socket_path = await asyncio.to_thread(embedded.start)
            redis = Redis(unix_socket_path=socket_path, decode_responses=True)
            address = f"(embedded, {settings.redis_dir})"
    except ValueError as exc:  # redis-py's word for a URL it cannot read
        raise StartupError(f"cannot start: REDIS_URL {address}: {reason(exc)}") from None
    try:
        await wait_for("REDIS_URL", address, redis.ping, settings.startup_wait)
        yield redis
    finally:
        await redis.aclose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


def describe(app: web.Application) -> str:
    """What a running app is connected to, for its start-up line (passwords masked)."""
    rt = app[RUNTIME]
    s = rt.settings
    redis = mask_url(s.redis_url) if s.redis_url else f"embedded Redis in {s.redis_dir}"
    store = mask_url(rt.store.url) if isinstance(rt.store, SqlStore) else "none"
    return (
        f"public URL {s.public_base_url or '(not set)'}; channels {', '.join(sorted(rt.outbound))}"
        f"; Redis {redis}; store {store}"
    )


def register_jobs(rt: Runtime, channels: list[Any]) -> None:
    """Every kind of job the work queue runs."""
    alerts.register(rt)
    cx.register(rt)
    conversation.register(rt)
    for channel in channels:
        for kind, job in getattr(channel, "jobs", dict)().items():
            rt.work.register(kind, job)


async def settle_heap(app: web.Application) -> None:
    """Tune the garbage collector for serving: what start-up built (modules, flows, catalog)
    is frozen out of its sight, and young objects are collected every 10,000 allocations
    rather than every 700. Each request leaves little cyclic garbage, and the default made
    the collector scan the requests in flight over and over: about 10 % of the inbound reply
    path's CPU (see bench/inbound.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def build_channels(settings: Settings) -> list[Any]:
    """The channel adapters the settings enable."""
    chosen: list[Any] = []
    if {"sms", "whatsapp"} & set(settings.channels):
        chosen.append(TwilioChannel(settings))
    if settings.slack_enabled:
        chosen.append(SlackChannel(settings))
    return chosen


def build_sinks(settings: Settings) -> list[Any]:
    """The HTTPS sinks the settings name (the SQL store is always there)."""
    return [HttpsSink(url, settings.sink_secret) for url in settings.sink_urls]


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, the route's pattern, status, size and time. Never the
    path as sent: its query string may carry a token, and a path may carry an id (a web chat
    link's token); the pattern (``/s/{token}``) says which route without them."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        match = getattr(request, "match_info", None)
        resource = match.route.resource if match is not None else None
        route = resource.canonical if resource is not None else "(no route)"
        self.logger.info("%s %s %s %s %.1fms", request.method, route, response.status,
                         response.body_length, 1000 * time)  # fmt: skip


def _json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _authorised(request: web.Request, token: Secret) -> bool:
    expected = f"Bearer {token.reveal()}".encode()
    return bool(token) and hmac.compare_digest(
        header_bytes(request.headers, "Authorization"), expected
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """A JSON body as Python values; ValueError (with why) for anything that is not strict
    JSON: bad syntax or encoding, NaN or Infinity, nesting deeper than the parser's stack."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None


def errors_middleware(deadlines: Deadlines) -> Middleware:
    """No traceback ever reaches a caller; a failing dependency, or a request over its
    deadline, is a 503 to retry."""

    @web.middleware
    async def errors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        task = deadlines.start()
        timed_out = False
        try:
            try:
                return await handler(request)
            finally:
                timed_out = deadlines.finish(task)
        except web.HTTPException:
            raise
        except (asyncio.CancelledError, TimeoutError) as exc:
            if isinstance(exc, asyncio.CancelledError) and not timed_out:
                raise  # the server is stopping, not this request's deadline
            log.error("request over its deadline path=%s", request.path)
            return _json_error(503, "timed out, retry later")
        except RedisError as exc:
            log.error("redis unavailable path=%s error=%s", request.path, type(exc).__name__)
            return _json_error(503, "temporarily unavailable, retry later")
        except RetryableError as exc:
            return _json_error(503, str(exc))
        except Exception:
            log.exception("unhandled error path=%s", request.path)
            return _json_error(500, "internal error")

    return errors


async def post_transactions(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.api_token):
        return _json_error(401, "missing or wrong bearer token")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _json_error(413, f"body over {MAX_BODY} bytes")
    try:
        payload = parse_json(await request.read())
    except ValueError as exc:
        return _json_error(400, f"body is not valid JSON: {exc}")
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
    for s in (await rt.live_services()).values():
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


async def get_report(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.admin_token):
        return _json_error(401, "missing or wrong bearer token")
    query = request.query
    try:
        fiscal_year = int(query["fiscal_year"])
        quarter = int(query["quarter"])
        reports.quarter_bounds(fiscal_year, quarter, "UTC")
    except (KeyError, ValueError):
        return _json_error(400, "fiscal_year (2000-2200) and quarter (1-4) are required")
    service = query.get("service")
    if service is not None and service not in rt.services:
        return _json_error(404, f"unknown service {service!r}")
    if rt.store is None:
        return _json_error(503, "no measures store")
    form = query.get("format", "json")
    if form not in ("json", "csv", "collection-csv"):
        return _json_error(400, "format must be json, csv or collection-csv")
    records = await reports.fetch_quarter(rt.store, fiscal_year, quarter, service)
    report = reports.quarterly_report(records, rt.services, rt.flows, fiscal_year, quarter, service)
    await rt.store.audit(
        ADMIN_ACTOR,
        "report",
        service,
        {"fiscal_year": fiscal_year, "quarter": quarter, "format": form},
    )
    if form in ("csv", "collection-csv"):
        kind = "" if form == "csv" else "-collection"
        name = f"a11-fy{fiscal_year}-q{quarter}{kind}{'-' + service if service else ''}.csv"
        text = (
            report["per_response_csv"] if form == "csv"
            else reports.collection_csv(report["collection_detail"])
        )  # fmt: skip
        return web.Response(
            text=text,
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return web.json_response(report)


async def delete_person(request: web.Request) -> web.Response:
    """Forget a person (``feedback-bot forget``)."""
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.admin_token):
        return _json_error(401, "missing or wrong bearer token")
    try:
        counts = await privacy.forget(rt, request.match_info["address"], ADMIN_ACTOR)
    except ValueError as exc:
        return _json_error(400, str(exc))
    return web.json_response(counts)


async def get_audit(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.admin_token):
        return _json_error(401, "missing or wrong bearer token")
    if rt.store is None:
        return _json_error(503, "no measures store")
    try:
        limit = min(int(request.query.get("limit", "100")), 1000)
        before = int(request.query["before"]) if "before" in request.query else None
    except ValueError:
        return _json_error(400, "limit and before are whole numbers")
    if limit < 1 or (before is not None and not 0 < before < 2**31):  # an INTEGER column
        return _json_error(400, "limit and before must be positive")
    entries = await rt.store.audit_entries(before=before, limit=limit)
    following = entries[-1]["id"] if len(entries) == limit else None
    return web.json_response({"entries": entries, "before": following})


async def get_responses(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.admin_token):
        return _json_error(401, "missing or wrong bearer token")
    if rt.store is None:
        return _json_error(503, "no measures store")
    query = request.query
    try:
        limit = min(int(query.get("limit", "100")), 1000)
        since = query_time(query["from"]) if "from" in query else None
        until = query_time(query["to"]) if "to" in query else None
        after = decode_cursor(query["cursor"]) if "cursor" in query else None
    except (ValueError, KeyError, binascii.Error):
        return _json_error(
            400, "invalid limit, from, to or cursor (times: ISO 8601 with an offset)"
        )
    if limit < 1:
        return _json_error(400, "limit must be positive")
    if query.get("disposition", DISPOSITIONS[0]) not in DISPOSITIONS:
        return _json_error(400, f"disposition must be one of {', '.join(DISPOSITIONS)}")
    if "service" in query and not SERVICE_ID.match(query["service"]):
        return _json_error(400, "service must be a service id")
    records = await rt.store.responses(
        service=query.get("service"),
        since=since,
        until=until,
        disposition=query.get("disposition"),
        after=after,
        limit=limit,
    )
    body: dict[str, Any] = {"responses": records, "next_cursor": None}
    if len(records) == limit:
        last = records[-1]
        body["next_cursor"] = encode_cursor(last["timestamps"]["ended"], last["response_id"])
    return web.json_response(body)


def encode_cursor(ended: str, response_id: str) -> str:
    return base64.urlsafe_b64encode(f"{ended}|{response_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(ended time, response id) from a paging cursor; ValueError when it is not one of ours."""
    raw = base64.urlsafe_b64decode(cursor.encode("ascii", "strict"))
    ended, _, response_id = raw.decode("utf-8").partition("|")
    query_time(ended)
    if not RESPONSE_ID.match(response_id):
        raise ValueError("bad cursor")
    return ended, response_id


def query_time(value: str) -> datetime:
    """A time given in a query: ISO 8601 with an offset, in years 1900-2200 (so that it
    converts to UTC and compares without overflowing); ValueError otherwise."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or not 1900 <= moment.year <= 2200:
        raise ValueError("a time with an offset, years 1900-2200")
    return moment


OPENAPI_PATH = Path(__file__).parent / "openapi.yaml"


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The HTTP API's OpenAPI 3.1 document (bot/openapi.yaml)."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return document


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
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
    sizes = await request.app[RUNTIME].state.queue_sizes()
    lines = []
    for name, value in sizes.items():
        lines += [f"# TYPE feedback_bot_queue_{name} gauge", f"feedback_bot_queue_{name} {value}"]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


def hooks(app: web.Application) -> Hooks:
    """The core's side of the channel adapters' routes, bound to the app's runtime."""

    async def message(msg: Inbound) -> Reply:
        return await conversation.handle(app[RUNTIME], msg)

    async def status(report: DeliveryStatus) -> None:
        await delivery.on_status(app[RUNTIME], report)

    async def chat(msg: Inbound) -> str | None:
        return await conversation.answer_later(app[RUNTIME], msg)

    async def case_action(ref: str, action: str, user: str, action_id: str, where: str) -> None:
        rt = app[RUNTIME]
        if not is_ref(ref) or action not in cases.ACTIONS:
            log.warning("case action with a malformed reference ignored")
            return
        payload = {"ref": ref, "action": action, "user": user, "action_id": action_id,
                   "where": where}  # fmt: skip
        await rt.work.enqueue("case.act", payload, rt.state.shard_of_ref(ref))

    async def command(user: str, text: str, response_url: str) -> str:
        return await cx.command(app[RUNTIME], user, text, response_url)

    async def enqueue(kind: str, payload: dict[str, Any]) -> None:
        await app[RUNTIME].work.enqueue(kind, payload)

    async def first_time(kind: str, key: str, ttl: int) -> bool:
        return await app[RUNTIME].state.first_time(kind, key, ttl)

    async def forget(kind: str, key: str) -> None:
        await app[RUNTIME].state.forget(kind, key)

    return Hooks(message, status, chat, case_action, command, enqueue, first_time, forget)


def create_app(
    settings: Settings,
    *,
    worker: bool = False,
    channels: list[Any] | None = None,
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
    app = web.Application(middlewares=[errors_middleware(deadlines)], client_max_size=MAX_BODY)
    chosen = channels if channels is not None else build_channels(settings)

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_runtime(settings, chosen, clock) as rt:
            app[RUNTIME] = rt
            stop = asyncio.Event()
            task = asyncio.create_task(run_worker(rt, stop)) if worker else None
            sweep = asyncio.create_task(deadlines.sweep())
            yield
            sweep.cancel()
            stop.set()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.cleanup_ctx.append(runtime_ctx)
    if serving:
        app.on_startup.append(settle_heap)  # after runtime_ctx: flows and catalog are loaded

    for channel in chosen:
        app.router.add_routes(channel.routes(hooks(app)))
    app.router.add_post("/v1/transactions", post_transactions)
    app.router.add_get("/v1/services", get_services)
    app.router.add_get("/v1/reports/a11", get_report)
    app.router.add_get("/v1/responses", get_responses)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/v1/openapi.json", get_openapi)
    app.router.add_delete("/v1/people/{address}", delete_person)
    app.router.add_get("/v1/audit", get_audit)
    return app
