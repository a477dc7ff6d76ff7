"""``POST /v1/transactions``: validate, decide and schedule, idempotently per transaction."""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot.policy import Decision, decide
from bot.records import ended, new_record
from bot.runtime import Runtime
from bot.transactions import Transaction, validate

TXN_TTL = 400 * 86_400  # a repeat is answered with the first decision for over a year


def _decision_json(txn: Transaction, survey_id: str, decision: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {
        "transaction_id": txn.transaction_id,
        "survey_id": survey_id,
        "status": decision.status,
    }
    if decision.send_at is not None:
        out["send_at"] = decision.send_at.isoformat()
    if decision.reason is not None:
        out["reason"] = decision.reason
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
    statuses = await rt.state.people(people)
    for (i, txn), (person, _), (opted_out, open_service) in zip(
        fresh, people, statuses, strict=True
    ):
        results[i] = await _record(rt, txn, person, opted_out, open_service)
    return results, invalid


async def _record(
    rt: Runtime, txn: Transaction, person: str, opted_out: bool, open_service: str | None
) -> dict[str, Any]:
    now = rt.clock()
    service = rt.services[txn.service]
    flow = rt.flows[service.flow]
    for _ in range(2):
        decision = decide(txn, service, now, opted_out=opted_out, open_survey_service=open_service)
        survey_id = uuid.uuid4().hex
        record = new_record(survey_id, txn, service, flow, person, now, decision.send_at)
        body = _decision_json(txn, survey_id, decision)
        scheduled = decision.status == "scheduled"
        result = await rt.state.record_intake(
            txn_id=txn.transaction_id,
            decision=body,
            person=person,
            channel=txn.channel,
            survey=record if scheduled else None,
            send_at=decision.send_at.timestamp() if decision.send_at else 0.0,
            ended=None if scheduled else ended(record, now, "suppressed", reason=decision.reason),
            txn_ttl=TXN_TTL,
            survey_ttl=rt.survey_ttl(service),
        )
        if result.outcome != "conflict":
            loaded: dict[str, Any] = json.loads(result.value)
            return loaded
        # Another survey for this person was scheduled meanwhile: decide again knowing it.
        open_service = result.value.split(":", 1)[0]
    raise RuntimeError("intake conflict did not resolve")  # pragma: no cover
