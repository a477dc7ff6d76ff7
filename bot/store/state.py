"""The bot's working memory in Redis: decisions, surveys, queues, consent, de-duplication,
cases, the library generation — one part per concern (``bot.store.<concern>``), put together here.

Keys are spread over shards (``bot.store.keys``): a person's keys and the queues of that
person's shard share one hash tag, so every script touches a single Redis Cluster slot, and
workers visit every shard. The scripts are ``bot/store/lua/*.lua``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, cast

import orjson
from redis.asyncio import Redis

from bot.store.cases import Cases
from bot.store.consent import Consent
from bot.store.console import ConsoleSessions
from bot.store.consumers import Consumers
from bot.store.dedup import Dedup
from bot.store.intake import Intake
from bot.store.keys import DAY, survey_ref, timer_members
from bot.store.library import LibraryState
from bot.store.limits import Limits
from bot.store.links import Links
from bot.store.pipelined import Pipelined
from bot.store.queues import Queues
from bot.store.scripts import Scripts, Send
from bot.store.surveys import Surveys

LAYOUT = "3"  # the key layout this code writes (see State.upgrade_layout)


def _for_one_of(fields: dict[str, str], addresses: Iterable[str]) -> bool:
    """Whether a work-queue job is for one of these addresses (a chat answer to send)."""
    payload = orjson.loads(fields["payload"])
    return bool({payload.get("to"), payload.get("user")} & set(addresses))


class State(
    Surveys,
    Intake,
    Queues,
    Consumers,
    Limits,
    Consent,
    Dedup,
    Cases,
    LibraryState,
    Links,
    ConsoleSessions,
):
    """Typed access to the Redis keys; all the bot's shared state goes through here."""

    def __init__(
        self,
        redis: Redis,
        prefix: str = "fb",
        shards: int = 16,
        lane: Pipelined | None = None,
        invited_ttl: int = 30 * DAY,
        responded_ttl: int = 90 * DAY,
    ) -> None:
        """``lane``, when given, carries the scripts and the other short commands of the hot
        paths (see ``bot.pipelined``); everything else goes through ``redis``. A person's key
        (cap timings, open surveys) is kept at least ``invited_ttl`` seconds after an
        invitation is scheduled (the invitation cool-down, and the longest a survey stays
        open) and ``responded_ttl`` after a response (the response cool-down)."""
        self.redis = redis
        self.invited_ttl = invited_ttl
        self.responded_ttl = responded_ttl
        self.send: Send = lane.execute if lane is not None else redis.execute_command
        self.regrouped = 0
        self.regrouping = asyncio.Lock()
        super().__init__(prefix, shards)
        self.lua = Scripts(redis, self.send)

    async def upgrade_layout(self) -> None:
        """Bring keys written by earlier versions to today's layout, once (idempotent, so
        processes starting together may all run it): each person's hash of opt-outs becomes
        members of the shard's set; open pointers move into the person's key; person keys
        without an expiry get one; a case's ``slack`` (where it was posted) is its ``post``."""
        if await self.redis.get(self.k_layout) == LAYOUT:
            return
        async for key in self.redis.scan_iter(match=f"{self.p}:{{s*}}:optout:*", count=1000):
            person = key.rsplit(":", 1)[1]
            scopes = [str(s) for s in await self.redis.hkeys(key)]
            if scopes:
                await self.redis.sadd(self.k_optouts_of(person),
                                      *self.optout_members(person, scopes))  # fmt: skip
            await self.redis.delete(key)
        async for key in self.redis.scan_iter(match=f"{self.p}:{{s*}}:open:*", count=1000):
            person = key.rsplit(":", 1)[1]
            pointers = cast(dict[str, str], await self.redis.hgetall(key))
            fields: dict[Any, Any] = {f"open:{c}": v for c, v in pointers.items()}
            if fields:
                await self.redis.hset(self.k_person(person), mapping=fields)
            await self.redis.delete(key)
        async for key in self.redis.scan_iter(match=f"{self.p}:{{s*}}:person:*", count=1000):
            if await self.redis.ttl(key) == -1:
                await self.redis.expire(key, self.responded_ttl)
        async for key in self.redis.scan_iter(match=f"{self.p}:{{s*}}:case:*", count=1000):
            raw = await self.redis.get(key)
            case = orjson.loads(raw) if raw else {}
            if "slack" in case:  # where the notifier posted it, named for what it is
                case["post"] = case.pop("slack")
                await self.redis.set(key, orjson.dumps(case), keepttl=True)
        await self.redis.set(self.k_layout, LAYOUT)

    async def forget_person(
        self, person: str, addresses: Iterable[str] = ()
    ) -> tuple[dict[str, int], list[str]]:
        """Remove what Redis holds of a person (a pseudonym) but an opt-out: surveys open or
        recently ended (their schedules and timers), ended surveys not yet in the store, the
        transactions' decisions, caps, de-duplication, late-reply pointer, chat jobs for one of
        ``addresses``; cases are kept for staff, their excerpts removed. Returns counts of
        each and the references of the cases changed."""
        shard = self.shard_of(person)

        async def scan(name: str) -> list[str]:
            return [k async for k in self.redis.scan_iter(match=f"{self._k(person, name)}:*")]

        surveys, txns, case_keys = await scan("survey"), await scan("txn"), await scan("case")
        refs = [survey_ref(person, key.rsplit(":", 1)[1]) for key in surveys]
        refs += await self.open_surveys(person)  # scheduled ones not yet sent have keys too
        pipe = self.redis.pipeline(transaction=False)
        for ref in set(refs):
            pipe.zrem(self.k_due(shard), ref)
            pipe.zrem(self.k_timers(shard), *timer_members(ref))
        existing = [self.k_person(person), self.k_closed(person), self.k_inbound(person),
                    self.k_notice(person)]  # fmt: skip
        pipe.exists(*existing)
        pipe.delete(*surveys, *txns, *existing)
        replies = await pipe.execute()
        pending = 0
        for key, mine in (
            (self.k_ended(shard), lambda f: orjson.loads(f["record"]).get("person") == person),
            (self.k_dead(shard), lambda f: orjson.loads(f["record"]).get("person") == person),
            (self.k_work(shard), lambda f: _for_one_of(f, addresses)),
            (f"{self.k_work(shard)}:dead", lambda f: _for_one_of(f, addresses)),
        ):
            entries = cast(list[tuple[str, dict[str, str]]], await self.redis.xrange(key))
            for entry_id, fields in entries:
                try:
                    if not mine(fields):
                        continue
                except (KeyError, orjson.JSONDecodeError):
                    continue
                pending += 1
                await self.redis.xdel(key, entry_id)
                await self.redis.hdel(self.k_retries(shard), entry_id)
        changed: list[str] = []
        for key in case_keys:
            ref = survey_ref(person, key.rsplit(":", 1)[1])
            case = await self.case(ref)
            if case is not None and case.get("excerpt"):
                await self.update_case(ref, lambda c: {**c, "excerpt": None})
                changed.append(ref)
        counts = {"surveys": len(surveys), "pending": pending, "decisions": len(txns),
                  "person_entries": int(replies[-2]), "case_excerpts": len(changed)}  # fmt: skip
        return counts, changed
