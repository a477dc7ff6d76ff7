"""What every part of the state shares: the client, the way scripts are sent, the key
schema, the compare-and-set loop. ``bot.store.state.State`` puts the parts together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

import orjson
from redis.asyncio import Redis

from bot.store.keys import Keys
from bot.store.scripts import Scripts, Send

# A JSON object kept under a revision: a survey record, a case.
Value = TypeVar("Value", bound=Mapping[str, Any])


class StateBase(Keys):
    """The attributes the parts of the state rely on (set by ``State``)."""

    redis: Redis
    send: Send
    lua: Scripts
    invited_ttl: int
    responded_ttl: int

    async def each_shard(self, command: Callable[[Any, str], Any]) -> list[Any]:
        """Run ``command`` (which may queue several commands) for every shard, in one round
        trip; the replies come in order."""
        pipe = self.redis.pipeline(transaction=False)
        for shard in self.shards:
            command(pipe, shard)
        return list(await pipe.execute())

    async def compare_and_set(
        self,
        key: str,
        change: Callable[[Value], Value | None],
        write: Callable[[int, Value, Value], Awaitable[bool]],
        current: Value | None = None,
    ) -> Value | None:
        """The compare-and-set loop on a JSON value's revision: ``write`` stores the changed
        value only if the revision is still the one read; on a conflict, read and redo."""
        while True:
            if current is None:
                raw = await self.redis.get(key)
                if raw is None:
                    return None
                current = cast(Value, orjson.loads(raw))
            after = change(cast(Value, dict(current)))
            if after is None:
                return current
            revision = int(current.get("rev", 0))
            # "rev" first: see lua/compare_and_set.lua
            after = cast(
                Value, {"rev": revision + 1, **{k: v for k, v in after.items() if k != "rev"}}
            )
            if await write(revision, current, after):
                return after
            current = None  # someone else wrote first: read again and redo the change
