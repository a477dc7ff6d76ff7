"""The consumers of the bot's streams: their groups, made at start-up and made again by whichever
consumer finds them gone (a Redis that came back empty), and how each consumer is doing.

A Redis restarted without persistence, failed over to an empty replica or evicting keys loses
the consumer groups with everything else; every read then fails with ``NOGROUP``. The first
consumer of a process to meet it makes every group again (from the start of its stream, so
entries added since are read), says once what was lost, and the work goes on.

Each consumer also keeps its health: when it last read its stream (or finished an entry of it)
and how often a pass failed. ``/readyz`` judges the process's own consumers by it; at most once
a second a consumer also writes it to Redis, where ``/metrics`` of any process reads every
process's (a worker has no HTTP port).
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from redis.exceptions import RedisError, ResponseError

from bot.store.base import StateBase

log = logging.getLogger("bot.consumers")

SEND_GROUP = "senders"  # the workers sending due invitations (``fb:send``)
OUTBOX_GROUP = "forwarders"  # the outbox forwarding ended surveys to the sinks (``fb:ended``)
WORK_GROUP = "workers"  # the work queue's job runners (``fb:work``)

STALLED_AFTER = 60.0  # seconds a running consumer may go without a successful read (/readyz)
REPORT_EVERY = 1.0  # seconds between a consumer's reports of its health to Redis

# What a Redis that lost its memory took with it (measured: bench/redis_loss.py).
LOST = (
    "invitations scheduled and not yet sent, open surveys with their answers so far and their "
    "reminders, ended surveys and opt-outs not yet in the measures store, and the decisions "
    "and caps that stop a transaction or a person being surveyed twice; responses and "
    "opt-outs the store already holds are safe (opt-outs are restored from it)"
)


def lost_group(exc: BaseException) -> bool:
    """Whether a Redis error says a consumer group (or its stream) is gone, whether alone or
    from a pipeline (whose errors redis-py prefixes with the command)."""
    message = str(exc)
    return isinstance(exc, ResponseError) and (
        message.startswith("NOGROUP") or "of pipeline caused error: NOGROUP" in message
    )


@dataclass
class Health:
    """How one consumer of a stream is doing, in clock seconds (``started`` None: it does not
    run in this process)."""

    stream: str  # the stream's name across shards: fb:send, fb:ended, fb:work
    started: float | None = None
    last_read: float | None = None
    last_error: str = ""
    unreported: int = 0  # errors not yet added to Redis's count
    reported_at: float = field(default=-math.inf)  # the event loop's time of the last report

    def start(self, now: datetime) -> None:
        self.started = now.timestamp()

    def read(self, now: datetime) -> None:
        """The consumer read its stream, or finished an entry, at ``now``."""
        self.last_read = now.timestamp()

    def failed(self, exc: BaseException) -> None:
        self.unreported += 1
        self.last_error = type(exc).__name__

    def stalled(self, now: datetime) -> str | None:
        """Why the consumer counts as stalled at ``now`` (None: it is not, or does not run
        here): no successful read for ``STALLED_AFTER`` seconds since it started."""
        if self.started is None:
            return None
        since = self.last_read if self.last_read is not None else self.started
        quiet = now.timestamp() - since
        if quiet <= STALLED_AFTER:
            return None
        error = f" (last error: {self.last_error})" if self.last_error else ""
        return f"no successful read of {self.stream} for {quiet:.0f} s{error}"


class Consumers(StateBase):
    """The consumer groups of every shard's streams, and the consumers' health in Redis."""

    regrouped: int  # how many times this process made the groups again
    regrouping: asyncio.Lock

    @property
    def k_reads(self) -> str:
        return f"{self.p}:consumers:reads"

    @property
    def k_read_errors(self) -> str:
        return f"{self.p}:consumers:errors"

    def stream_names(self) -> list[str]:
        """The name of each stream the bot reads, across its shards (``fb:send``, ...)."""
        return [f"{self.p}:{kind}" for kind in ("send", "ended", "work")]

    def consumer_groups(self) -> list[tuple[str, str]]:
        """Every (stream, group) the bot reads, over every shard."""
        return [
            (stream(shard), group)
            for shard in self.shards
            for stream, group in (
                (self.k_send, SEND_GROUP),
                (self.k_ended, OUTBOX_GROUP),
                (self.k_work, WORK_GROUP),
            )
        ]

    async def ensure_group(self, stream: str, group: str) -> None:
        """Create a consumer group (and its stream) unless it exists."""
        try:
            await self.redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def ensure_groups(self) -> None:
        """Create every consumer group that does not exist."""
        for stream, group in self.consumer_groups():
            await self.ensure_group(stream, group)

    async def regroup(self, seen: int, stream: str) -> None:
        """A consumer found a group of ``stream`` gone: make every group again and say so,
        once however many consumers found it. ``seen`` is ``regrouped`` as it was when the
        failed read began: if another consumer made the groups since, nothing is left to do."""
        async with self.regrouping:
            if self.regrouped != seen:
                return
            await self.ensure_groups()
            self.regrouped += 1
        log.warning(
            "Redis came back empty (the consumer group of %s was gone): every consumer group "
            "made again, work goes on. Lost with Redis's memory: %s. To keep it, see the "
            "README's Reliability section",
            stream,
            LOST,
        )

    async def report(self, health: Health) -> None:
        """Write a consumer's health to Redis, at most every ``REPORT_EVERY`` seconds: the
        time of its last read (the latest of any process) and its errors since it last
        wrote. Best effort: a Redis that cannot take it now takes it next time."""
        loop = asyncio.get_running_loop()
        if loop.time() - health.reported_at < REPORT_EVERY:
            return
        health.reported_at = loop.time()
        pipe = self.redis.pipeline(transaction=False)
        if health.last_read is not None:
            pipe.hset(self.k_reads, health.stream, health.last_read)
        if health.unreported:
            pipe.hincrby(self.k_read_errors, health.stream, health.unreported)
        try:
            await pipe.execute()
        except RedisError:
            return
        health.unreported = 0

    async def consumers_health(self) -> dict[str, tuple[float | None, int]]:
        """For each stream, as its consumers (in any process) reported: the time of its last
        read (None when none was reported since Redis began), and its failed reads."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(self.k_reads)
        pipe.hgetall(self.k_read_errors)
        reads, errors = cast(list[dict[str, str]], await pipe.execute())
        return {
            stream: (float(reads[stream]) if stream in reads else None, int(errors.get(stream, 0)))
            for stream in self.stream_names()
        }
