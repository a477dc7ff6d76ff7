"""The composition root: the one place that turns settings into running parts — Redis (or the
embedded server), the measures store, the channel adapters the registry names, the sinks — and
wires them into a ``Runtime`` for the web app, the worker and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster

from bot import logs, registry
from bot.core.catalog import Service, load_catalog
from bot.core.channels import Channel, ChannelKind, Outbound, StaffNotifier
from bot.core.flow import Flow
from bot.core.flowfile import load_flows
from bot.core.sinks import ForwardLog, StartedSink
from bot.service import alerts, consent, conversation, cx
from bot.service.library import Live, watching
from bot.service.runtime import Runtime, utcnow
from bot.service.tasks import cancel_and_wait
from bot.settings import Settings
from bot.startup import StartupError, mask_url, reason, wait_for
from bot.store import durability
from bot.store.embedded_redis import EmbeddedRedis
from bot.store.keys import DAY
from bot.store.outbox import Outbox
from bot.store.pipelined import Pipelined
from bot.store.state import State

if TYPE_CHECKING:
    from adapters.sql import SqlStore
    from adapters.touchpoints import TouchpointsSink

log = logging.getLogger("bot.wiring")

# The channel whose adapter is also the staff notifier (cases, /cx) when its bot token is set,
# whether or not people take surveys on it.
NOTIFIER_CHANNEL = "slack"


def open_store(settings: Settings) -> SqlStore:
    """The SQL measures store the settings name (a SQLite file when DATABASE_URL is unset)."""
    # Adapters are imported when they are built, as channels are: SQLAlchemy is a fifth of
    # the app's import, and commands that need no store never pay for it.
    from adapters.sql import SqlStore, database_url

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


async def open_reader(settings: Settings, store: SqlStore) -> SqlStore:
    """Where reports, pages, exports and comment search read: the replica DATABASE_READ_URL
    names (waited for as the store is; its tables come from the primary by replication, so
    nothing is migrated there), else ``store`` itself."""
    if not settings.database_read_url:
        return store
    from adapters.sql import SqlStore, database_url

    url = database_url(settings.database_read_url, settings.data_dir)
    try:
        reader = SqlStore(url)
    except Exception as exc:  # as open_store: a URL SQLAlchemy cannot use
        raise StartupError(
            f"cannot start: DATABASE_READ_URL {mask_url(url)}: {reason(exc)}"
        ) from None
    try:
        await wait_for("DATABASE_READ_URL", mask_url(url), reader.ping, settings.startup_wait)
    except BaseException:
        await reader.close()
        raise
    return reader


@asynccontextmanager
async def reading(settings: Settings) -> AsyncIterator[tuple[SqlStore, SqlStore]]:
    """The store (ready) and where a command reads reports and exports from (its replica, or
    the store itself); both closed on exit."""
    store = await open_store_ready(settings)
    try:
        reader = await open_reader(settings, store)
        try:
            yield store, reader
        finally:
            if reader is not store:
                await reader.close()
    finally:
        await store.close()


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
            # A pool that waits for a free connection: redis-py's default pool refuses the
            # 101st concurrent command (MaxConnectionsError), a 503 for a burst of pages.
            pool = BlockingConnectionPool.from_url(
                settings.redis_url,
                max_connections=settings.redis_max_connections,
                timeout=None,  # each request's deadline bounds the wait
                decode_responses=True,
                socket_timeout=None,
                socket_connect_timeout=5,
                socket_keepalive=True,
            )
            redis = Redis.from_pool(pool)  # owned: closed with the client
        else:
            embedded = EmbeddedRedis(settings.redis_dir)
            socket_path = await asyncio.to_thread(embedded.start)
            # No socket timeout, as REDIS_URL's client: with one, redis-py sends each command
            # through asyncio.wait_for, which on Python 3.11 can lose a cancellation (see
            # bot.service.tasks) and costs a timer per command.
            redis = Redis(unix_socket_path=socket_path, decode_responses=True,
                          socket_timeout=None)  # fmt: skip
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


async def check_durable(settings: Settings, redis: Redis) -> None:
    """Say in one line when Redis would lose the bot's working memory (a restart, eviction)
    or could not be asked; with ``REDIS_REQUIRE_DURABLE`` stop start-up instead."""
    found = await durability.check(redis)
    strict, wanted = settings.redis_require_durable, durability.WANTED
    if found.unchecked:
        if strict:
            raise StartupError("cannot start: REDIS_REQUIRE_DURABLE is true, but Redis's "
                               f"persistence could not be checked ({found.unchecked})")  # fmt: skip
        log.warning("Redis's persistence and eviction could not be checked (%s): make sure it "
                    "has %s (README: Reliability)", found.unchecked, wanted)  # fmt: skip
    elif found.problems:
        said = "; ".join(found.problems)
        if strict:
            raise StartupError("cannot start: REDIS_REQUIRE_DURABLE is true, and Redis may lose "
                               f"the bot's working memory: {said}; set {wanted}")  # fmt: skip
        log.warning("Redis may lose the bot's working memory: %s. Set %s (README: "
                    "Reliability), or REDIS_REQUIRE_DURABLE=true to refuse to start",
                    said, wanted)  # fmt: skip


def build_channels(
    settings: Settings, known: Mapping[str, ChannelKind] | None = None
) -> list[Channel]:
    """The channel adapters the settings enable (``CHANNELS``), and the staff notifier's."""
    known = registry.kinds() if known is None else known
    names = [name for name in settings.channels if name in known]
    if settings.slack_bot_token and NOTIFIER_CHANNEL in known:
        names.append(NOTIFIER_CHANNEL)
    return registry.build(settings, names, known)


