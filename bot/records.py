"""Survey records: the JSON value kept in Redis per survey and handed off when it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.catalog import Service
from bot.flow import Flow
from bot.policy import Decision
from bot.session import Session, disposition
from bot.state import SurveyRecord
from bot.transactions import Transaction


def new_record(
    survey_id: str,
    txn: Transaction,
    service: Service,
    flow: Flow,
    person: str,
    now: datetime,
    decision: Decision,
) -> SurveyRecord:
    """A survey as decided: scheduled, or suppressed (``decision.send_at`` is None)."""
    return {
        "survey_id": survey_id,
        "transaction_id": txn.transaction_id,
        "service": service.id,
        "channel": txn.channel,
        "person": person,
        "address": txn.to,
        "language": flow.language_for(txn.language or service.language),
        "recipient_timezone": txn.timezone,
        "flow_id": flow.id,
        "flow_version": flow.version,
        "attributes": txn.attributes,
        "completed_at": (txn.completed_at or now).isoformat(),
        "received_at": now.isoformat(),
        "send_at": decision.send_at.isoformat() if decision.send_at else None,
        "decision": {"status": decision.status, "reason": decision.reason},
        "status": "scheduled",
        "send_attempts": 0,
        "message_ids": [],
        "session": None,
    }


def ended(
    record: SurveyRecord,
    now: datetime,
    disposition_: str,
    *,
    reason: str | None = None,
    session: Session | None = None,
) -> SurveyRecord:
    """The record of a survey that has ended, without the raw address."""
    out: dict[str, Any] = {k: v for k, v in record.items() if k not in ("address", "pending")}
    out.update(status="ended", disposition=disposition_, ended_at=now.isoformat())
    if reason:
        out["reason"] = reason
    if session is not None:
        out["session"] = session.to_dict()
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
    session = Session.from_dict(record["session"]) if record.get("session") else None
    return ended(record, now, disposition_, reason=reason, session=session)
