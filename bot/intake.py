"""``POST /v1/transactions``: validate, decide and schedule, idempotently per transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.policy import Decision, Person, decide
from bot.records import ended, new_record
from bot.runtime import Runtime
from bot.transactions import Transaction, validate

TXN_TTL = 400 * 86_400  # a repeat is answered with the first decision for over a year


def _decision_json(txn: Transaction, survey_id: str, decision: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {
        "transaction_id": txn.transaction_id,
        "survey_id": survey_id,
        "status": decision.status,
        "reason": decision.reason,
    }
    if decision.send_at is not None:
        out["send_at"] = decision.send_at.isoformat()
    return out


async def accept(rt: Runtime, items: list[Any]) -> tuple[list[dict[str, Any]], bool]:
    """Decide every item; returns the per-item results and whether any item was invalid."""
    results: list[dict[str, Any]] = [{} for _ in items]
    valid: list[tuple[int, Transaction]] = []
    invalid = False
    for i, item in enumerate(items):
        txn, errors = validate(item, rt.services)
        if txn is None:
            invalid = True
            results[i] = {"status": "invalid", "errors": errors}
            if isinstance(item, dict) and isinstance(item.get("transaction_id"), str):
                results[i]["transaction_id"] = item["transaction_id"]
        else:
            valid.append((i, txn))

    known = await rt.state.decisions([t.transaction_id for _, t in valid])
    fresh = [(i, t) for (i, t), k in zip(valid, known, strict=True) if k is None]
    for (i, _), k in zip(valid, known, strict=True):
        if k is not None:
            results[i] = json.loads(k)
    people = [(rt.person(t.to), t.channel) for _, t in fresh]
    known_people = await rt.state.people(people)
    for (i, txn), (person_id, _), person in zip(fresh, people, known_people, strict=True):
        results[i] = await _record(rt, txn, person_id, person)
    return results, invalid


async def _record(rt: Runtime, txn: Transaction, person_id: str, person: Person) -> dict[str, Any]:
    now = rt.clock()
    service = rt.services[txn.service]
    flow = rt.flows[service.flow]
    limits = rt.limits
    for _ in range(3):
        decision = decide(txn, service, now, person, sender=rt.sender(txn.channel), limits=limits)
        survey_id = uuid.uuid4().hex
        record = new_record(survey_id, txn, service, flow, person_id, now, decision)
        body = _decision_json(txn, survey_id, decision)
        scheduled = decision.status == "scheduled"
        result = await rt.state.record_intake(
            txn_id=txn.transaction_id,
            decision=body,
            person=person_id,
            channel=txn.channel,
            survey=record if scheduled else None,
            send_at=decision.send_at.timestamp() if decision.send_at else 0.0,
            ended=None if scheduled else ended(record, now, "suppressed", reason=decision.reason),
            txn_ttl=TXN_TTL,
            survey_ttl=rt.survey_ttl(service),
            cap_since=(now - limits.after_invitation).timestamp(),
        )
        if result.outcome == "conflict":
            # Another survey for this person was scheduled meanwhile: decide again knowing it.
            person = replace(person, open_survey_service=result.value.split(":", 1)[0])
        elif result.outcome == "capped":
            invited = datetime.fromtimestamp(float(result.value), UTC)
            person = replace(person, last_invited=invited)
        else:
            loaded: dict[str, Any] = json.loads(result.value)
            return loaded
    raise RuntimeError("intake did not settle")  # pragma: no cover
