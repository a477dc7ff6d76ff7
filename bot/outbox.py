"""The outbox: ended surveys flow from a Redis stream to every sink, each exactly once.

A consumer group reads the stream of ended surveys; an entry is acknowledged only when every
sink took its record. Failures are retried with exponential backoff and jitter, tracked per
entry in Redis (so any forwarder can pick them up); after ``max_attempts`` the entry moves to
a dead-letter stream, from which ``feedback-bot outbox replay`` re-drives it. Sinks write
idempotently on the response id, so a retry after a partial success duplicates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from redis.exceptions import RedisError

from bot import response
from bot.flow import Flow
from bot.response import MalformedRecord
from bot.sinks import Sink, SinkError
from bot.state import State

log = logging.getLogger("bot.outbox")
GROUP = "forwarders"
CLAIM_IDLE_MS = 60_000  # entries a dead forwarder held this long are taken over


class Outbox:
    """Forwards ended surveys to the sinks."""

    def __init__(
        self,
        state: State,
        sinks: list[Sink],
        flows: dict[str, Flow],
        clock: Callable[[], datetime],
        *,
        consumer: str | None = None,
        max_attempts: int = 8,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self.state = state
        self.redis = state.redis
        self.sinks = sinks
        self.flows = flows
        self.clock = clock
        self.consumer = consumer or f"{socket.gethostname()}-{random.getrandbits(32):08x}"
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.claim_idle_ms = claim_idle_ms
        self.stream = state.k_ended
        self.dead = f"{state.k_ended}:dead"
        self.retries = f"{state.p}:outbox:retries"

    async def ensure_group(self) -> None:
        await self.state.ensure_group(self.stream, GROUP)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: exponential, capped, with full jitter."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2.0**attempts))

    async def run(self, stop: asyncio.Event, block_ms: int = 1000) -> None:
        """Forward until ``stop`` is set; the entry in hand is finished first."""
        await self.ensure_group()
        while not stop.is_set():
            try:
                handled = await self.step(block_ms)
            except RedisError as exc:
                log.error("outbox redis error: %s", type(exc).__name__)
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)

    async def step(self, block_ms: int = 0) -> int:
        """One pass: due retries, entries abandoned by dead forwarders, then new entries."""
        handled = 0
        now = self.clock().timestamp()
        retries = cast(dict[str, str], await self.redis.hgetall(self.retries))
        mine = await self.redis.xreadgroup(GROUP, self.consumer, {self.stream: "0"}, count=500)
        for entry_id, fields in _entries(mine):
            info = json.loads(retries.get(entry_id, "{}"))
            if info.get("next_at", 0) <= now:
                await self.process(entry_id, fields)
                handled += 1
        # Redis 6.2 answers [cursor, entries]; 7 adds the ids of deleted entries.
        claimed = await self.redis.xautoclaim(
            self.stream, GROUP, self.consumer, self.claim_idle_ms, "0-0", count=100
        )
        for entry_id, fields in claimed[1]:
            if fields is not None:
                await self.process(entry_id, fields)
                handled += 1
        fresh = await self.redis.xreadgroup(
            GROUP, self.consumer, {self.stream: ">"}, count=100, block=block_ms or None
        )
        for entry_id, fields in _entries(fresh):
            await self.process(entry_id, fields)
            handled += 1
        return handled

    async def process(self, entry_id: str, fields: dict[str, str]) -> None:
        try:
            survey = json.loads(fields["record"])
            record = response.build(survey, self.flows.get(survey.get("flow_id", "")))
            response.validate(record)
        except (KeyError, ValueError, TypeError, MalformedRecord) as exc:
            await self._dead(entry_id, fields, f"malformed: {exc}", 0)
            return
        failures: list[SinkError] = []
        for sink in self.sinks:
            try:
                await sink.write(record)
            except SinkError as exc:
                failures.append(exc)
                log.warning("sink %s failed: %s", sink.name, exc)
        if not failures:
            pipe = self.redis.pipeline(transaction=True)
            pipe.xack(self.stream, GROUP, entry_id)
            pipe.xdel(self.stream, entry_id)
            pipe.hdel(self.retries, entry_id)
            await pipe.execute()
            return
        info = json.loads(await self.redis.hget(self.retries, entry_id) or "{}")
        attempts = int(info.get("attempts", 0)) + 1
        error = "; ".join(str(f) for f in failures)
        if attempts >= self.max_attempts or not all(f.retryable for f in failures):
            await self._dead(entry_id, fields, error, attempts)
            return
        next_at = self.clock().timestamp() + self.backoff(attempts)
        value = json.dumps({"attempts": attempts, "next_at": next_at, "error": error})
        await self.redis.hset(self.retries, entry_id, value)

    async def _dead(self, entry_id: str, fields: dict[str, str], error: str, attempts: int) -> None:
        log.error("outbox entry %s dead-lettered after %d attempts: %s", entry_id, attempts, error)
        pipe = self.redis.pipeline(transaction=True)
        dead: dict[Any, Any] = {**fields, "error": error[:1000], "attempts": str(attempts)}
        pipe.xadd(self.dead, dead)
        pipe.xack(self.stream, GROUP, entry_id)
        pipe.xdel(self.stream, entry_id)
        pipe.hdel(self.retries, entry_id)
        await pipe.execute()

    async def status(self) -> dict[str, Any]:
        """Waiting, in flight, retrying and dead-lettered counts."""
        await self.ensure_group()
        pending = await self.redis.xpending(self.stream, GROUP)
        return {
            "waiting": int(await self.redis.xlen(self.stream)) - int(pending["pending"]),
            "in_flight": int(pending["pending"]),
            "retrying": int(await self.redis.hlen(self.retries)),
            "dead": int(await self.redis.xlen(self.dead)),
        }

    async def replay(self, limit: int | None = None) -> int:
        """Move dead-lettered entries back to the stream; returns how many."""
        entries = cast(
            list[tuple[str, dict[str, str]]], await self.redis.xrange(self.dead, count=limit)
        )
        for entry_id, fields in entries:
            pipe = self.redis.pipeline(transaction=True)
            pipe.xadd(self.stream, {"record": fields["record"]})
            pipe.xdel(self.dead, entry_id)
            await pipe.execute()
        return len(entries)


def _entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for _stream, entries in reply or []:
        out.extend((entry_id, fields) for entry_id, fields in entries if fields)
    return out
