"""Surveys taken by link (web chat): a link's token opens its survey, an answer on the page goes
through the same conversation as a text, and the survey is shown as it then is.

Opening a link is the survey's delivery: a survey still scheduled is started then (the same
path the worker takes, so the two never both start it). A survey that has ended is no longer
in Redis, so its link opens only "this survey has closed".
"""

from __future__ import annotations

from bot.core import engine, replies
from bot.core.channels import ChatView, Inbound, Turn
from bot.core.records import SurveyRecord
from bot.service import conversation, delivery
from bot.service.runtime import Runtime

CHANNEL = "webchat"


async def view(rt: Runtime, token: str) -> ChatView | None:
    """The survey a token opens (None: no such link)."""
    ref = await rt.state.linked(token)
    if ref is None:
        return None
    record = await _started(rt, ref)
    return _open(rt, record) if record is not None else await _closed(rt, ref)


async def answer(
    rt: Runtime, token: str, text: str, question: str | None, message_id: str
) -> ChatView | None:
    """An answer given on the page of a token's survey, and the survey as it then is."""
    ref = await rt.state.linked(token)
    if ref is None:
        return None
    record = await _started(rt, ref)
    if record is None:
        return await _closed(rt, ref)
    msg = Inbound(CHANNEL, record["address"], text, message_id, question=question)
    reply = await conversation.handle(rt, msg, prompt=True)
    after = await rt.state.survey(ref)
    if after is not None and after["status"] == "active":
        # A typed answer not understood: the hint is said above the same question.
        hint = "\n".join(reply.messages) if _reprompted(record, after) else None
        return _open(rt, after, note=reply.refusal or hint)
    said = "\n".join(m for m in reply.messages if m)
    if not said:  # nothing to say (a copy of an answer already taken): as it now is
        return await _closed(rt, ref)
    language = after["language"] if after else record["language"]
    session = rt.session(record)
    return ChatView("ended", session.language or language, _title(rt, record),
                    (Turn("bot", said),))  # fmt: skip


async def _started(rt: Runtime, ref: str) -> SurveyRecord | None:
    """The survey's record, started first if it was only scheduled (None: it has ended)."""
    record = await rt.state.survey(ref)
    if record is not None and record["status"] in ("scheduled", "sending"):
        await delivery.deliver(rt, ref)
        record = await rt.state.survey(ref)
    return record if record is not None and record["status"] == "active" else None


def _reprompted(before: SurveyRecord, after: SurveyRecord) -> bool:
    """Whether an answer was not understood: the same question, one more attempt at it."""
    was, now = before.get("session") or {}, after.get("session") or {}
    return bool(now.get("question") == was.get("question")
                and now.get("attempts", 0) > was.get("attempts", 0))  # fmt: skip


def _title(rt: Runtime, record: SurveyRecord) -> str:
    service = rt.services.get(record["service"])
    return f"{service.agency}: {service.name}" if service else "Survey"


def _open(rt: Runtime, record: SurveyRecord, *, note: str | None = None) -> ChatView:
    """An open survey as a page shows it: the introduction, each question asked so far with
    its answer, and the question now asked."""
    flow = rt.flow_of(record)
    session = rt.session(record)
    turns = [Turn("bot", engine.message(flow, session, "intro"))]
    for question in flow.questions:
        label = engine.answer_label(flow, session, question)
        if label is not None:
            turns += [Turn("bot", engine.question_prompt(flow, session, question)),
                      Turn("person", label)]  # fmt: skip
    current = flow.question(session.question) if session.question else None
    return ChatView(
        "open",
        session.language,
        _title(rt, record),
        tuple(turns),
        question=engine.question_prompt(flow, session, current) if current else "",
        prompt=engine.prompt(flow, session),
        note=note,
    )


async def _closed(rt: Runtime, ref: str) -> ChatView:
    """A survey that ended or expired before: said in its language when it is known."""
    person = ref.partition("/")[0]
    closed = await rt.state.closed_survey(person, CHANNEL)
    language = closed.language if closed else "en"
    flow = rt.flows.get(closed.flow_id) if closed else None
    service = rt.services.get(closed.service) if closed else None
    if flow is not None and "closed" in flow.messages and service is not None:
        text = engine.render_message(flow, "closed", language, service.context())
    else:
        text = replies.reply(replies.SURVEY_CLOSED, language)
    title = f"{service.agency}: {service.name}" if service else "Survey"
    return ChatView("closed", language, title, (Turn("bot", text),))