def build_sinks(settings: Settings) -> list[StartedSink]:
    """The HTTPS sinks the settings name (the SQL store is always there)."""
    from adapters.https_sink import HttpsSink

    return [HttpsSink(url, settings.sink_secret) for url in settings.sink_urls]


def build_touchpoints(
    settings: Settings,
    services: Mapping[str, Service],
    flows: Mapping[str, Flow],
    store: ForwardLog | None,
    clock: Callable[[], datetime] = utcnow,
) -> TouchpointsSink | None:
    """The Touchpoints sink, when the catalog names a form; StartupError when a service names
    one and Touchpoints is not configured."""
    named = sorted(s.id for s in services.values() if s.touchpoints_form)
    if not named:
        return None
    if not settings.touchpoints_url:
        raise StartupError(f"cannot start: services {', '.join(named)} name a touchpoints_form, "
                           "but TOUCHPOINTS_URL is not set")  # fmt: skip
    from adapters.touchpoints import TouchpointsSink

    api_url = settings.touchpoints_api_url or f"{settings.touchpoints_url}/api/v1"
    return TouchpointsSink(settings.touchpoints_url, api_url, settings.touchpoints_api_key,
                           settings.public_base_url, services, flows, store,
                           clock=clock)  # fmt: skip


def sink_names(settings: Settings) -> list[str]:
    """The name of every sink the outbox feeds under these settings, in order."""
    from adapters.touchpoints import NAME as TOUCHPOINTS

    names = ["sql", *(f"https:{url.split('?')[0]}" for url in settings.sink_urls)]
    if settings.touchpoints_url:
        names.append(TOUCHPOINTS)
    names.append(alerts.AlertSink.name)
    return names


def _warn_unserved(services: Mapping[str, Service], enabled: set[str]) -> None:
    """A catalog may list channels this deployment does not enable: their transactions are
    refused at intake, which an admin should hear about at start-up, not from a caller."""
    for service in services.values():
        unserved = sorted(set(service.channels) - enabled)
        if unserved:
            log.warning(
                "service %s lists channels not enabled here (transactions on them are refused): %s",
                service.id,
                ", ".join(unserved),
            )


def _outbound(settings: Settings, channels: list[Channel]) -> dict[str, Outbound]:
    outbound: dict[str, Outbound] = {}
    for channel in channels:
        for name in channel.channels:
            if name in settings.channels:
                outbound[name] = channel
    return outbound


def _notifier(settings: Settings, channels: list[Channel]) -> StaffNotifier | None:
    if not settings.slack_bot_token:
        return None
    return next((c for c in channels if isinstance(c, StaffNotifier)), None)


@asynccontextmanager
async def open_library(settings: Settings) -> AsyncIterator[Live]:
    """The library as the running bot holds it, for a command that reads it (not seeded: the
    files a command runs beside are not necessarily the deployment's)."""
    async with open_redis(settings) as redis:
        store = await open_store_ready(settings)
        try:
            live = Live(store, State(redis), settings.services_file, registry.kinds())
            await live.open(settings.flows_dir, seed=False)
            yield live
        finally:
            await store.close()


