"""The admin console's sessions in Redis. Each is a key named by a hash of the session's id
(the id itself is only in the person's cookie), expiring when idle; signing out deletes it."""

from __future__ import annotations

from typing import Any, cast

import orjson

from bot.store.base import StateBase


class ConsoleSessions(StateBase):
    """Console sessions: start, read, renew, change, end."""

    async def start_console_session(self, key: str, session: dict[str, Any], ttl_ms: int) -> None:
        await self.redis.set(self.k_console_session(key), orjson.dumps(session), px=ttl_ms)

    async def console_session(self, key: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.k_console_session(key))
        return cast(dict[str, Any], orjson.loads(raw)) if raw else None

    async def renew_console_session(
        self, key: str, ttl_ms: int, session: dict[str, Any] | None = None
    ) -> bool:
        """Restart a session's idle clock (and, given ``session``, change what it holds);
        False when it has ended meanwhile: it is not brought back."""
        name = self.k_console_session(key)
        if session is None:
            return bool(await self.redis.pexpire(name, ttl_ms))
        return bool(await self.redis.set(name, orjson.dumps(session), px=ttl_ms, xx=True))

    async def end_console_session(self, key: str) -> None:
        await self.redis.delete(self.k_console_session(key))
