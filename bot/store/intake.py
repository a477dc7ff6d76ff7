"""Intake in Redis: each transaction's first decision (kept for repeats), the people it
concerns (opt-outs, open surveys, caps), and the survey it schedules, in one script per item."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from bot.core.policy import Person
from bot.core.records import SurveyRecord, survey_ref
from bot.store.base import StateBase


def pack_decision(decision: dict[str, Any]) -> str:
    """A decision as the transaction's idempotency key keeps it: ``status|reason|survey id|
    send at`` and, for a survey taken by link, ``|link`` (the transaction id is in the key's
    name)."""
    fields = [decision["status"], decision["reason"] or "", decision["survey_id"],
              decision.get("send_at", "")]  # fmt: skip
    if decision.get("link"):
        fields.append(decision["link"])
    return "|".join(fields)


def unpack_decision(txn_id: str, packed: str) -> dict[str, Any]:
    """The decision a repeat of ``txn_id`` gets: the one recorded first."""
    if packed.startswith("{"):  # kept whole by earlier versions
        return cast(dict[str, Any], orjson.loads(packed))
    status, reason, survey_id, send_at, *link = packed.split("|", 4)
    out: dict[str, Any] = {"transaction_id": txn_id, "survey_id": survey_id, "status": status,
                           "reason": reason or None}  # fmt: skip
    if send_at:
        out["send_at"] = send_at
    if link:
        out["link"] = link[0]
    return out


def _moment(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


@dataclass(frozen=True)
class IntakeRequest:
    """One decision to record: scheduled (with its survey) or suppressed (ended at once)."""

    txn_id: str
    decision: dict[str, Any]
    person: str
    channel: str
    survey: SurveyRecord | None
    send_at: float
    ended: SurveyRecord | None
    txn_ttl: int
    survey_ttl: int
    cap_since: float = 0.0


@dataclass(frozen=True)
class IntakeResult:
    """What the intake script did: ``ok``, ``exists``, ``conflict`` or ``capped``."""

    outcome: str
    value: str


class Intake(StateBase):
    """Transactions' decisions, recorded once, with the people they concern."""

    async def decisions(self, transactions: list[tuple[str, str]]) -> list[str | None]:
        """The decisions already recorded for these (person, transaction id) pairs."""
        if not transactions:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for person, txn_id in transactions:
            pipe.get(self.k_txn(person, txn_id))
        return cast(list[str | None], await pipe.execute())

    async def people(
        self, people: list[tuple[str, str, Iterable[str]]]
    ) -> list[tuple[Person, bool]]:
        """For each (pseudonym, channel, consent scopes that forbid the survey): the scopes
        opted out of, the open survey's service on that channel, and when the person was last
        invited and last responded; with whether Redis's opt-outs for the person are whole
        (False: being restored from the store, which must be asked: ``bot.store.consent``)."""
        replies = await self.lua.person.run_many(
            ([self.k_optouts_of(p), self.k_open(p), self.k_person(p)],
             [channel, *self.optout_members(p, scopes)])
            for p, channel, scopes in people
        )  # fmt: skip
        out: list[tuple[Person, bool]] = []
        for members, open_value, invited, responded, restored in replies:
            out.append((
                Person(
                    opted_out=frozenset(m.partition("|")[2] for m in members),
                    open_survey_service=open_value.split(":", 1)[0] if open_value else None,
                    last_invited=_moment(invited),
                    last_responded=_moment(responded),
                ),
                bool(restored),
            ))  # fmt: skip
        return out

    async def record_intakes(self, requests: list[IntakeRequest]) -> list[IntakeResult]:
        """Record decisions once per transaction id, each scheduling its survey atomically,
        all in one round trip (scripts run in order, so a later item sees an earlier one).

        Outcomes: ``ok``; ``exists`` (the first decision); ``conflict`` (another survey is
        open for the person on the channel); ``capped`` (invited after ``cap_since``).
        """
        replies = await self.lua.intake.run_many(self._intake_args(r) for r in requests)
        return [IntakeResult(str(r[0]), str(r[1])) for r in replies]

    def _intake_args(self, r: IntakeRequest) -> tuple[list[str], list[Any]]:
        survey_id = r.decision["survey_id"]
        ref = survey_ref(r.person, survey_id)
        service = r.survey["service"] if r.survey else ""
        shard = self.shard_of(r.person)
        keys = [
            self.k_txn(r.person, r.txn_id),
            self.k_survey(ref),
            self.k_due(shard),
            self.k_open(r.person),
            self.k_ended(shard),
            self.k_ended_count(shard),
            self.k_person(r.person),
        ]
        args = [
            pack_decision(r.decision),
            r.decision["status"],
            orjson.dumps(r.survey) if r.survey else "",
            f"{service}:{survey_id}",
            r.channel,
            int(r.send_at),  # whole seconds (the sending rechecks the quiet hours)
            r.txn_ttl,
            r.survey_ttl,
            orjson.dumps(r.ended) if r.ended else "",
            ref,
            r.cap_since,
            self.invited_ttl,
        ]
        return keys, args