def _ttls(settings: Settings, state: State, services: Mapping[str, Service]) -> None:
    """How long a person's key is kept (``State``): the invitation cool-down, and the longest
    a survey of any service can stay open; again whenever the library changes."""
    open_for = max(
        (s.delay + s.stale_after + s.expiry for s in services.values()), default=timedelta(0)
    )
    invited = max(timedelta(days=settings.invitation_cooldown_days), open_for)
    state.invited_ttl = int(invited.total_seconds()) + DAY
    state.responded_ttl = int(timedelta(days=settings.response_cooldown_days).total_seconds()) + DAY


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    channels: list[Channel] | None = None,
    clock: Callable[[], datetime] = utcnow,
    *,
    sinks: list[StartedSink] | None = None,
    seed: bool = True,
) -> AsyncIterator[Runtime]:
    """Connect Redis (or start the embedded one) and the measures store, seed and load the
    library (flows and catalog), start channels and sinks, register every job, and watch the
    library for changes; closed in reverse on exit. Without ``seed``, a command's files do
    not change the flows the bot runs (``Live.open``); with it (the bot's own processes),
    Redis is also checked for what it would lose (``check_durable``)."""
    logs.quiet_libraries()  # whoever set up logging, nothing personal reaches it
    known = registry.kinds()
    # The files first: a mistake in them is named before anything is connected.
    load_catalog(settings.services_file, load_flows(settings.flows_dir), known)
    async with open_redis(settings) as redis:
        if seed:
            await check_durable(settings, redis)
        started: list[Channel | StartedSink] = []
        store = await open_store_ready(settings)
        lane = Pipelined.for_client(redis)
        reader = store
        try:
            reader = await open_reader(settings, store)
            state = State(redis, lane=lane)
            live = Live(store, state, settings.services_file, known)
            for line in await live.open(settings.flows_dir, seed=seed):
                log.info("library: %s", line)
            services, flows = live.library.services, live.library.flows
            for flow in flows.values():
                if flow.warnings:  # the earlier format: it runs as before, and says so
                    log.warning("library: flow %s version %s has %d warning(s): `feedback-bot "
                                "flows check` or its page in the console says each",
                                flow.id, flow.version, len(flow.warnings))  # fmt: skip
            _ttls(settings, state, services)
            live.listeners.append(lambda library: _ttls(settings, state, library.services))
            chosen = channels if channels is not None else build_channels(settings, known)
            for channel in chosen:
                await channel.start()
                started.append(channel)
            extra = sinks if sinks is not None else build_sinks(settings)
            if sinks is None and (touchpoints := build_touchpoints(
                settings, services, flows, store, clock
            )):  # fmt: skip
                extra.append(touchpoints)
                live.listeners.append(lambda library: touchpoints.use(library.services,
                                                                      library.flows))  # fmt: skip
            for sink in extra:
                try:
                    await sink.start()
                except ValueError as exc:  # a sink's configuration cannot work (one per line)
                    lines = str(exc).splitlines()
                    raise StartupError("cannot start:\n" + "\n".join(lines)) from None
                started.append(sink)
            outbound = _outbound(settings, chosen)
            _warn_unserved(services, set(settings.channels))
            await state.upgrade_layout()
            await state.ensure_groups()
            rt = Runtime(settings, state, flows, services, outbound, clock, store, kinds=known,
                         library=live, reader=reader)  # fmt: skip
            rt.notifier = _notifier(settings, chosen)
            # Cases are opened as responses are forwarded, so none is missed or opened twice,
            # whether or not Slack is configured (the console is their inbox either way).
            if settings.case_digest_webhook:
                from adapters.webhook import Webhook

                rt.digest = Webhook(settings.case_digest_webhook.reveal())
            rt.outbox = Outbox(state, [store, *extra, alerts.AlertSink(rt)], rt.flow_for, clock,
                               retry_for=settings.outbox_retry_hours * 3600,
                               reported=registry.reported(known),
                               themes_for=rt.themes_of, ledger=store)  # fmt: skip
            register_jobs(rt, chosen)
            # A process of the bot's restores the opt-outs Redis lacks from the store, in the
            # background: a ledger of millions takes a minute, and the store answers for the
            # people meanwhile (``bot.service.consent``).
            restoring = asyncio.create_task(consent.restore_once(rt)) if seed else None
            try:
                async with watching(live):
                    yield rt
            finally:
                if restoring is not None:
                    await cancel_and_wait(restoring, "the opt-outs' restore")
        finally:
            for part in reversed(started):
                await part.close()
            if reader is not store:
                await reader.close()
            await store.close()
            if lane is not None:
                await lane.close()


def register_jobs(rt: Runtime, channels: list[Channel]) -> None:
    """Every kind of job the work queue runs: the services' and each channel's own."""
    alerts.register(rt)
    cx.register(rt)
    conversation.register(rt)
    for channel in channels:
        for kind, job in channel.jobs().items():
            rt.work.register(kind, job)


def describe(rt: Runtime) -> str:
    """What a runtime is connected to, for the start-up line (passwords masked)."""
    s = rt.settings
    redis = mask_url(s.redis_url) if s.redis_url else f"embedded Redis in {s.redis_dir}"
    url = getattr(rt.store, "url", None)
    store = mask_url(url) if isinstance(url, str) else "none"
    read = getattr(rt.reader, "url", None)
    if rt.reader is not rt.store and isinstance(read, str):
        store += f", reads from {mask_url(read)}"
    return (
        f"public URL {s.public_base_url or '(not set)'}; channels {', '.join(sorted(rt.outbound))}"
        f"; Redis {redis}; store {store}"
    )
