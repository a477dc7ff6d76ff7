"""The library's generation in Redis: a counter every change of flows or settings moves on,
which each process reads twice a second to know it must reload (``bot.service.library``)."""

from __future__ import annotations

import time
from typing import cast

import orjson

from bot.store.base import StateBase


class LibraryState(StateBase):
    """The library's generation counter, and the pauses kept before the library kept them."""

    @property
    def k_library(self) -> str:
        return f"{self.p}:library"

    async def library_generation(self) -> int:
        """The current generation (0 before the first change)."""
        return int(await self.redis.get(self.k_library) or 0)

    async def library_changed(self) -> int:
        """Move the generation on: every process reloads; returns the new one.

        A counter that Redis lost (it came back empty) starts again from the clock in
        microseconds, not from 1: counting from 1 again could land on the generation a
        process already holds, and that process would miss the change."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.k_library, time.time_ns() // 1000, nx=True)
        pipe.incr(self.k_library)
        return int((await pipe.execute())[1])

    async def legacy_pauses(self) -> dict[str, dict[str, str]]:
        """The services ``/cx pause`` paused in Redis before pauses became settings."""
        raw = cast(dict[str, str], await self.redis.hgetall(self.k_paused))
        return {k: orjson.loads(v) for k, v in raw.items()}

    async def forget_legacy_pauses(self, services: list[str]) -> None:
        """Remove pauses the library now keeps as settings."""
        if services:
            await self.redis.hdel(self.k_paused, *services)
