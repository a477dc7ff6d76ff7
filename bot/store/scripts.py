"""The Lua scripts, kept as ``.lua`` files beside this module and loaded once per process.

A line ``--#include <name>`` in a script is replaced by ``<name>.lua`` (shared fragments: a
compare-and-set, a TTL that only grows).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

LUA = Path(__file__).parent / "lua"
Send = Callable[..., Awaitable[Any]]


@functools.cache
def source(name: str) -> str:
    """A script's text, its includes expanded."""
    lines = []
    for line in (LUA / f"{name}.lua").read_text(encoding="utf-8").splitlines():
        lines.append(source(line.split()[1]) if line.startswith("--#include ") else line)
    return "\n".join(lines) + "\n"


class Script:
    """A Lua script run by EVALSHA (loaded on first miss).

    Sent through ``send`` (a shared pipelined connection, or ``execute_command``), not
    redis-py's own Script wrapper, whose argument checks cost more than the script itself on
    the hot path.
    """

    def __init__(self, redis: Redis, name: str, send: Send) -> None:
        self.redis = redis
        self.send = send
        self.source = source(name)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()
        self.loaded = False

    async def load(self) -> None:
        """Make sure Redis has the script (for use in pipelines, where a miss cannot retry)."""
        if not self.loaded:
            await self.redis.script_load(self.source)
            self.loaded = True

    def arguments(self, keys: list[str], args: list[Any]) -> list[Any]:
        """What follows EVALSHA for these keys and arguments."""
        return [self.sha, len(keys), *keys, *args]

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self.send("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            self.loaded = False
            await self.load()
            return await self.send("EVALSHA", self.sha, len(keys), *keys, *args)

    async def run_many(self, calls: Iterable[tuple[list[str], list[Any]]]) -> list[Any]:
        """Run the script once per (keys, args) in one pipelined round trip, in order; if Redis
        lost its scripts (a restart), load it again and run them all again."""
        calls = list(calls)
        for _ in range(2):
            await self.load()
            pipe = self.redis.pipeline(transaction=False)
            for keys, args in calls:
                pipe.execute_command("EVALSHA", *self.arguments(keys, args))
            replies = await pipe.execute(raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in replies):
                break
            self.loaded = False
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return list(replies)


class Scripts:
    """Every script the state runs, over one client and one way of sending."""

    def __init__(self, redis: Redis, send: Send) -> None:
        self.intake = Script(redis, "intake", send)
        self.claim = Script(redis, "claim", send)
        self.pump = Script(redis, "pump", send)
        self.person = Script(redis, "person", send)
        self.bucket = Script(redis, "bucket", send)
        self.recover = Script(redis, "recover", send)
        self.survey_change = Script(redis, "survey_change", send)
        self.inbound = Script(redis, "inbound", send)
        self.swap = Script(redis, "swap", send)
        self.ack = Script(redis, "ack", send)
        self.consent_change = Script(redis, "consent_change", send)
        self.restore = Script(redis, "restore", send)
