"""Survey links in Redis: the token of a ``survey_url`` and the survey it opens, kept as long
as the survey can be open (a survey that has ended leaves Redis, so its link opens nothing); and
the live session (a call) that holds a survey, so that a link opens one session only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from bot.store.base import StateBase

Held = Literal["new", "same"] | None


class Links(StateBase):
    """Tokens of survey links, each under a hash tag of its own."""

    def k_link(self, token: str) -> str:
        return f"{self.p}:link:{{{token}}}"

    async def add_links(self, links: Iterable[tuple[str, str, int]]) -> None:
        """Keep (token, survey reference, seconds) for each link, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for token, ref, ttl in links:
            pipe.set(self.k_link(token), ref, ex=ttl)
        await pipe.execute()

    async def linked(self, token: str) -> str | None:
        """The reference of the survey a token opens, if the link is alive."""
        ref = await self.redis.get(self.k_link(token))
        return str(ref) if ref else None

    def k_holder(self, ref: str) -> str:
        return f"{self.p}:holder:{{{ref}}}"

    def k_held(self, holder: str) -> str:
        return f"{self.p}:held:{{{holder}}}"

    async def hold(self, ref: str, holder: str, ttl: int) -> Held:
        """A live session (a call) takes a survey for ``ttl`` seconds: ``new`` for the first
        holder, ``same`` when it holds it already, None when another does (a link is used
        once). The holder's key is written after the survey's: a crash between them loses
        only the way from a status callback back to the survey (it expires as it would)."""
        if await self.redis.set(self.k_holder(ref), holder, nx=True, ex=ttl):
            await self.redis.set(self.k_held(holder), ref, ex=ttl)
            return "new"
        current = await self.redis.get(self.k_holder(ref))
        return "same" if current is not None and str(current) == holder else None

    def k_late(self, holder: str) -> str:
        return f"{self.p}:late:{{{holder}}}"

    async def expect_late(self, holder: str, ttl: int) -> None:
        """A session's answer will come after it ends (a recording's transcription)."""
        await self.redis.set(self.k_late(holder), "1", ex=ttl)

    async def late_expected(self, holder: str) -> bool:
        return bool(await self.redis.exists(self.k_late(holder)))

    async def late_arrived(self, holder: str) -> None:
        await self.redis.delete(self.k_late(holder))

    async def held(self, holder: str) -> str | None:
        """The reference of the survey a live session holds, if any."""
        ref = await self.redis.get(self.k_held(holder))
        return str(ref) if ref else None
