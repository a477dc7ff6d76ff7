"""The console channel: take a survey in a terminal, replies read from standard input."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.core import engine
from bot.core.a11 import a11_fields
from bot.core.channels import Prompt
from bot.core.flow import Flow
from bot.core.session import Session, disposition
from bot.core.wording import Interface


def _show(out: TextIO, messages: Iterable[str]) -> None:
    for text in messages:
        lines = text.splitlines() or [""]
        out.write("bot> " + lines[0] + "\n")
        for line in lines[1:]:
            out.write("     " + line + "\n")
    out.flush()


def run_survey(
    flow: Flow,
    replies: Iterable[str],
    out: TextIO,
    *,
    language: str | None = None,
    context: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    echo: bool = True,
    interface: Interface = "text",
    heard: Callable[[Prompt | None, str], str | None] | None = None,
) -> Session:
    """Run one survey: print the bot's messages, feed it each reply line, print the A-11 fields.

    Set ``echo`` when the replies do not come from a person typing at a terminal; the
    messages are worded for ``interface`` (a channel's kind of interface). ``heard`` turns a
    line into the answer's text as its channel takes it, given the question asked (a call's
    keys and speech); None from it says the question again.
    Returns the final session; a survey cut short by the end of input is reported as partial.
    """
    step = engine.start(flow, now=clock(), context=context, language=language,
                        interface=interface)  # fmt: skip
    _show(out, step.messages)
    session = step.session
    for line in replies:
        if session.ended:
            break
        text = line.rstrip("\n")
        if echo:  # piped replies are shown, so the transcript reads like a conversation
            out.write("you> " + text + "\n")
        if heard is not None:
            answer = heard(engine.prompt(flow, session), text)
            if answer is None:  # asked to hear it again
                if session.question is not None:
                    question = flow.question(session.question)
                    _show(out, [engine.question_text(flow, session, question)])
                continue
            text = answer
        step = engine.reply(flow, session, text, clock())
        session = step.session
        _show(out, step.messages)
    out.write("\n")
    summary = {
        "flow": flow.id,
        "version": flow.version,
        "language": session.language,
        "disposition": disposition(session),
        "a11": a11_fields(flow, session),
    }
    out.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return session


def terminal_replies(prompt: str = "you> ") -> Iterator[str]:
    """Replies typed at a terminal, with a prompt, until end of input."""
    while True:
        try:
            yield input(prompt)
        except EOFError:
            return
