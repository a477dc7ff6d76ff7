"""Staff cases in Redis: one per survey (its reference), and the index of open ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

import orjson

from bot.core.cases import OPEN, Case
from bot.store.base import StateBase


class Cases(StateBase):
    """Staff cases: one per survey, changed by compare-and-set."""

    async def create_case(self, ref: str, case: Case, ttl: int) -> bool:
        """Store a new case unless one exists for ``ref``; True when it is new."""
        created = await self.redis.set(self.k_case(ref), orjson.dumps(case), nx=True, ex=ttl)
        if created:
            await self.redis.zadd(self.k_open_cases, {ref: datetime.fromisoformat(
                case["created_at"]).timestamp()})  # fmt: skip
        return bool(created)

    async def case(self, ref: str) -> Case | None:
        raw = await self.redis.get(self.k_case(ref))
        return cast(Case, orjson.loads(raw)) if raw else None

    async def update_case(self, ref: str, change: Callable[[Case], Case | None]) -> Case | None:
        """Apply ``change`` to a case atomically (compare-and-set on its revision); returns the
        case as it now is. A case that is no longer open leaves the open-cases index."""
        key = self.k_case(ref)

        async def write(revision: int, before: Case, after: Case) -> bool:
            return bool(await self.lua.swap(keys=[key], args=[revision, orjson.dumps(after)]))

        case = await self.compare_and_set(key, change, write)
        if case is not None and case["status"] not in OPEN:
            await self.redis.zrem(self.k_open_cases, ref)
        return case

    async def open_cases(self, limit: int = 50) -> list[Case]:
        """Open cases, oldest first."""
        refs = cast(list[str], await self.redis.zrange(self.k_open_cases, 0, limit - 1))
        pipe = self.redis.pipeline(transaction=False)
        for ref in refs:
            pipe.get(self.k_case(ref))
        return [orjson.loads(raw) for raw in await pipe.execute() if raw]
