"""Rate limits in Redis: a token bucket per sender (in message segments), shared by every
worker, and at most one no-open-survey notice a day to a person."""

from __future__ import annotations

from bot.store.base import StateBase
from bot.store.keys import DAY


class Limits(StateBase):
    """Rates: each sender's token bucket, the daily notice to a person, counters."""

    async def take_capacity(
        self, sender: str, segments: int, rate: float, burst: float, *, force: bool = False
    ) -> float:
        """Take ``segments`` from the sender's bucket; 0.0 when taken, else seconds to wait."""
        wait = await self.lua.bucket(
            keys=[self.k_bucket(sender)],
            args=[rate, max(burst, segments), segments, "1" if force else "0"],
        )
        return float(wait)

    async def notice_due(self, person: str) -> bool:
        """True at most once a day per person: the no-open-survey answer."""
        return bool(await self.redis.set(self.k_notice(person), "1", nx=True, ex=DAY))

    async def count(self, kind: str, key: str, window: int) -> int:
        """Add one to a counter that lives ``window`` seconds from its first count (a fixed
        window); the count so far."""
        name = self._k_count(kind, key)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(name, 0, ex=window, nx=True)  # EXPIRE NX needs Redis 7; the embedded is 6.2
        pipe.incr(name)
        return int((await pipe.execute())[1])

    async def counted(self, kind: str, key: str) -> int:
        """A counter's count so far in its window, without adding to it."""
        return int(await self.redis.get(self._k_count(kind, key)) or 0)

    def _k_count(self, kind: str, key: str) -> str:
        return f"{self.p}:count:{kind}:{{{key}}}"
