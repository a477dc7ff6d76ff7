"""The conversation engine: a pure function from (flow, session, reply, now) to the next step.

Nothing here does I/O. Callers keep the returned session (for example in Redis), send the
returned messages, and act on the returned events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.core import answers
from bot.core.a11 import drivers_on_form
from bot.core.channels import Prompt
from bot.core.flow import Condition, Flow, Option, Question, render
from bot.core.redact import redact
from bot.core.session import Answer, AnswerValue, Session
from bot.core.wording import Interface

EventKind = Literal[
    "started",
    "answered",
    "skipped",
    "reprompted",
    "unanswered",
    "language_changed",
    "reminded",
    "completed",
    "expired",
    "closed_reply",
]
DEFAULT_TTL = timedelta(hours=72)


@dataclass(frozen=True)
class Event:
    """Something that happened in a step, for logs, metrics and records."""

    kind: EventKind
    question: str | None = None
    value: AnswerValue = None


@dataclass(frozen=True)
class Step:
    """The result of one engine call."""

    session: Session
    messages: tuple[str, ...]
    events: tuple[Event, ...]


def start(
    flow: Flow,
    *,
    now: datetime,
    context: Mapping[str, Any] | None = None,
    language: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    offered_drivers: Sequence[str] | None = None,
    interface: Interface = "text",
) -> Step:
    """Open a session: the intro, then the first question that applies, worded for the
    person's ``interface`` (``bot.core.wording``)."""
    session = Session(
        flow_id=flow.id,
        flow_version=flow.version,
        language=flow.language_for(language),
        status="active",
        started_at=now,
        updated_at=now,
        expires_at=now + ttl,
        context=dict(context or {}),
        offered_drivers=tuple(offered_drivers) if offered_drivers is not None else None,
        interface=interface,
    )
    intro = message(flow, session, "intro")
    return _advance(flow, session, now, [intro], [Event("started")], after=None)


def reply(flow: Flow, session: Session, text: str, now: datetime) -> Step:
    """Handle one inbound reply."""
    if session.status == "active" and now >= session.expires_at:
        expired = expire(flow, session, now)
        return Step(
            expired.session,
            (message(flow, session, "closed"),),
            (*expired.events, Event("closed_reply")),
        )
    if session.ended or session.question is None:
        return Step(session, (message(flow, session, "closed"),), (Event("closed_reply"),))

    question = flow.question(session.question)
    wanted = answers.language_request(text)
    if wanted in flow.languages:
        switched = session.with_(language=wanted, updated_at=now)
        return Step(
            switched,
            (question_text(flow, switched, question),),
            (Event("language_changed", question.id, wanted),),
        )

    if answers.is_skip(text, flow.skip_words):
        answer = Answer("skipped", attempts=session.attempts + 1)
        return _record(flow, session, question, answer, now, Event("skipped", question.id))

    value = parse(flow, session, question, text)
    attempts = session.attempts + 1
    if value is not None:
        answer = Answer(
            "answered",
            value,
            polarity=_polarity(flow, session, question),
            offered=tuple(o.value for o in offered_options(flow, session, question)),
            attempts=attempts,
        )
        return _record(flow, session, question, answer, now, Event("answered", question.id, value))
    if attempts >= question.max_attempts:
        answer = Answer("unanswered", attempts=attempts)
        return _record(flow, session, question, answer, now, Event("unanswered", question.id))
    retried = session.with_(attempts=attempts, updated_at=now)
    return Step(
        retried, (reprompt_text(flow, retried, question),), (Event("reprompted", question.id),)
    )


def expire(flow: Flow, session: Session, now: datetime) -> Step:
    """Close an unfinished session as expired, keeping its answers; sends nothing."""
    if session.ended:
        return Step(session, (), ())
    closed = session.with_(status="expired", question=None, updated_at=now)
    return Step(closed, (), (Event("expired"),))


def remind(flow: Flow, session: Session, now: datetime) -> Step:
    """Send the one reminder a session may get: the reminder line and the current question."""
    if session.ended or session.question is None or session.reminders > 0:
        return Step(session, (), ())
    question = flow.question(session.question)
    reminded = session.with_(reminders=session.reminders + 1, updated_at=now)
    text = question_text(flow, reminded, question)
    if "reminder" in flow.messages:
        text = message(flow, reminded, "reminder") + "\n" + text
    return Step(reminded, (text,), (Event("reminded", question.id),))


def parse(flow: Flow, session: Session, question: Question, text: str) -> AnswerValue:
    """The answer a reply gives to a question, or None when it is not understood."""
    if question.type == "rating":
        if question.scale == "thumbs":
            return answers.parse_thumbs(text)
        return answers.parse_scale(text)
    if question.type == "drivers":
        offered = [o.value for o in offered_options(flow, session, question)]
        return answers.parse_drivers(text, offered)
    if question.type == "choice":
        return answers.parse_choice(text, question.options)
    kept = answers.parse_text(text, question.max_length)
    # Free text is redacted as it is recorded: nothing downstream ever sees the raw text.
    return redact(kept) if kept is not None else None


