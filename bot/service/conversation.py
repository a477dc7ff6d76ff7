"""Inbound messages: de-duplicated, screened for keywords, then answered by the engine."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from functools import partial
from typing import Any, TypedDict

from bot.core import engine, replies
from bot.core.channels import Inbound, Prompt, Reply
from bot.core.errors import PermanentError
from bot.core.keywords import keyword
from bot.core.records import SurveyRecord, end_unless_ended, ended_by_session, stored
from bot.core.session import stamp
from bot.core.text import clean, fold, is_clean
from bot.service import alerts, consent
from bot.service.runtime import Runtime
from bot.store.surveys import AlreadyHandled, Closed

log = logging.getLogger("bot.conversation")


async def handle(rt: Runtime, msg: Inbound, *, prompt: bool = False) -> Reply:
    """Everything to answer to one verified inbound message (often one text, maybe none),
    and, with ``prompt`` (chat, with buttons), the question now awaiting an answer.

    A click (``msg.question`` set) is taken only as the answer to that question of an open
    survey; otherwise nothing is recorded or sent, and the reply says why.
    """
    if not is_clean(msg.text):  # NUL and the like: no store keeps them (checked, cheaply)
        msg = dataclasses.replace(msg, text=clean(msg.text))
    try:
        return Reply(*await _handle(rt, msg, prompt))
    except _NotTaken as refused:
        return Reply(refusal=refused.args[0])
    except _Duplicate:
        return await _again(rt, msg)


class _NotTaken(Exception):
    """A click that is not an answer to its survey's open question."""


class _Duplicate(Exception):
    """The message was handled already."""


async def _handle(
    rt: Runtime, msg: Inbound, want_prompt: bool
) -> tuple[tuple[str, ...], Prompt | None]:
    state = rt.state
    person = rt.person(msg.address)
    scope = rt.scope(msg.channel)
    message = f"{msg.channel}:{msg.message_id}"
    scopes = frozenset(("all", scope))
    new, ref, opted_out, record = await state.inbound(message, person, msg.channel, scopes)
    if not new:
        raise _Duplicate
    if opted_out is None:  # Redis's opt-outs are being restored: the store answers
        opted_out = await consent.in_store(rt, person, scopes)
    now = rt.clock()
    word = keyword(msg.text)
    language = _language(msg.text, record, None)
    if word is None and not (record and record.get("trial")):
        # Safety before anything else, whatever the person's survey or consent state (an
        # admin trying a flow in the console is no one to worry about).
        service_id = record["service"] if record else None
        await alerts.screen_message(rt, person, ref, service_id, msg.channel, msg.message_id,
                                    msg.text)  # fmt: skip

    # START (and YES) is an answer for anyone who has not opted out.
    if word in (None, "start") and not opted_out and ref and record and _answerable(record):
        try:
            return await _answer(rt, msg, person, ref, record, message, now, language, want_prompt)
        except AlreadyHandled:
            raise _Duplicate from None
    if msg.question is not None and word != "stop":  # an opt-out is taken however it comes
        raise _NotTaken(replies.reply(replies.CLICK_CLOSED, language))
    # Everything else is marked handled before it acts, so a retry does not act twice.
    if not await state.mark_inbound(person, message):
        raise _Duplicate
    # Keywords and people without an open survey: what is known of their survey, open or
    # recently closed, says which service to name and in which language to answer.
    closed = None if record else await state.closed_survey(person, msg.channel)
    service = rt.services.get(record["service"] if record else closed.service if closed else "")
    language = _language(msg.text, record, closed)
    program = service.program if service else rt.settings.program_name
    if word == "stop":
        first = await consent.opt_out(rt, person, scope, "stop", msg.channel)
        await end_open_surveys(rt, person, "opted_out")
        log.info("opt-out recorded channel=%s new=%s", msg.channel, first)
        if not first:
            return (), None
        return (replies.opted_out(language, rt.interface(msg.channel), program),), None
    if opted_out:
        if word == "start":
            await consent.opt_in(rt, person, scope, msg.channel)
            log.info("opt-in recorded channel=%s", msg.channel)
            return (replies.reply(replies.OPTED_IN, language, program=program),), None
        return (), None  # never a survey message to an opted-out number
    if word == "help":
        contact = service.contact if service else rt.settings.help_contact
        return (replies.reply(replies.HELP, language, program=program, contact=contact),), None
    return await _no_open_survey(rt, person, language, closed)


