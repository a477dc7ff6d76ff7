"""De-duplication in Redis: inbound message ids handled for a person, and requests (Slack
events, signatures) seen within a window."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import cast

import orjson

from bot.core.records import SurveyRecord
from bot.store.base import StateBase
from bot.store.keys import INBOUND_TTL, open_ref, survey_ref


class Dedup(StateBase):
    """Messages and requests seen before."""

    async def inbound(
        self, message_id: str, person: str, channel: str, scopes: Iterable[str]
    ) -> tuple[bool, str | None, bool | None, SurveyRecord | None]:
        """In one round trip: is this message id not handled yet?, the person's open survey
        on this channel (reference and record), and whether the person has opted out (any
        scope; None: Redis cannot tell, its opt-outs being restored from the store: see
        ``bot.store.consent``). Nothing is marked here: see ``mark_inbound`` and
        ``update_survey``."""
        first, open_value, opted_out, raw = await self.lua.inbound(
            keys=[self.k_inbound(person), self.k_open(person), self.k_optouts_of(person)],
            args=[channel, self.k_survey(survey_ref(person, "")), message_id,
                  *self.optout_members(person, scopes)],
        )  # fmt: skip
        record = cast(SurveyRecord, orjson.loads(raw)) if raw else None
        known = None if opted_out == -1 else bool(opted_out)
        return bool(first), open_ref(person, open_value), known, record

    async def mark_inbound(self, person: str, message_id: str) -> bool:
        """Mark an inbound message handled; False when it was already."""
        key = self.k_inbound(person)
        # Sent in the same turn: one write on the pipelined connection.
        new, _ = await asyncio.gather(self.send("HSETNX", key, message_id, "1"),
                                      self.send("EXPIRE", key, INBOUND_TTL))  # fmt: skip
        return bool(new)

    async def first_time(self, kind: str, key: str, ttl: int) -> bool:
        """True the first time ``key`` is seen within ``ttl`` seconds (de-duplication)."""
        return bool(await self.redis.set(self.k_seen(kind, key), "1", nx=True, ex=ttl))

    async def forget(self, kind: str, key: str) -> None:
        """Let ``key`` be seen for the first time again (its handling failed)."""
        await self.redis.delete(self.k_seen(kind, key))
