"""Reliable work from Redis streams: a consumer group per sharded stream, each entry handled
until it succeeds, retried with backoff, or dead-lettered.

An entry is acknowledged only when its handler returns. A failure that says it is retryable
(``BotError.retryable``) is tried again after a capped exponential, jittered delay tracked per
entry in Redis, so any consumer can pick it up, for as long as ``retry_for`` allows (a day by
default: long enough to outlast an outage); a permanent failure, or one still failing after
that, moves the entry to a dead-letter stream with its reason, from which ``replay``
re-drives it. A handler may record its progress (what it already did) so that a retry does
not repeat it. Entries a dead consumer held are taken over after ``claim_idle_ms``.

``consume`` is the loop every consumer runs (these and the worker's sender): a pass that fails
is tried again after a growing wait, a group found gone is made again (``bot.store.consumers``),
and the consumer's health is kept for ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from redis.exceptions import RedisError

from bot.core import retry
from bot.core.errors import BotError
from bot.store.consumers import Health, lost_group
from bot.store.state import State

log = logging.getLogger("bot.streams")
CLAIM_IDLE_MS = 60_000
PASS_DEADLINE = 300.0  # a pass that hangs this long (a dead Redis peer) is abandoned, unacked
RETRY_FOR = 24 * 3600.0  # seconds a transient failure is retried before it is dead-lettered
FAILED_WAIT = 5.0  # the longest wait before a pass that keeps failing is tried again


def consumer_id() -> str:
    """A name for this process among a group's consumers: its host, its pid, and a random
    part (a restarted container may reuse both)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


async def consume(
    state: State,
    health: Health,
    clock: Callable[[], datetime],
    one_pass: Callable[[], Awaitable[int]],
    stop: asyncio.Event,
    idle: float,
) -> None:
    """Run ``one_pass`` (which returns how many entries it handled; it may mark its
    progress in ``health`` as it goes) until ``stop`` is set, waiting ``idle`` after a pass
    that found nothing. A pass that fails is logged and tried again after a wait that grows
    to ``FAILED_WAIT`` while it keeps failing (an outage costs a line every few seconds, not
    a busy loop); one that found a consumer group gone has every group made again
    (``Consumers.regroup``) and goes straight on."""
    health.start(clock())
    failures = 0
    while not stop.is_set():
        seen, handled = state.regrouped, 0
        try:
            async with asyncio.timeout(PASS_DEADLINE):
                handled = await one_pass()
            health.read(clock())
            if failures:
                log.info("%s read again after %d failed passes", health.stream, failures)
            failures = 0
        except (RedisError, TimeoutError) as exc:
            health.failed(exc)
            if not (lost_group(exc) and await _regrouped(state, seen, health)):
                failures += 1
                log.error("%s pass failed: %s", health.stream, type(exc).__name__)
        except Exception as exc:  # a bug: say where, and keep the loop alive
            health.failed(exc)
            failures += 1
            log.exception("%s pass failed", health.stream)
        await state.report(health)
        if handled == 0:
            wait = retry.backoff(failures, idle, FAILED_WAIT) if failures else idle
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


async def _regrouped(state: State, seen: int, health: Health) -> bool:
    try:
        await state.regroup(seen, health.stream)
    except RedisError:
        return False
    return True


@dataclass(frozen=True)
class StreamKeys:
    """Where one shard's entries, retry times and dead letters live."""

    stream: str
    retries: str
    dead: str


