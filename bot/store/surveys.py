"""Survey records in Redis: the record of each open survey, its compare-and-set change, its
hand-off to the ended stream, and what is kept for a late reply."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import orjson

from bot.core.records import SurveyRecord
from bot.store.base import StateBase
from bot.store.keys import CLOSED_TTL, INBOUND_TTL, is_ref, open_ref

# Status ranks: a callback may arrive late; a message's status never moves backwards.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
UNDELIVERABLE = frozenset({"undelivered", "failed", "canceled"})


class AlreadyHandled(Exception):
    """The inbound message was handled already (a provider's retry, or a concurrent copy)."""


@dataclass(frozen=True)
class Closed:
    """What is kept of an ended survey for a late reply: enough to answer it in its words."""

    service: str
    language: str
    flow_id: str


class Surveys(StateBase):
    """Survey records: read, changed atomically, handed off when they end."""

    async def survey(self, ref: str) -> SurveyRecord | None:
        raw = await self.redis.get(self.k_survey(ref))
        return cast(SurveyRecord, orjson.loads(raw)) if raw else None

    async def open_survey(self, person: str, channel: str) -> str | None:
        """The reference of the person's scheduled or open survey on a channel, if any."""
        return open_ref(person, await self.redis.hget(self.k_open(person), f"open:{channel}"))

    async def open_surveys(self, person: str) -> list[str]:
        """The references of every scheduled or open survey of a person, on any channel."""
        fields = cast(dict[str, str], await self.redis.hgetall(self.k_open(person)))
        return [ref for f, v in fields.items() if f.startswith("open:")
                if (ref := open_ref(person, v))]  # fmt: skip

    async def closed_survey(self, person: str, channel: str) -> Closed | None:
        """What is kept of the person's most recently ended survey on a channel (for
        ``CLOSED_TTL``), if any: its service, language and flow."""
        value = await self.redis.hget(self.k_closed(person), channel)
        if not value:
            return None
        service, _, rest = str(value).partition("|")
        language, _, flow_id = rest.partition("|")
        return Closed(service, language, flow_id) if flow_id else None

    async def update_survey(
        self,
        ref: str,
        change: Callable[[SurveyRecord], SurveyRecord | None],
        current: SurveyRecord | None = None,
        responded: datetime | None = None,
        message: tuple[str, str] | None = None,
    ) -> SurveyRecord | None:
        """Apply ``change`` to a survey record atomically; returns the record as it now is.

        ``change`` gets a copy and returns the new record, or None to leave it as it is. The
        write is a compare-and-set on the record's revision, retried on a conflict, so pass
        ``current`` when the record was just read to save a round trip. A record whose status
        becomes ``ended`` is handed off to the ended-surveys stream in the same script, its
        person's open pointer cleared and a closed pointer kept for late replies. With
        ``responded``, the person's response cool-down starts then, in the same write. With
        ``message`` (person, message key), that inbound message is marked handled in the same
        write, and AlreadyHandled is raised when it was: an answer and its mark are kept or lost
        together, so a retry of a message whose answer was not kept is answered again.
        """
        key = self.k_survey(ref)
        survey_id = ref.partition("/")[2]

        async def write(revision: int, before: SurveyRecord, after: SurveyRecord) -> bool:
            ending = after["status"] == "ended" and before["status"] != "ended"
            person, channel = after["person"], after["channel"]
            shard = self.shard_of(person)
            keys = [key, self.k_open(person), self.k_closed(person), self.k_ended(shard),
                    self.k_ended_count(shard), self.k_person(person), self.k_timers(shard),
                    self.k_due(shard)]  # fmt: skip
            if message is not None:
                keys.append(self.k_inbound(message[0]))
            language = (after.get("session") or {}).get("language") or after["language"]
            closed = f"{after['service']}|{language}|{after['flow_id']}"
            args = [revision, orjson.dumps(after), int(ending), channel, survey_id, CLOSED_TTL,
                    int(responded.timestamp()) if responded else "", INBOUND_TTL,
                    message[1] if message else "", self.responded_ttl, closed, ref]  # fmt: skip
            written = int(await self.lua.survey_change(keys=keys, args=args))
            if written < 0:
                raise AlreadyHandled(message)
            return written == 1

        return await self.compare_and_set(key, change, write, current)

    async def open_counts(self, batch: int = 500) -> Counter[tuple[str, str, str]]:
        """How many surveys are scheduled or open, per (flow, version, service): found in each
        shard's schedule and timers, their records read a batch at a time (for an admin's
        confirmation page, not a hot path; a survey in the instant between the schedule and
        its first timer is not counted; an admin's trial is no survey)."""
        counts: Counter[tuple[str, str, str]] = Counter()
        for shard in self.shards:
            refs: set[str] = set()
            for key in (self.k_due(shard), self.k_timers(shard), self.k_timers_inflight(shard)):
                async for member, _ in self.redis.zscan_iter(key, count=1000):
                    kind, _, rest = str(member).partition(":")
                    if is_ref(str(member)):
                        refs.add(str(member))
                    elif kind == "survey" and is_ref(rest):
                        refs.add(rest)
            ordered = sorted(refs)
            for start in range(0, len(ordered), batch):
                raws = await self.redis.mget(
                    [self.k_survey(r) for r in ordered[start : start + batch]]
                )
                for raw in raws:
                    if raw:
                        record = orjson.loads(raw)
                        if record.get("status") != "ended" and not record.get("trial"):
                            counts[(record["flow_id"], record["flow_version"],
                                    record["service"])] += 1  # fmt: skip
        return counts

    async def ended_records(self) -> list[SurveyRecord]:
        """Every record in the ended-surveys stream, oldest first (the consent changes it
        also carries left out)."""
        shards = await self.each_shard(lambda pipe, s: pipe.xrange(self.k_ended(s)))
        entries = sorted(  # by id alone: two shards' entries may share one
            ((tuple(map(int, entry_id.split("-"))), fields) for shard in shards
             for entry_id, fields in shard),
            key=lambda entry: entry[0],
        )  # fmt: skip
        return [cast(SurveyRecord, orjson.loads(fields["record"]))
                for _, fields in entries if "record" in fields]  # fmt: skip

    async def hand_off(self, person: str, record: str) -> None:
        """Append an ended-survey record to its shard's stream (tests, replays)."""
        await self.redis.xadd(self.k_ended(self.shard_of(person)), {"record": record})
