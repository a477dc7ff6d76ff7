"""Survey links in Redis: the token of a ``survey_url`` and the survey it opens, kept as long
as the survey can be open (a survey that has ended leaves Redis, so its link opens nothing)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.store.base import StateBase


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
