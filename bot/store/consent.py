"""Consent in Redis: the working copy of the consent ledger, each shard's set of opt-outs
(``<person>|<scope>``), kept for ever. The measures store is its system of record
(``bot.core.sinks.ConsentLedger``).

Every change is handed to the store in the same write that makes it in Redis: an entry of the
shard's ended stream (field ``consent``), which the outbox writes to the store with its
retries and dead letters, off the reply path. A set holds the member ``RESTORED`` once it
holds every opt-out the store does: a Redis that lost its memory has no set, so the hot
paths' scripts say "not known" rather than "not opted out", and the caller asks the store
(``bot.service.consent``) until the set is restored from it, a page at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, cast

import orjson

from bot.core.sinks import ConsentChange
from bot.store.base import StateBase

RESTORED = "!restored"  # the member that says a shard's set is whole (see the module's doc)
RESTORE_TTL = 60  # seconds a process holds a shard's restore without showing progress


class Consent(StateBase):
    """Opt-outs by scope, kept for ever as keyed hashes, and their restore from the store."""

    def k_optouts_lifted(self, shard: str) -> str:
        """Opt-outs lifted while the shard's set is restored: the restore leaves them out."""
        return f"{self.k_optouts(shard)}:lifted"

    def k_optouts_restoring(self, shard: str) -> str:
        """Which process restores the shard's set (its token), for ``RESTORE_TTL`` seconds."""
        return f"{self.k_optouts(shard)}:restoring"

    async def opted_out(self, person: str, scopes: Iterable[str]) -> bool | None:
        """True when the person opted out under any of these scopes; None when Redis does not
        hold it and cannot tell (the person's shard is being restored: ask the store)."""
        key = self.k_optouts_of(person)
        found = await self.redis.smismember(key, [*self.optout_members(person, scopes), RESTORED])
        if any(found[:-1]):
            return True
        return False if found[-1] else None

    async def opt_out(self, person: str, scope: str, change: ConsentChange) -> bool:
        """Record an opt-out under a scope, for ever, and hand ``change`` to the store; True
        when it is new (so confirm it once only). Only the keyed hash of the address is kept."""
        return await self._change(person, [scope], change, out=True) > 0

    async def opt_in(self, person: str, scope: str, change: ConsentChange) -> bool:
        """Lift an opt-out under a scope (and a blanket one), and hand ``change`` to the
        store; True when Redis held one."""
        return await self._change(person, [scope, "all"], change, out=False) > 0

    async def _change(
        self, person: str, scopes: list[str], change: ConsentChange, *, out: bool
    ) -> int:
        shard = self.shard_of(person)
        keys = [self.k_optouts(shard), self.k_ended(shard), self.k_optouts_lifted(shard)]
        args = ["1" if out else "0", orjson.dumps({**change, "scopes": scopes}),
                *self.optout_members(person, scopes)]  # fmt: skip
        return int(await self.lua.consent_change(keys=keys, args=args))

    async def unrestored(self) -> list[str]:
        """The shards whose opt-out set is not known to be whole."""
        found = await self.each_shard(lambda pipe, s: pipe.sismember(self.k_optouts(s), RESTORED))
        return [s for s, whole in zip(self.shards, found, strict=True) if not whole]

    async def begin_restore(self, shards: list[str], token: str) -> list[str]:
        """Take the restore of these shards where no other process holds it; those taken."""
        pipe = self.redis.pipeline(transaction=False)
        for shard in shards:
            pipe.set(self.k_optouts_restoring(shard), token, nx=True, ex=RESTORE_TTL)
        taken = await pipe.execute()
        return [s for s, ok in zip(shards, taken, strict=True) if ok]

    async def members_of(self, shard: str, count: int) -> AsyncIterator[list[tuple[str, str]]]:
        """The (person, scope) opt-outs a shard's set holds, about ``count`` at a time."""
        batch: list[tuple[str, str]] = []
        async for member in self.redis.sscan_iter(self.k_optouts(shard), count=count):
            if member != RESTORED:
                person, _, scope = str(member).partition("|")
                batch.append((person, scope))
            if len(batch) >= count:
                yield batch
                batch = []
        if batch:
            yield batch

    async def restore_page(
        self, token: str, shards: list[str], pairs: Iterable[tuple[str, str]]
    ) -> list[str]:
        """Add the store's opt-outs ``pairs`` to their shards' sets (those lifted meanwhile
        left out); the shards of ``shards`` still restored by ``token`` (a shard whose token
        is gone lost its memory again, or was taken over: this restore of it stops)."""
        members: dict[str, list[str]] = {shard: [] for shard in shards}
        for person, scope in pairs:
            shard = self.shard_of(person)
            if shard in members:
                members[shard].append(f"{person}|{scope}")
        return await self._restore(token, "page", members)

    async def end_restore(self, token: str, shards: list[str], *, finished: bool) -> list[str]:
        """Mark these shards' sets whole (``finished``) or let another process start again;
        the shards this token still held."""
        return await self._restore(token, "finish" if finished else "abandon",
                                   {shard: [] for shard in shards})  # fmt: skip

    async def _restore(self, token: str, mode: str, members: Mapping[str, list[str]]) -> list[str]:
        calls: list[tuple[list[str], list[Any]]] = [
            ([self.k_optouts(s), self.k_optouts_lifted(s), self.k_optouts_restoring(s)],
             [token, mode, RESTORE_TTL, *added])
            for s, added in members.items()
        ]  # fmt: skip
        done = await self.lua.restore.run_many(calls)
        return [s for s, ok in zip(members, done, strict=True) if ok]


def consent_change(fields: Mapping[str, str]) -> ConsentChange | None:
    """The consent change an ended-stream entry carries (None: it carries a survey)."""
    raw = fields.get("consent")
    return cast(ConsentChange, orjson.loads(raw)) if raw else None
