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

    async def ensure_group(self) -> None:
        for shard in self.state.shards:
            await self.state.ensure_group(self.state.k_ended(shard), GROUP)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try: exponential, capped, with full jitter."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2.0**attempts))

    async def run(self, stop: asyncio.Event) -> None:
        """Forward until ``stop`` is set; the entry in hand is finished first."""
        await self.ensure_group()
        while not stop.is_set():
            try:
                async with asyncio.timeout(300):
                    handled = await self.step()
            except (RedisError, TimeoutError) as exc:
                log.error("outbox redis error: %s", type(exc).__name__)
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)

    async def step(self) -> int:
        """One pass over every shard: due retries, entries abandoned by dead forwarders, then
        new entries. Reads never block: a blocking read cannot span cluster slots."""
        state = self.state
        replies = await state.each_shard(
            lambda pipe, s: (
                pipe.hgetall(state.k_retries(s)),
                pipe.xreadgroup(GROUP, self.consumer, {state.k_ended(s): "0"}, count=200),
                pipe.xautoclaim(state.k_ended(s), GROUP, self.consumer, self.claim_idle_ms,
                                "0-0", count=50),
                pipe.xreadgroup(GROUP, self.consumer, {state.k_ended(s): ">"}, count=50),
            )
        )  # fmt: skip
        now = self.clock().timestamp()
        handled = 0
        for n, shard in enumerate(state.shards):
            retries, mine, claimed, fresh = replies[4 * n : 4 * n + 4]
            # Redis 6.2 answers [cursor, entries]; 7 adds the ids of deleted entries. Taken-over
            # entries keep the retry time they were given, like this forwarder's own.
            # An own entry idle long enough comes back from both reads: handle it once.
            waiting = dict(_entries(mine)) | {i: f for i, f in claimed[1] if f}
            work = [
                (entry_id, fields)
                for entry_id, fields in waiting.items()
                if json.loads(retries.get(entry_id, "{}")).get("next_at", 0) <= now
            ]
            work += _entries(fresh)
            for entry_id, fields in work:
                await self.process(shard, entry_id, fields)
                handled += 1
        return handled

    async def process(self, shard: str, entry_id: str, fields: dict[str, str]) -> None:
        state = self.state
        stream, retries = state.k_ended(shard), state.k_retries(shard)
        try:
            survey = json.loads(fields["record"])
            record = response.build(survey, self.flows.get(survey.get("flow_id", "")))
            response.validate(record)
        except (KeyError, ValueError, TypeError, MalformedRecord) as exc:
            await self._dead(shard, entry_id, fields, f"malformed: {exc}", 0)
            return
        failures: list[SinkError] = []
        for sink in self.sinks:
            try:
                await sink.write(record)
            except SinkError as exc:
                failures.append(exc)
                log.warning("sink %s failed: %s", sink.name, exc)
        if not failures:
            await state.ack(keys=[stream, retries], args=[GROUP, entry_id])
            return
        info = json.loads(await self.redis.hget(retries, entry_id) or "{}")
        attempts = int(info.get("attempts", 0)) + 1
        error = "; ".join(str(f) for f in failures)
        if attempts >= self.max_attempts or not all(f.retryable for f in failures):
            await self._dead(shard, entry_id, fields, error, attempts)
            return
        next_at = self.clock().timestamp() + self.backoff(attempts)
        value = json.dumps({"attempts": attempts, "next_at": next_at, "error": error})
        await self.redis.hset(retries, entry_id, value)

    async def _dead(
        self, shard: str, entry_id: str, fields: dict[str, str], error: str, attempts: int
    ) -> None:
        log.error("outbox entry %s dead-lettered after %d attempts: %s", entry_id, attempts, error)
        state = self.state
        dead = {**fields, "error": error[:1000], "attempts": str(attempts)}
        flat = [item for pair in dead.items() for item in pair]
        await state.ack(
            keys=[state.k_ended(shard), state.k_retries(shard), state.k_dead(shard)],
            args=[GROUP, entry_id, *flat],
        )

    async def status(self) -> dict[str, Any]:
        """Waiting, in flight, retrying and dead-lettered counts, over every shard."""
        state = self.state
        replies = await state.each_shard(
            lambda pipe, s: (
                pipe.xpending(state.k_ended(s), GROUP),
                pipe.xlen(state.k_ended(s)),
                pipe.hlen(state.k_retries(s)),
                pipe.xlen(state.k_dead(s)),
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
        """Every dead-lettered entry's fields (record, error, attempts)."""
        shards = await self.state.each_shard(lambda pipe, s: pipe.xrange(self.state.k_dead(s)))
        return [fields for entries in shards for _, fields in entries]

    async def replay(self, limit: int | None = None) -> int:
        """Move dead-lettered entries back to their streams; returns how many."""
        moved = 0
        for shard in self.state.shards:
            dead_key = self.state.k_dead(shard)
            entries = cast(
                list[tuple[str, dict[str, str]]], await self.redis.xrange(dead_key, count=limit)
            )
            for entry_id, fields in entries:
                # Sinks write idempotently, so a crash between these two only repeats a write.
                await self.redis.xadd(self.state.k_ended(shard), {"record": fields["record"]})
                await self.redis.xdel(dead_key, entry_id)
                moved += 1
        return moved


def _entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for _stream, entries in reply or []:
        out.extend((entry_id, fields) for entry_id, fields in entries if fields)
    return out
