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

    async def console_session(self, key: str, ttl_ms: int) -> dict[str, Any] | None:
        """A session, its idle clock restarted (``ttl_ms``) in the same command."""
        raw = await self.redis.getex(self.k_console_session(key), px=ttl_ms)
        return cast(dict[str, Any], orjson.loads(raw)) if raw else None

    async def change_console_session(self, key: str, session: dict[str, Any], ttl_ms: int) -> bool:
        """Change what a session holds; False when it has ended meanwhile (a sign-out while
        it was being checked): it is not brought back."""
        name = self.k_console_session(key)
        return bool(await self.redis.set(name, orjson.dumps(session), px=ttl_ms, xx=True))

    async def end_console_session(self, key: str) -> None:
        await self.redis.delete(self.k_console_session(key))