SUBMIT = {"en": "Submit", "es": "Enviar"}


def prompt(flow: Flow, session: Session) -> Prompt | None:
    """The question the session awaits, with the options a click may give (None when ended).

    Option values are what a typed reply would say, so a click is parsed like a text.
    """
    if session.ended or session.question is None:
        return None
    question = flow.question(session.question)
    options: tuple[tuple[str, str], ...] = ()
    if question.type == "rating" and question.scale == "thumbs":
        words = _WORDS.get(session.language, _WORDS["en"])
        options = (("1", words["yes"]), ("0", words["no"]))
    elif question.type == "rating":
        options = tuple((str(n), str(n)) for n in range(1, 6))
    elif question.type == "drivers":
        offered = offered_options(flow, session, question)
        options = tuple((str(i), o.label[session.language]) for i, o in enumerate(offered, 1))
    elif question.type == "choice":
        options = tuple((o.value, o.label[session.language]) for o in question.options)
    return Prompt(
        question=question.id,
        kind=question.type,
        scale=question.scale or "",
        options=options,
        multiple=question.type == "drivers",
        submit=SUBMIT.get(session.language, SUBMIT["en"]),
    )


def message(flow: Flow, session: Session, name: str) -> str:
    """A flow message (intro, closing, closed, reminder) rendered for this session."""
    return _message(flow, name, session.language, session.interface,
                    _render_context(flow, session))  # fmt: skip


def render_message(
    flow: Flow, name: str, language: str, context: Mapping[str, Any],
    interface: Interface = "text",
) -> str:  # fmt: skip
    """A flow message in a language, for a context such as a service's (no session: a late
    reply to a survey that has ended)."""
    language = flow.language_for(language)
    return _message(flow, name, language, interface, _context(flow, language, context))


def _message(
    flow: Flow, name: str, language: str, interface: Interface, context: dict[str, str]
) -> str:
    template = flow.messages[name][language]
    if "{opt_out}" in template:  # the intro: how to opt out, in the interface's words
        how = flow.instructions[interface]["opt_out"][language]
        context = {**context, "opt_out": render(how, context)}
    return render(template, context)


def question_text(flow: Flow, session: Session, question: Question) -> str:
    """A question as the person receives it: its words, how to answer them on the session's
    interface, and its options listed (where the interface lists them: ``option``)."""
    return _with_options(flow, session, question, question_prompt(flow, session, question))


def question_prompt(flow: Flow, session: Session, question: Question) -> str:
    """A question's words and how to answer them, without its options (a page shows them as
    controls)."""
    prompt = question.prompt
    if question.type == "drivers" and _polarity(flow, session, question) == "negative":
        prompt = question.negative_prompt or prompt
    context = _render_context(flow, session)
    words = render(prompt[session.language], context)
    if session.language in question.as_written:  # the earlier format, in words of its own
        return words
    how = flow.instructions[session.interface][question.answer][session.language]
    return f"{words} {render(how, context)}" if how else words


_WORDS = {
    "en": {"yes": "Yes", "no": "No", "skipped": "(skipped)", "of": "of"},
    "es": {"yes": "Sí", "no": "No", "skipped": "(omitida)", "of": "de"},
}


def answer_label(flow: Flow, session: Session, question: Question) -> str | None:
    """How a page shows the answer given to a question (None: not answered or skipped yet)."""
    answer = session.answers.get(question.id)
    if answer is None or answer.status not in ("answered", "skipped"):
        return None
    words = _WORDS.get(session.language, _WORDS["en"])
    value = answer.value
    if answer.status == "skipped" or value is None:
        return words["skipped"]
    if question.type == "rating" and question.scale == "thumbs":
        return words["yes"] if value == 1 else words["no"]
    if question.type == "rating":
        return f"{value} {words['of']} 5"
    if question.type in ("drivers", "choice"):
        labels = {o.value: o.label[session.language] for o in question.options}
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in chosen)
    return str(value)


def reprompt_text(flow: Flow, session: Session, question: Question) -> str:
    """The hint sent after a reply that was not understood (the question's own, else its
    answer kind's on the session's interface), options listed again."""
    hint = question.reprompt.get(session.language)
    if hint is None:
        hint = flow.instructions[session.interface][question.answer + "_reprompt"][session.language]
    return _with_options(flow, session, question, render(hint, _render_context(flow, session)))


