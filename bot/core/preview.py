"""Every message a flow can send, rendered for each kind of interface (text message, chat with
buttons, web page, voice call), with a text message's SMS encoding and segment count, and the
seconds a voice call takes to say it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core import engine
from bot.core.flow import Flow
from bot.core.segments import SegmentInfo, non_gsm_characters, segment_info
from bot.core.session import Answer, Session
from bot.core.wording import INTERFACES, Interface

# Realistic lengths for the placeholders when no service is named.
SAMPLE_CONTEXT: dict[str, str] = {
    "agency": "U.S. Example Agency",
    "service": "Passport renewal",
    "program": "Passport Services",
    "omb_control_number": "1234-5678",
    "contact": "help@example.gov or 1-800-555-0100",
}


@dataclass(frozen=True)
class Preview:
    """One message as a person on an interface would receive it."""

    language: str
    name: str
    text: str
    interface: Interface = "text"

    @property
    def sms(self) -> SegmentInfo:
        return segment_info(self.text)


def previews(
    flow: Flow, context: Mapping[str, Any] | None = None, drivers: Sequence[str] | None = None
) -> Iterator[Preview]:
    """Every message of ``flow`` on each interface in every language: intro, questions (each
    drivers branch), reprompts, reminder, closing and closed — as a service sends them: its
    names in the placeholders (its trust question's subject is ``provider``) and only the
    ``drivers`` its catalog entry offers (None: every driver the flow lists)."""
    ctx = {**SAMPLE_CONTEXT, **(context or {})}
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    for interface in INTERFACES:
        for lang in flow.languages:
            session = Session(
                flow_id=flow.id,
                flow_version=flow.version,
                language=lang,
                status="active",
                started_at=epoch,
                updated_at=epoch,
                expires_at=epoch,
                context=ctx,
                interface=interface,
                offered_drivers=tuple(drivers) if drivers is not None else None,
            )
            for name, text in _messages(flow, session):
                yield Preview(lang, name, text, interface)


def _messages(flow: Flow, session: Session) -> Iterator[tuple[str, str]]:
    yield "intro", engine.message(flow, session, "intro")
    for i, q in enumerate(flow.questions):
        name = f"questions[{i}] {q.id}"
        if q.type == "drivers" and q.rating:
            rating = flow.question(q.rating)
            positive = rating.positive_from or 1
            for branch, value in (("positive", positive), ("negative", positive - 1)):
                branched = session.with_(answers={q.rating: Answer("answered", value)})
                yield f"{name} {branch}", engine.question_text(flow, branched, q)
        else:
            yield name, engine.question_text(flow, session, q)
        yield f"{name} reprompt", engine.reprompt_text(flow, session, q)
    for message in ("reminder", "closing", "closed"):
        if message in flow.messages:
            yield message, engine.message(flow, session, message)


def preview_rows(
    flow: Flow, context: Mapping[str, Any] | None = None, drivers: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """``previews`` as data (the API, the console): each message with its interface, a text
    message's SMS encoding, segments and units and the characters that force UCS-2 so an
    editor knows what to rephrase (None on other interfaces), and on a voice call about how
    many seconds it takes to say (``seconds``; None on other interfaces)."""
    rows = []
    for p in previews(flow, context, drivers):
        row: dict[str, Any] = {"interface": p.interface, "language": p.language,
                               "name": p.name, "text": p.text, "encoding": None,
                               "segments": None, "units": None, "non_gsm": None,
                               "seconds": None}  # fmt: skip
        if p.interface == "voice":
            row["seconds"] = speaking_seconds(p.text)
        if p.interface == "text":
            sms = p.sms
            why = non_gsm_characters(p.text) if sms.encoding == "UCS-2" else ""
            row.update(encoding=sms.encoding, segments=sms.segments, units=sms.units,
                       non_gsm=why)  # fmt: skip
        rows.append(row)
    return rows


# Text-to-speech voices say about 150 words a minute; a number is said digit by digit or as
# words ("1234-5678": eight), so each digit counts as a word of its own.
WORDS_PER_SECOND = 2.5
_SPOKEN = re.compile(r"\d|[^\W\d_]+(?:['’][^\W\d_]+)?")


def speaking_seconds(text: str) -> int:
    """About how many seconds a voice takes to say ``text`` (at least 1 for any words)."""
    words = len(_SPOKEN.findall(text))
    return max(1, round(words / WORDS_PER_SECOND)) if words else 0
