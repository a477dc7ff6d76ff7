"""Survey records: the JSON value kept in Redis per survey and handed off when it ends."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal, Required, TypedDict, cast

from bot.core.catalog import Service
from bot.core.flow import Flow
from bot.core.policy import Decision
from bot.core.session import Session, disposition, stamp
from bot.core.sinks import Decided
from bot.core.transactions import Transaction
from bot.core.wording import Interface

SurveyStatus = Literal["scheduled", "sending", "active", "ended"]
# answering_machine: a call-back a machine answered (Twilio's AMD): not surveyed.
Disposition = Literal["completed", "partial", "expired", "opted_out", "undeliverable",
                      "suppressed", "answering_machine"]  # fmt: skip
DISPOSITIONS: tuple[Disposition, ...] = ("completed", "partial", "expired", "opted_out",
                                         "undeliverable", "suppressed",
                                         "answering_machine")  # fmt: skip


class SurveyRecord(TypedDict, total=False):
    """A survey as Redis keeps it while it is open, and as it is handed off when it ends (a
    plain dict at run time: it is stored with orjson). Times are ISO 8601 strings, but
    ``remind_at`` (seconds since the epoch); what a record can do without is left out."""

    rev: int  # its compare-and-set revision (first, see bot/store/lua/compare_and_set.lua)
    survey_id: Required[str]
    transaction_id: Required[str]
    service: Required[str]
    channel: Required[str]
    person: Required[str]  # the address's pseudonym
    address: str  # the raw address, removed when the survey ends
    language: Required[str]
    flow_id: Required[str]
    flow_version: Required[str]
    completed_at: Required[str]  # the transaction's time
    received_at: str  # when the bot heard of it, if not then
    recipient_timezone: str
    attributes: dict[str, Any]
    decision: Decided
    status: Required[SurveyStatus]
    message_ids: list[str]
    session: dict[str, Any]  # Session.to_dict without context and flow (``stored``)
    pending: str  # a message being sent (found again after a crash)
    sending_since: str
    sending_by: str  # which worker's send it is (only that one sends)
    send_attempts: int
    invited_at: str
    delivered_at: str
    delivery: int  # the rank of the invitation's best delivery status so far
    remind_at: int
    first_reply_at: str
    disposition: Disposition
    reason: str
    ended_at: str
    trial: bool  # an admin trying a flow in the console: ends without being recorded


_REF = re.compile(r"^[0-9a-f]{32}/[A-Za-z0-9]{1,64}$")


def is_ref(value: str) -> bool:
    """Whether a value from outside (a button's value) is a well-formed survey reference."""
    return bool(_REF.match(value))


def survey_ref(person: str, survey_id: str) -> str:
    """How the bot refers to a survey internally: its person's pseudonym and its id, so the
    survey's keys can be placed in the person's shard."""
    return f"{person}/{survey_id}"


def new_record(
    survey_id: str,
    txn: Transaction,
    service: Service,
    flow: Flow,
    person: str,
    now: datetime,
    decision: Decision,
) -> SurveyRecord:
    """A survey as decided: scheduled, or suppressed (``decision.send_at`` is None).

    What a record can do without is left out, as an open survey is kept in Redis and small:
    the time zone when the transaction gives none, the attributes when there are none, the
    time it was received when it is the transaction's own (``received_at``).
    """
    record: SurveyRecord = {
        "survey_id": survey_id,
        "transaction_id": txn.transaction_id,
        "service": service.id,
        "channel": txn.channel,
        "person": person,
        "address": txn.to,
        "language": flow.language_for(txn.language or service.language),
        "flow_id": flow.id,
        "flow_version": flow.version,
        "completed_at": stamp(txn.completed_at or now),
        "decision": {"status": decision.status, "reason": decision.reason},
        "status": "scheduled",
        "message_ids": [],
    }
    if txn.timezone:
        record["recipient_timezone"] = txn.timezone
    if txn.attributes:
        record["attributes"] = txn.attributes
    if txn.completed_at is not None:
        record["received_at"] = stamp(now)
    return record


def received_at(record: SurveyRecord) -> str:
    """When the bot was told of the transaction (its time, when it gave none)."""
    return str(record.get("received_at") or record["completed_at"])


def session_of(
    record: SurveyRecord, service: Service | None, interface: Interface = "text"
) -> Session:
    """A stored survey's session, with its rendering context: the service's placeholders and
    the transaction's attributes, and the interface of its channel. The record does not keep
    them: they are the catalog's and the channel's, and an open survey is kept small (see
    ``stored``)."""
    session = stored_session(record)
    context = {**(service.context() if service else session.context),
               "attributes": record.get("attributes", {})}  # fmt: skip
    return session.with_(context=context, interface=interface)


def stored_session(record: SurveyRecord) -> Session:
    """A stored survey's session as it was kept (no rendering context)."""
    data = record["session"]
    if "flow_id" not in data:  # kept once, in the record
        data = {**data, "flow_id": record["flow_id"], "flow_version": record["flow_version"]}
    return Session.from_dict(data)


def stored(session: Session) -> dict[str, Any]:
    """A session as a survey record keeps it: without its context and interface
    (``session_of``) and its flow (the record's own ``flow_id`` and ``flow_version``)."""
    data = session.to_dict(context=False)
    del data["flow_id"], data["flow_version"], data["interface"]
    return data


def ended(
    record: SurveyRecord,
    now: datetime,
    disposition_: str,
    *,
    reason: str | None = None,
    session: Session | None = None,
) -> SurveyRecord:
    """The record of a survey that has ended, without the raw address."""
    out = cast(SurveyRecord, {k: v for k, v in record.items() if k not in ("address", "pending")})
    out.update(
        {"status": "ended", "disposition": cast(Disposition, disposition_), "ended_at": stamp(now)}
    )
    if reason:
        out["reason"] = reason
    if session is not None:
        out["session"] = stored(session)
    return out


def ended_by_session(record: SurveyRecord, session: Session, now: datetime) -> SurveyRecord:
    """End a record as its session says: completed, partial or expired."""
    return ended(record, now, disposition(session), session=session)


def end_unless_ended(
    record: SurveyRecord, now: datetime, disposition_: str, reason: str | None = None
) -> SurveyRecord | None:
    """A survey record ended with a disposition, or None when it has already ended."""
    if record["status"] == "ended":
        return None
    session = stored_session(record) if record.get("session") else None
    return ended(record, now, disposition_, reason=reason, session=session)