async def _answer(
    rt: Runtime, msg: Inbound, person: str, ref: str, record: SurveyRecord,
    message: str, now: datetime, language: str, want_prompt: bool,
) -> tuple[tuple[str, ...], Prompt | None]:  # fmt: skip
    """A reply to the person's open survey, kept together with its message's mark."""
    await rt.flow_for(record["flow_id"], record["flow_version"])  # loaded, if just activated
    out: list[str] = []
    prompt: list[Prompt | None] = [None]

    stale_click: list[bool] = []

    def answer(current: SurveyRecord) -> SurveyRecord | None:
        stale_click.clear()
        if not _answerable(current):
            return None
        flow = rt.flow_of(current)
        session = rt.session(current)
        if msg.question is not None and msg.question != session.question:
            stale_click.append(True)  # a click on a question already answered
            return None
        step = engine.reply(flow, session, msg.text, now)
        out[:] = step.messages
        if want_prompt:
            prompt[0] = engine.prompt(flow, step.session)
        if "first_reply_at" not in current:
            current["first_reply_at"] = stamp(now)
        if step.session.ended:
            return ended_by_session(current, step.session, now)
        current["session"] = stored(step.session)
        return current

    first_reply = not record.get("first_reply_at")
    updated = await rt.state.update_survey(
        ref, answer, record, responded=now if first_reply else None, message=(person, message)
    )
    if stale_click:
        raise _NotTaken(replies.reply(replies.CLICK_ANSWERED, language))
    if updated is None or (not _answerable(updated) and not out):
        if msg.question is not None:
            raise _NotTaken(replies.reply(replies.CLICK_CLOSED, language))
        # Nothing written, the survey closed meanwhile: answer as if there were none, once.
        if not await rt.state.mark_inbound(person, message):
            raise _Duplicate
        closed = await rt.state.closed_survey(person, msg.channel)
        return await _no_open_survey(rt, person, language, closed)
    return ("\n".join(out),), prompt[0]


async def _again(rt: Runtime, msg: Inbound) -> Reply:
    """A message handled already (a provider's retry, or a copy). A provider retries when our
    first answer did not reach it, so the question the survey now asks is answered again (a
    click, or a survey with no open question, gets nothing)."""
    log.info("inbound duplicate channel=%s", msg.channel)
    ref = await rt.state.open_survey(rt.person(msg.address), msg.channel)
    record = await rt.state.survey(ref) if ref else None
    if msg.question is not None or record is None or not _answerable(record):
        return Reply(duplicate=True)
    flow = rt.flow_of(record)
    session = rt.session(record)
    if session.question is None:
        return Reply(duplicate=True)
    text = engine.question_text(flow, session, flow.question(session.question))
    return Reply((text,), duplicate=True)


async def answer_later(rt: Runtime, msg: Inbound) -> str | None:
    """Handle a chat message now and queue the answer's sending (chat APIs are slow and may be
    down); for a click that was not taken, return why (nothing was recorded or queued)."""
    reply = await handle(rt, msg, prompt=True)
    if reply.refusal is not None:
        return reply.refusal
    if reply.duplicate:  # a chat answer is queued once, and its sending retried: not again
        return None
    text = "\n".join(m for m in reply.messages if m)
    if text:  # never an empty message
        prompt = dataclasses.asdict(reply.prompt) if reply.prompt else None
        payload: SendJob = {"channel": msg.channel, "to": msg.address, "text": text,
                            "prompt": prompt}  # fmt: skip
        await rt.work.enqueue("send", payload, rt.state.shard_of(rt.person(msg.address)))
    return None


class SendJob(TypedDict):
    """The payload of job ``send``: a chat answer to send."""

    channel: str
    to: str
    text: str
    prompt: dict[str, Any] | None  # a Prompt as a dict


async def send_job(rt: Runtime, payload: SendJob) -> None:
    """Job ``send``: a chat answer, through the channel's adapter."""
    outbound = rt.outbound.get(payload["channel"])
    if outbound is None:
        raise PermanentError(f"channel {payload['channel']!r} is not enabled")
    raw = payload.get("prompt")
    prompt = Prompt(**{**raw, "options": tuple(map(tuple, raw["options"]))}) if raw else None
    await outbound.send(payload["channel"], payload["to"], payload["text"], prompt)


def register(rt: Runtime) -> None:
    rt.work.register("send", partial(send_job, rt))


async def end_open_surveys(rt: Runtime, person: str, disposition: str) -> None:
    """End every open survey of a person (STOP covers the number on every channel)."""
    now = rt.clock()
    for ref in await rt.state.open_surveys(person):
        await rt.state.update_survey(ref, lambda r: end_unless_ended(r, now, disposition))


async def _no_open_survey(
    rt: Runtime, person: str, language: str, closed: Closed | None
) -> tuple[tuple[str, ...], None]:
    # At most one short answer a day: a closed survey says so, anything else gets a pointer.
    if not await rt.state.notice_due(person):
        return (), None
    flow = rt.flows.get(closed.flow_id) if closed else None
    service = rt.services.get(closed.service) if closed else None
    if closed is not None and flow is not None and service is not None:
        text = engine.render_message(flow, "closed", closed.language, service.context())
        return (text,), None
    return (replies.reply(replies.NO_SURVEY, language, program=rt.settings.program_name),), None


def _answerable(record: SurveyRecord) -> bool:
    # "sending": the provider took the invitation and the person answered before we noted it.
    return record["status"] == "active" or (
        record["status"] == "sending" and record.get("session") is not None
    )


def _language(text: str, record: SurveyRecord | None, closed: Closed | None) -> str:
    """The language to answer in: Spanish for a Spanish keyword (AYUDA, PARAR), else the
    survey's (open, or recently closed), else English."""
    if fold(text) in replies.SPANISH_KEYWORDS:
        return "es"
    if record and record.get("session"):
        return str(record["session"]["language"])
    if record:
        return str(record["language"])
    return closed.language if closed else "en"
