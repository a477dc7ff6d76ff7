"""Consent in Redis: each shard's set of opt-outs, ``<person>|<scope>``, kept for ever."""

from __future__ import annotations

from collections.abc import Iterable

from bot.store.base import StateBase


class Consent(StateBase):
    """Opt-outs by scope, kept for ever as keyed hashes."""

    async def opted_out(self, person: str, scopes: Iterable[str]) -> bool:
        """True when the person opted out under any of these scopes."""
        members = self.optout_members(person, scopes)
        found = await self.redis.smismember(self.k_optouts_of(person), members)
        return any(found)

    async def opt_out(self, person: str, scope: str) -> bool:
        """Record an opt-out under a scope, for ever; True when it is new (so confirm it once
        only). Only the keyed hash of the address is kept, as a member of the shard's set."""
        return bool(await self.redis.sadd(self.k_optouts_of(person), f"{person}|{scope}"))

    async def opt_in(self, person: str, scope: str) -> bool:
        """Lift an opt-out under a scope (and a blanket one); True when there was one."""
        members = self.optout_members(person, (scope, "all"))
        return bool(await self.redis.srem(self.k_optouts_of(person), *members))
