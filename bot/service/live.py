"""Surveys taken live on a link (a call): a session takes the survey a link opens, answers go
through the same conversation as a text's, and the session's end ends the survey.

A survey is held by one live session (the call that first opened its link): any other is
refused, so a link is used once; the survey ends when its session does (the caller hung up:
partial with what was answered), or when the person is never reached (undeliverable). Opening
the link is the survey's delivery, as for web chat: a survey still scheduled starts then.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core import engine
from bot.core.channels import Inbound, Live
from bot.core.engine import Step
from bot.core.records import SurveyRecord, end_unless_ended, ended, stored_session
from bot.core.session import disposition as disposition_of
from bot.service import conversation, delivery
from bot.service.runtime import Runtime

log = logging.getLogger("bot.live")


async def take(
    rt: Runtime, holder: str, token: str | None = None, ref: str | None = None
) -> Live | None:
    """A live session takes the survey of a link's token (or of ``ref``, a session the bot
    started); what to say: the intro and the question the first time, the question after."""
    placed = ref is not None  # a session the bot started (a call-back)
    if ref is None:
        # A token opens its survey; without one, the session asks again for what it holds.
        ref = await (rt.state.linked(token) if token else rt.state.held(holder))
        if ref is None:
            return None
    record = await rt.state.survey(ref)
    if record is not None and record["status"] == "scheduled":
        if rt.clock() >= _link_dies(rt, record):
            await leave(rt, holder, ref, "link_expired", "expired")
            return None
        await delivery.deliver(rt, ref, opened=True)
        record = await rt.state.survey(ref)
    # A call the bot placed may be answered before the provider's answer to placing it has
    # been noted (the survey still "sending", its session already started).
    started = bool(placed and record and record["status"] == "sending" and record.get("session"))
    if record is None or not (record["status"] == "active" or started):
        return None
    flow, session = rt.flow_of(record), rt.session(record)
    ttl = max(1, int((session.expires_at - rt.clock()).total_seconds()))
    held = await rt.state.hold(ref, holder, ttl)
    if held is None:
        log.warning("link refused: held by another session survey=%s", record["survey_id"])
        return None
    said = []
    if held == "new" and not session.answers:
        said.append(engine.message(flow, session, "intro"))
    if session.question is not None:
        said.append(engine.question_text(flow, session, flow.question(session.question)))
    return Live(tuple(said), session.language, engine.prompt(flow, session))


async def say(rt: Runtime, holder: str, text: str, message_id: str) -> Live | None:
    """An answer in the survey a session holds, and what to say next."""
    ref = await rt.state.held(holder)
    record = await rt.state.survey(ref) if ref else None
    if ref is None or record is None or record["status"] not in ("active", "sending"):
        return None
    msg = Inbound(record["channel"], record["address"], text, message_id)
    reply = await conversation.handle(rt, msg)
    after = await rt.state.survey(ref)
    if after is not None and after["status"] == "active":
        flow, session = rt.flow_of(after), rt.session(after)
        said = reply.messages
        if reply.duplicate and not said and session.question is not None:
            said = (engine.question_text(flow, session, flow.question(session.question)),)
        return Live(said, session.language, engine.prompt(flow, session))
    language = rt.session(record).language
    return Live(tuple(m for m in reply.messages if m), language, None)


LATE_SECONDS = 3600  # how long a transcription may take to come (Twilio's: minutes)


async def later(rt: Runtime, holder: str) -> Live | None:
    """The answer now asked for comes after the session (a transcription): the closing is said
    now, and the session's end leaves the survey open for the answer (or for its expiry)."""
    ref = await rt.state.held(holder)
    record = await rt.state.survey(ref) if ref else None
    if record is None or record["status"] != "active":
        return None
    await rt.state.expect_late(holder, LATE_SECONDS)
    flow, session = rt.flow_of(record), rt.session(record)
    return Live((engine.message(flow, session, "closing"),), session.language, None)


async def late(rt: Runtime, holder: str, text: str, message_id: str) -> None:
    """The late answer: taken as the session's answer, then the survey ends (the session
    has): completed, or partial when questions were left."""
    if not await rt.state.late_expected(holder):
        return
    await say(rt, holder, text, message_id)
    await rt.state.late_arrived(holder)
    await leave(rt, holder, None, "hung_up")


async def leave(
    rt: Runtime, holder: str, ref: str | None, reason: str, disposition: str | None = None
) -> None:
    """A session ended: its survey ends with what was answered, or with ``disposition``; not
    while an answer is still to come (``later``)."""
    if disposition is None and await rt.state.late_expected(holder):
        return
    ref = ref or await rt.state.held(holder)
    if ref is None:
        return
    now = rt.clock()

    def end(current: SurveyRecord) -> SurveyRecord | None:
        if disposition is not None:
            return end_unless_ended(current, now, disposition, reason)
        if current["status"] not in ("active", "sending") or not current.get("session"):
            return None
        step = _hung_up(rt, current, now)
        return ended(current, now, disposition_of(step.session), reason=reason,
                     session=step.session)  # fmt: skip

    updated = await rt.state.update_survey(ref, end)
    if disposition is not None and updated is not None and updated["status"] == "ended":
        log.info("live session ended survey=%s disposition=%s", updated["survey_id"], disposition)
        return
    if updated is not None and updated["status"] == "ended":
        log.info("live session ended survey=%s reason=%s", updated["survey_id"], reason)


def _hung_up(rt: Runtime, record: SurveyRecord, now: datetime) -> Step:
    # The person left: the session closes as an expired one does, keeping its answers.
    return engine.expire(rt.flow_of(record), stored_session(record), now)


def _link_dies(rt: Runtime, record: SurveyRecord) -> datetime:
    """When a link not yet opened dies: the service's expiry after the survey was due."""
    service = rt.services[record["service"]]
    since = datetime.fromisoformat(record.get("received_at") or record["completed_at"])
    return since + service.delay + service.expiry