class StreamConsumer:
    """Handles the entries of per-shard streams; subclasses define ``keys`` and ``handle``."""

    group = ""
    name = "stream"
    kind = ""  # the stream's name after the prefix: fb:<kind> (its health is reported under it)

    def __init__(
        self,
        state: State,
        clock: Callable[[], datetime],
        *,
        consumer: str | None = None,
        retry_for: float = RETRY_FOR,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self.state = state
        self.redis = state.redis
        self.clock = clock
        self.consumer = consumer or consumer_id()
        self.retry_for = retry_for
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.claim_idle_ms = claim_idle_ms
        self.health = Health(f"{state.p}:{self.kind}")

    def keys(self, shard: str) -> StreamKeys:
        raise NotImplementedError

    async def handle(self, fields: dict[str, str], progress: dict[str, Any]) -> None:
        """Do an entry's work; raise a ``BotError`` saying whether a retry can help.

        ``progress`` is what earlier tries of this entry recorded in it (empty the first
        time); what the handler puts there before it raises is kept for the next try.
        """
        raise NotImplementedError

    async def ensure_group(self) -> None:
        for shard in self.state.shards:
            await self.state.ensure_group(self.keys(shard).stream, self.group)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: exponential, capped, jittered over its upper half (so
        the waits grow and consumers do not retry in step)."""
        return retry.backoff(attempts, self.base_delay, self.max_delay)

    async def run(self, stop: asyncio.Event, idle: float = 0.05) -> None:
        """Handle entries until ``stop`` is set; the entry in hand is finished first."""
        await self.ensure_group()
        await consume(self.state, self.health, self.clock, self.step, stop, idle)

    async def step(self) -> int:
        """One pass over every shard: due retries, entries abandoned by dead consumers, then
        new entries. Reads never block: a blocking read cannot span cluster slots."""
        state, group = self.state, self.group
        replies = await state.each_shard(
            lambda pipe, s: (
                pipe.hgetall(self.keys(s).retries),
                pipe.xreadgroup(group, self.consumer, {self.keys(s).stream: "0"}, count=200),
                pipe.xautoclaim(self.keys(s).stream, group, self.consumer, self.claim_idle_ms,
                                "0-0", count=50),
                pipe.xreadgroup(group, self.consumer, {self.keys(s).stream: ">"}, count=50),
            )
        )  # fmt: skip
        now = self.clock().timestamp()
        handled = 0
        for n, shard in enumerate(state.shards):
            retries, mine, claimed, fresh = replies[4 * n : 4 * n + 4]
            # Redis 6.2 answers [cursor, entries]; 7 adds the ids of deleted entries. Taken-over
            # entries keep the retry time they were given, like this consumer's own.
            # An own entry idle long enough comes back from both reads: handle it once.
            waiting = dict(_entries(mine)) | {i: f for i, f in claimed[1] if f}
            work = [
                (entry_id, fields, info)
                for entry_id, fields in waiting.items()
                if (info := json.loads(retries.get(entry_id, "{}"))).get("next_at", 0) <= now
            ]
            work += [(entry_id, fields, {}) for entry_id, fields in _entries(fresh)]
            for entry_id, fields, info in work:
                await self.process(shard, entry_id, fields, info)
                self.health.read(self.clock())  # a long pass is progress, not a stall
                handled += 1
        return handled

    async def process(
        self, shard: str, entry_id: str, fields: dict[str, str], info: dict[str, Any]
    ) -> None:
        """Handle one entry; ``info`` is its retry record (attempts, first failure, progress)."""
        keys = self.keys(shard)
        # A replayed dead letter carries the progress it had made.
        progress: dict[str, Any] = info.get("progress") or json.loads(fields.get("progress", "{}"))
        try:
            await self.handle(fields, progress)
        except Exception as exc:
            if isinstance(exc, BotError):
                error, retryable = str(exc), exc.retryable
            elif isinstance(exc, RedisError):  # a passing outage, not a bug: no traceback
                error, retryable = f"redis: {type(exc).__name__}", True
            else:  # a bug or an unexpected library error: keep the entry, say what it was
                log.exception("%s entry %s failed", self.name, entry_id)
                error, retryable = f"unexpected {type(exc).__name__}", True
            now = self.clock().timestamp()
            attempts = int(info.get("attempts", 0)) + 1
            first_at = float(info.get("first_at", now))
            if not retryable:
                await self._dead(shard, entry_id, fields, error, attempts, progress)
            elif now - first_at >= self.retry_for:
                hours = (now - first_at) / 3600
                why = f"still failing after {hours:.1f} h ({attempts} tries): {error}"
                await self._dead(shard, entry_id, fields, why, attempts, progress)
            else:
                value = json.dumps({"attempts": attempts, "first_at": first_at, "error": error,
                                    "next_at": now + self.backoff(attempts),
                                    "progress": progress})  # fmt: skip
                await self.redis.hset(keys.retries, entry_id, value)
            return
        await self.state.lua.ack(keys=[keys.stream, keys.retries], args=[self.group, entry_id])

    async def _dead(
        self, shard: str, entry_id: str, fields: dict[str, str], error: str, attempts: int,
        progress: dict[str, Any],
    ) -> None:  # fmt: skip
        log.error("%s entry %s dead-lettered after %d attempts: %s",
                  self.name, entry_id, attempts, error)  # fmt: skip
        keys = self.keys(shard)
        dead = {**fields, "error": error[:1000], "attempts": str(attempts)}
        if progress:
            dead["progress"] = json.dumps(progress)
        flat = [item for pair in dead.items() for item in pair]
        await self.state.lua.ack(
            keys=[keys.stream, keys.retries, keys.dead], args=[self.group, entry_id, *flat]
        )

    async def status(self) -> dict[str, Any]:
        """Waiting, in flight, retrying and dead-lettered counts, over every shard."""
        replies = await self.state.each_shard(
            lambda pipe, s: (
                pipe.xpending(self.keys(s).stream, self.group),
                pipe.xlen(self.keys(s).stream),
                pipe.hlen(self.keys(s).retries),
                pipe.xlen(self.keys(s).dead),
            )
        )
        pending = sum(int(p["pending"]) for p in replies[0::4])
        return {
            "waiting": sum(int(n) for n in replies[1::4]) - pending,
            "in_flight": pending,
            "retrying": sum(int(n) for n in replies[2::4]),
            "dead": sum(int(n) for n in replies[3::4]),
        }

    async def dead_letters(self) -> list[dict[str, str]]:
        """Every dead-lettered entry's fields (the entry's own, error, attempts)."""
        shards = await self.state.each_shard(lambda pipe, s: pipe.xrange(self.keys(s).dead))
        return [fields for entries in shards for _, fields in entries]

    async def replay(self, limit: int | None = None) -> int:
        """Move dead-lettered entries back to their streams; returns how many."""
        moved = 0
        for shard in self.state.shards:
            keys = self.keys(shard)
            entries = cast(
                list[tuple[str, dict[str, str]]], await self.redis.xrange(keys.dead, count=limit)
            )
            for entry_id, fields in entries:
                # Handlers are idempotent, so a crash between these two only repeats work.
                kept = {k: v for k, v in fields.items() if k not in ("error", "attempts")}
                await self.redis.xadd(keys.stream, kept)  # type: ignore[arg-type]
                await self.redis.xdel(keys.dead, entry_id)
                moved += 1
        return moved


def _entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for _stream, entries in reply or []:
        out.extend((entry_id, fields) for entry_id, fields in entries if fields)
    return out
