"""Whether Redis keeps the bot's working memory: read once at start-up, as Sidekiq and BullMQ
read theirs.

Redis holds what the bot has not yet handed to the measures store: invitations scheduled, open
surveys, the outbox, opt-outs, the caps. A Redis that writes nothing to disk comes back empty
after a restart; one that only takes snapshots (``save``) comes back with the last one, minutes
old; one whose ``maxmemory-policy`` is not ``noeviction`` drops keys when it is full. What
survives is an append-only file (``appendonly yes``, fsync every second) and ``noeviction``.

The settings are read with ``CONFIG GET``; a managed Redis that refuses it (most do) still
answers ``INFO``, which tells the append-only file and the eviction policy but not the
snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

WANTED = "appendonly yes and maxmemory-policy noeviction"


@dataclass(frozen=True)
class Durability:
    """What a Redis would lose, one clause each (none: it keeps everything), or why it could
    not be told (``unchecked``)."""

    problems: tuple[str, ...] = ()
    unchecked: str = ""


def judge(config: Mapping[str, str]) -> tuple[str, ...]:
    """The problems of one node's settings (``appendonly``, ``maxmemory-policy`` and, when
    known, ``save``)."""
    problems = []
    if config.get("appendonly") != "yes":
        save = config.get("save")
        if save is None:
            problems.append("it keeps no append-only file: a restart loses what changed since "
                            "its last snapshot, if it takes any")  # fmt: skip
        elif save.strip():
            problems.append(f"it keeps only snapshots (save '{save}'), no append-only file: a "
                            "restart loses what changed since the last one")  # fmt: skip
        else:
            problems.append("it keeps nothing on disk (appendonly no, save ''): a restart "
                            "empties it")  # fmt: skip
    policy = config.get("maxmemory-policy", "noeviction")
    if policy != "noeviction":
        problems.append(f"it drops keys when full (maxmemory-policy {policy})")
    return tuple(problems)


async def _settings(redis: Redis, node: Any) -> dict[str, str]:
    """One node's settings: by CONFIG GET, else from INFO (no ``save`` then)."""
    target = {} if node is None else {"target_nodes": node}
    try:
        config: dict[str, str] = {}
        for name in ("appendonly", "save", "maxmemory-policy"):
            config.update(cast(dict[str, str], await redis.config_get(name, **target)))
        return config
    except ResponseError:  # CONFIG refused or renamed away: a managed Redis
        info = await redis.info("persistence", **target)
        memory = await redis.info("memory", **target)
        return {
            "appendonly": "yes" if int(info.get("aof_enabled", 0)) else "no",
            "maxmemory-policy": str(memory.get("maxmemory_policy", "noeviction")),
        }


async def check(redis: Redis) -> Durability:
    """Read the settings of Redis (every primary of a cluster) and judge them."""
    nodes: list[Any] = list(redis.get_primaries()) if isinstance(redis, RedisCluster) else [None]
    problems: list[str] = []
    for node in nodes:
        try:
            config = await _settings(redis, node)
        except ResponseError as exc:
            return Durability(unchecked=f"neither CONFIG GET nor INFO answered: {exc}"[:200])
        problems += [p for p in judge(config) if p not in problems]
    return Durability(tuple(problems))
