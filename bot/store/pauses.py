"""Services paused at run time, shared by every process."""

from __future__ import annotations

from typing import cast

import orjson

from bot.store.base import StateBase


class Pauses(StateBase):
    """Services paused at run time (``/cx pause``)."""

    async def paused(self) -> dict[str, dict[str, str]]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.k_paused))
        return {k: orjson.loads(v) for k, v in raw.items()}

    async def pause(self, service: str, by: str, at: str) -> bool:
        """Pause a service's surveys; False when it was paused already."""
        value = orjson.dumps({"by": by, "at": at})
        return bool(await self.redis.hsetnx(self.k_paused, service, value))

    async def resume(self, service: str) -> bool:
        """Resume a paused service; False when it was not paused."""
        return bool(await self.redis.hdel(self.k_paused, service))