def offered_options(flow: Flow, session: Session, question: Question) -> tuple[Option, ...]:
    """The options a question offers in this session (a service may offer fewer drivers)."""
    if question.type != "drivers":
        return question.options
    return drivers_on_form(question, session.offered_drivers)


def applies(flow: Flow, session: Session, question: Question) -> bool:
    """Whether a question is asked, given the answers so far."""
    if question.type == "drivers" and _polarity(flow, session, question) is None:
        return False
    return question.when is None or holds(question.when, flow, session)


def holds(condition: Condition, flow: Flow, session: Session) -> bool:
    """Evaluate a branching condition on the session's answers and attributes."""
    op = condition.op
    if op == "all":
        return all(holds(c, flow, session) for c in condition.children)
    if op == "any":
        return any(holds(c, flow, session) for c in condition.children)
    if op == "not":
        return not holds(condition.children[0], flow, session)
    if op == "attribute":
        attributes = session.context.get("attributes") or {}
        key = condition.key or ""
        return bool(attributes.get(key, session.context.get(key)) == condition.value)
    answer = session.answers.get(condition.question or "")
    answered = answer is not None and answer.status == "answered"
    if op == "answered":
        return answered == bool(condition.value)
    if not answered or answer is None:
        return False
    value = answer.value
    match op:
        case "equals":
            return bool(value == condition.value)
        case "in":
            return bool(value in condition.value)
        case "at_least":
            return isinstance(value, int) and bool(value >= condition.value)
        case "at_most":
            return isinstance(value, int) and bool(value <= condition.value)
        case "positive":
            rating = flow.question(condition.question or "")
            return is_positive(rating, value) == bool(condition.value)
    raise ValueError(f"unknown condition {op!r}")


def is_positive(rating: Question, value: AnswerValue) -> bool:
    """The A-11 branch rule: thumbs up, or at least ``positive_from`` (4) on the scale."""
    return isinstance(value, int) and value >= (rating.positive_from or 1)


def _polarity(
    flow: Flow, session: Session, question: Question
) -> Literal["positive", "negative"] | None:
    if question.type != "drivers" or question.rating is None:
        return None
    answer = session.answers.get(question.rating)
    if answer is None or answer.status != "answered":
        return None
    return "positive" if is_positive(flow.question(question.rating), answer.value) else "negative"


_SCALARS = (str, int)  # a tuple: ``str | int`` would build a union object on every test


def _render_context(flow: Flow, session: Session) -> dict[str, str]:
    return _context(flow, session.language, session.context)


def _context(flow: Flow, language: str, context: Mapping[str, Any]) -> dict[str, str]:
    ctx = {k: str(v) for k, v in context.items() if isinstance(v, _SCALARS)}
    ctx.setdefault("provider", ctx.get("service") or ctx.get("agency", ""))
    if ctx.get("omb_control_number"):
        ctx["omb_notice"] = render(flow.messages["omb_notice"][language], ctx)
    return ctx


def _with_options(flow: Flow, session: Session, question: Question, text: str) -> str:
    options = offered_options(flow, session, question)
    line = flow.instructions[session.interface]["option"][session.language]
    if not options or not line:
        return text
    # An option line may use {number} and {label} only (bot.core.flowfile checks it).
    lines = [line.format(number=i, label=o.label[session.language])
             for i, o in enumerate(options, start=1)]  # fmt: skip
    return "\n".join([text, *lines])


def pending_question(flow: Flow, session: Session) -> str | None:
    """The question a session is waiting on, or for one that ended unfinished (expired, opted
    out) the question it stopped at; None once completed."""
    if session.question is not None or session.status == "completed":
        return session.question
    ids = [q.id for q in flow.questions]
    answered = [ids.index(k) for k in session.answers if k in ids]
    for question in flow.questions[max(answered) + 1 if answered else 0 :]:
        if applies(flow, session, question):
            return question.id
    return None


def _record(
    flow: Flow, session: Session, question: Question, answer: Answer, now: datetime, event: Event
) -> Step:
    updated = session.with_(answers={**session.answers, question.id: answer}, updated_at=now)
    return _advance(flow, updated, now, [], [event], after=question.id)


def _advance(
    flow: Flow,
    session: Session,
    now: datetime,
    messages: list[str],
    events: list[Event],
    *,
    after: str | None,
) -> Step:
    ids = [q.id for q in flow.questions]
    start_at = ids.index(after) + 1 if after is not None else 0
    for question in flow.questions[start_at:]:
        if applies(flow, session, question):
            moved = session.with_(question=question.id, attempts=0, updated_at=now)
            messages.append(question_text(flow, moved, question))
            return Step(moved, tuple(messages), tuple(events))
    done = session.with_(status="completed", question=None, attempts=0, updated_at=now)
    messages.append(message(flow, done, "closing"))
    events.append(Event("completed"))
    return Step(done, tuple(messages), tuple(events))
