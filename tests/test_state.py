"""Compare-and-set of JSON values in Redis, over the pipelined connection and redis-py's pool."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.asyncio import Redis

from bot.store.pipelined import Pipelined
from bot.store.state import State

REF = "0" * 32 + "/case1"


def bump(case: dict[str, Any]) -> dict[str, Any]:
    return {**case, "count": case.get("count", 0) + 1}


async def test_concurrent_changes_are_all_kept(redis: Redis) -> None:
    lane = Pipelined.for_client(redis)
    assert lane is not None
    shared, pooled = State(redis, lane=lane), State(redis)
    assert await shared.create_case(
        REF, {"status": "received", "created_at": "2026-11-03T15:00:00+00:00"}, ttl=86_400
    )
    try:
        await asyncio.gather(*(s.update_case(REF, bump) for s in [shared, pooled] * 40))
    finally:
        await lane.close()
    case = await shared.case(REF)
    assert case is not None and case["count"] == 80 and case["rev"] == 80
    assert (await redis.get(shared.k_case(REF))).startswith('{"rev":80,')


async def test_a_value_written_without_rev_first_is_still_compared(redis: Redis) -> None:
    state = State(redis)
    key = state.k_case(REF)
    # Written by an earlier version: "rev" last, and a "rev" nested in the data before it.
    legacy = {"status": "received", "attributes": {"rev": 99}, "count": 1, "rev": 7}
    await redis.set(key, json.dumps(legacy))
    changed = await state.update_case(REF, bump)
    assert changed is not None and changed["rev"] == 8 and changed["count"] == 2
    assert changed["attributes"] == {"rev": 99}
    assert (await redis.get(key)).startswith('{"rev":8,')
    # Two writers both read the legacy value: one wins, the other redoes its change.
    await redis.set(key, json.dumps(legacy))
    await asyncio.gather(state.update_case(REF, bump), state.update_case(REF, bump))
    case = await state.case(REF)
    assert case is not None and case["count"] == 3 and case["rev"] == 9
