"""``POST /v1/transactions``: validate, decide and schedule, idempotently per transaction."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.core.catalog import Service
from bot.core.errors import RetryableError
from bot.core.flow import Flow
from bot.core.policy import Decision, Person, decide
from bot.core.records import ended, new_record, survey_ref
from bot.core.session import stamp
from bot.core.transactions import Transaction, validate
from bot.service import consent
from bot.service.runtime import Runtime
from bot.store.intake import IntakeRequest, unpack_decision


def _public(rt: Runtime, result: dict[str, Any], channel: str | None) -> dict[str, Any]:
    """A result as the API answers it: a survey taken by link carries its link, named as its
    channel names it (``survey_url``, ``voice_url``)."""
    token = result.pop("link", None)
    if token:
        name, url = rt.survey_url(token, channel or "webchat")
        result[name] = url
    return result


def _decision_json(txn: Transaction, survey_id: str, decision: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {
        "transaction_id": txn.transaction_id,
        "survey_id": survey_id,
        "status": decision.status,
        "reason": decision.reason,
    }
    if decision.send_at is not None:
        out["send_at"] = stamp(decision.send_at)
    return out


async def accept(rt: Runtime, items: list[Any]) -> tuple[list[dict[str, Any]], bool]:
    """Decide every item; returns the per-item results and whether any item was invalid."""
    results: list[dict[str, Any]] = [{} for _ in items]
    valid: list[tuple[int, Transaction]] = []
    invalid = False
    services = rt.services
    now = rt.clock()
    for i, item in enumerate(items):
        txn, errors = validate(item, services, now, rt.kinds, rt.settings.channels)
        if txn is None:
            invalid = True
            results[i] = {"status": "invalid", "errors": errors}
            if (
                isinstance(item, dict)
                and isinstance(item.get("transaction_id"), str)
                and ("transaction_id" not in errors)
            ):
                results[i]["transaction_id"] = item["transaction_id"]
        else:
            valid.append((i, txn))

    persons = [rt.person(t.to) for _, t in valid]
    known = await rt.state.decisions(
        [(p, t.transaction_id) for p, (_, t) in zip(persons, valid, strict=True)]
    )
    fresh: list[tuple[int, Transaction, str]] = []
    for (i, txn), person_id, decided in zip(valid, persons, known, strict=True):
        if decided is not None:  # a repeat gets the first decision
            results[i] = unpack_decision(txn.transaction_id, decided)
        else:
            fresh.append((i, txn, person_id))
    asked = [(p, rt.scopes(services[t.service], t.channel)) for _, t, p in fresh]
    in_redis = await rt.state.people(
        [(p, t.channel, s) for (_, t, _), (p, s) in zip(fresh, asked, strict=True)]
    )
    # Where Redis's opt-outs are being restored, the store says who opted out.
    known_people = await consent.complete(rt, asked, in_redis)
    pending = [
        (i, txn, person_id, person)
        for (i, txn, person_id), person in zip(fresh, known_people, strict=True)
    ]
    for _ in range(3):
        requests = [
            _request(rt, services[txn.service], txn, person_id, person, now)
            for _, txn, person_id, person in pending
        ]
        # A link is kept before its survey: a survey is never without the link it was given.
        await rt.state.add_links(
            (r.decision["link"], survey_ref(r.person, r.decision["survey_id"]), r.survey_ttl)
            for r in requests
            if r.decision.get("link")
        )
        outcomes = await rt.state.record_intakes(requests)
        retry = []
        for (i, txn, person_id, person), outcome in zip(pending, outcomes, strict=True):
            if outcome.outcome == "conflict":
                # Another survey for this person was scheduled meanwhile: decide again.
                service = outcome.value.split(":", 1)[0]
                retry.append((i, txn, person_id, replace(person, open_survey_service=service)))
            elif outcome.outcome == "capped":
                invited = datetime.fromtimestamp(float(outcome.value), UTC)
                retry.append((i, txn, person_id, replace(person, last_invited=invited)))
            else:
                results[i] = unpack_decision(txn.transaction_id, outcome.value)
        pending = retry
        if not pending:
            channels = {i: txn.channel for i, txn in valid}
            return [_public(rt, r, channels.get(i)) for i, r in enumerate(results)], invalid
    # Only a storm of concurrent intakes for the same people gets here: let the caller retry.
    raise RetryableError("transactions for the same people arrived concurrently; retry")


def _request(
    rt: Runtime, service: Service, txn: Transaction, person_id: str, person: Person, now: datetime
) -> IntakeRequest:
    limits = rt.limits
    decision = decide(txn, service, now, person, sender=rt.sender(txn.channel),
                      texting=rt.texting(txn.channel), limits=limits)  # fmt: skip
    survey_id = uuid.uuid4().hex
    record = new_record(survey_id, txn, service, rt.flows[service.flow], person_id, now, decision)
    scheduled = decision.status == "scheduled"
    decided = _decision_json(txn, survey_id, decision)
    if scheduled and rt.by_link(txn.channel):
        decided["link"] = secrets.token_urlsafe(16)  # 128 random bits: the survey's link
    return IntakeRequest(
        txn_id=txn.transaction_id,
        decision=decided,
        person=person_id,
        channel=txn.channel,
        survey=record if scheduled else None,
        send_at=decision.send_at.timestamp() if decision.send_at else 0.0,
        ended=None if scheduled else ended(record, now, "suppressed", reason=decision.reason),
        txn_ttl=rt.idempotency_ttl(service),
        survey_ttl=rt.survey_ttl(service),
        cap_since=(now - limits.after_invitation).timestamp() if limits.after_invitation else 0.0,
    )


TRIAL_SECONDS = 3600  # how long an admin's try of a flow stays open


async def trial(rt: Runtime, flow: Flow, service: Service, language: str) -> str:
    """A survey of ``flow`` (any stored version) for an admin to take on the web chat page,
    as a person would; the link's token. No person is behind it and nothing it gathers is
    recorded: the outbox drops a trial's record, and its answers raise no alert."""
    now = rt.clock()
    address = f"trial-{secrets.token_hex(12)}"
    txn = Transaction(f"trial-{uuid.uuid4().hex}", service.id, "webchat", address,
                      language=language)  # fmt: skip
    person = rt.person(address)
    survey_id = uuid.uuid4().hex
    decision = Decision("scheduled", "trial", send_at=now)
    record = new_record(survey_id, txn, service, flow, person, now, decision)
    record["trial"] = True
    decided = _decision_json(txn, survey_id, decision)
    decided["link"] = token = secrets.token_urlsafe(16)
    await rt.state.add_links([(token, survey_ref(person, survey_id), TRIAL_SECONDS)])
    await rt.state.record_intakes([IntakeRequest(
        txn_id=txn.transaction_id, decision=decided, person=person, channel=txn.channel,
        survey=record, send_at=now.timestamp(), ended=None, txn_ttl=TRIAL_SECONDS,
        survey_ttl=TRIAL_SECONDS,
    )])  # fmt: skip
    return token
