"""Queues in Redis: invitations scheduled (a sorted set per shard) and due to send (a stream
with a consumer group), and the surveys' timers (claimed, finished, recovered)."""

from __future__ import annotations

from bot.store.base import StateBase
from bot.store.consumers import SEND_GROUP
from bot.store.keys import timer_members


class Queues(StateBase):
    """The schedules, send streams and timers of every shard."""

    async def ended_count(self) -> int:
        """How many surveys have ended (or been suppressed) since the state began."""
        counts = await self.each_shard(lambda pipe, s: pipe.get(self.k_ended_count(s)))
        return sum(int(c or 0) for c in counts)

    async def queue_sizes(self) -> dict[str, int]:
        """Invitations scheduled and due to send, timers pending, ended surveys unforwarded."""
        pipe = self.redis.pipeline(transaction=False)
        for shard in self.shards:
            pipe.zcard(self.k_due(shard))
            pipe.xlen(self.k_send(shard))
            pipe.zcard(self.k_timers(shard))
            pipe.xlen(self.k_ended(shard))
        values = [int(v) for v in await pipe.execute()]
        names = ("scheduled", "sending", "timers", "unforwarded")
        return {name: sum(values[i::4]) for i, name in enumerate(names)}

    async def pump_due(self, now: float, limit: int = 500) -> int:
        """Move invitations whose time has come from the schedules to the send streams."""
        moved = await self.lua.pump.run_many(
            ([self.k_due(s), self.k_send(s)], [now, limit]) for s in self.shards
        )
        return sum(int(m) for m in moved)

    async def take_sends(
        self, consumer: str, *, count: int = 100, stalled_ms: int
    ) -> list[tuple[str, str]]:
        """Send-stream entries for this worker, from every shard: first those a dead worker left
        unfinished for ``stalled_ms``, then new ones. Each is (entry id, survey reference)."""
        per_shard = max(1, count // len(self.shards))
        replies = await self.each_shard(
            lambda pipe, s: (
                pipe.xautoclaim(self.k_send(s), SEND_GROUP, consumer, stalled_ms, "0-0",
                                count=per_shard),
                pipe.xreadgroup(SEND_GROUP, consumer, {self.k_send(s): ">"}, count=per_shard),
            )
        )  # fmt: skip
        entries: list[tuple[str, dict[str, str]]] = []
        for claimed, fresh in zip(replies[0::2], replies[1::2], strict=True):
            # Redis 6.2 answers [cursor, entries]; 7 adds the ids of deleted entries.
            entries.extend((i, f) for i, f in claimed[1] if f)
            for _stream, items in fresh or []:
                entries.extend((i, f) for i, f in items if f)
        return [(i, f["ref"]) for i, f in entries]

    async def done_send(self, ref: str, entry_id: str) -> None:
        await self.lua.ack(keys=[self.k_send(self.shard_of_ref(ref))], args=[SEND_GROUP, entry_id])

    async def claim_timers(self, now: float, limit: int = 100) -> list[str]:
        claimed = await self.lua.claim.run_many(
            ([self.k_timers(s), self.k_timers_inflight(s)], [now, limit]) for s in self.shards
        )
        return [str(member) for members in claimed for member in members]

    def _timer_shard(self, member: str) -> str:
        return self.shard_of_ref(member.partition(":")[2])

    async def finish_timer(self, member: str) -> None:
        await self.redis.zrem(self.k_timers_inflight(self._timer_shard(member)), member)

    async def schedule(self, ref: str, when: float) -> None:
        await self.redis.zadd(self.k_due(self.shard_of_ref(ref)), {ref: when})

    async def clear_timers(self, ref: str) -> None:
        """Drop a survey's reminder and expiry timers."""
        await self.redis.zrem(self.k_timers(self.shard_of_ref(ref)), *timer_members(ref))

    async def set_timer(self, member: str, when: float) -> None:
        """Set a timer; ``member`` is ``<kind>:<survey reference>``."""
        await self.redis.zadd(self.k_timers(self._timer_shard(member)), {member: when})

    async def recover_stalled_timers(self, older_than: float, now: float) -> int:
        """Put timers claimed by a worker that died back on their queues."""
        moved = await self.lua.recover.run_many(
            ([self.k_timers(s), self.k_timers_inflight(s)], [older_than, now]) for s in self.shards
        )
        return sum(int(m) for m in moved)
