"""Builders of realistic survey and response records for tests (through the real engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core import engine, response
from bot.core.flowfile import load_flows
from bot.core.records import ended_by_session
from bot.core.response import ResponseRecord
from bot.registry import kinds, reported

FLOWS = load_flows()
KINDS = kinds()
REPORTED = reported(KINDS)
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CONTEXT = {"agency": "Example Agency", "service": "Benefits", "omb_control_number": "1234-5678"}


def ended_survey(
    number: int,
    replies: list[str],
    *,
    flow_id: str = "a11-v2-thumbs",
    service: str = "benefits-application",
    channel: str = "sms",
    completed_at: datetime = T0,
    expire: bool = False,
    language: str = "en",
    offered_drivers: tuple[str, ...] | None = None,
    ended_after: timedelta = timedelta(minutes=10),
    first_reply_after: timedelta = timedelta(minutes=5),
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A survey record as the state layer hands it off when the survey ends."""
    flow = FLOWS[flow_id]
    step = engine.start(
        flow, now=completed_at, context=CONTEXT, language=language, offered_drivers=offered_drivers
    )
    session = step.session
    for text in replies:
        session = engine.reply(flow, session, text, completed_at + first_reply_after).session
    if expire or not session.ended:
        session = engine.expire(flow, session, completed_at + timedelta(days=3)).session
    survey = {
        "survey_id": f"{number:032x}",
        "transaction_id": f"txn-{number}",
        "service": service,
        "channel": channel,
        "person": f"{number + 10**6:032x}",
        "language": language,
        "flow_id": flow.id,
        "flow_version": flow.version,
        "attributes": attributes or {},
        "completed_at": completed_at.isoformat(),
        "received_at": completed_at.isoformat(),
        "send_at": completed_at.isoformat(),
        "status": "active",
        "message_ids": [f"SM{number:032x}"],
        "invited_at": completed_at.isoformat(),
        "first_reply_at": (completed_at + first_reply_after).isoformat() if replies else None,
    }
    return ended_by_session(survey, session, completed_at + ended_after)


def response_record(number: int, replies: list[str], **kw: Any) -> ResponseRecord:
    survey = ended_survey(number, replies, **kw)
    return response.build(survey, FLOWS[survey["flow_id"]], REPORTED[survey["channel"]])
