"""The work queue: slow or outside work that a web request hands to the worker.

A web request (a Slack interaction, a crisis message) must answer within seconds and must not
start work it cannot finish: it enqueues a job here, and the worker runs it with the retries,
take-over and dead letters of ``bot.streams``. A job is a kind and a JSON payload; handlers are
registered by kind where the app is wired. Handlers must be idempotent: a job may run again
after a crash.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.core.errors import PermanentError
from bot.store.consumers import WORK_GROUP
from bot.store.streams import StreamConsumer, StreamKeys

log = logging.getLogger("bot.work")

# A job takes its payload: a TypedDict where it is declared, a plain dict on the queue (JSON).
Handler = Callable[[Any], Awaitable[None]]


class UnknownJob(PermanentError):
    """A job of a kind no handler is registered for."""


class WorkQueue(StreamConsumer):
    """Jobs by kind, spread over the shards."""

    group = WORK_GROUP
    name = "work"
    kind = "work"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handlers: dict[str, Handler] = {}

    def keys(self, shard: str) -> StreamKeys:
        base = self.state.k_work(shard)
        return StreamKeys(base, f"{base}:retries", f"{base}:dead")

    def register(self, kind: str, handler: Handler) -> None:
        """Run ``handler`` for jobs of ``kind``."""
        self.handlers[kind] = handler

    async def enqueue(
        self, kind: str, payload: Mapping[str, Any], shard: str | None = None
    ) -> None:
        """Add a job; ``shard`` keeps a person's jobs beside the person's keys."""
        shard = shard or random.choice(self.state.shards)
        await self.redis.xadd(
            self.keys(shard).stream, {"kind": kind, "payload": json.dumps(payload)}
        )

    async def handle(self, fields: dict[str, str], progress: dict[str, Any]) -> None:
        kind = fields.get("kind", "")
        handler = self.handlers.get(kind)
        if handler is None:
            raise UnknownJob(f"no handler for job kind {kind!r}")
        try:
            payload = json.loads(fields["payload"])
        except (KeyError, ValueError) as exc:
            raise UnknownJob(f"malformed {kind} job: {type(exc).__name__}") from None
        await handler(payload)
