"""OMB Circular A-11 §280 vocabulary and the mapping of a survey session to A-11 fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.flow import Flow
    from bot.session import Session

DRIVERS: tuple[str, ...] = (
    "effectiveness",
    "ease",
    "efficiency",
    "transparency",
    "humanity",
    "employee",
    "other",
)
REQUIRED_DRIVERS: tuple[str, ...] = ("effectiveness", "ease")

# Neutral nouns, so one list reads right after "what made the difference?" and after
# "what could have been better?", and the whole prompt fits one GSM-7 segment.
DRIVER_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "effectiveness": "Getting my need met",
        "ease": "Ease",
        "efficiency": "Time it took",
        "transparency": "Clarity",
        "humanity": "Respect",
        "employee": "Staff",
        "other": "Other",
    },
    "es": {
        "effectiveness": "Resolver mi necesidad",
        "ease": "Facilidad",
        "efficiency": "Tiempo",
        "transparency": "Claridad",
        "humanity": "Respeto",
        "employee": "Personal",
        "other": "Otro",
    },
}

# The OMB per-response upload, in order (a11-reference §2).
V2_COLUMNS: tuple[str, ...] = (
    "external_id",
    "question_1",
    *(f"positive_{d}" for d in DRIVERS),
    *(f"negative_{d}" for d in DRIVERS),
    "question_4",
)

# Channel names used by the federal CX tooling (a11-reference §2).
REPORTED_CHANNELS: dict[str, str] = {
    "sms": "sms_text_messages",
    "whatsapp": "chatbot",
    "slack": "chatbot",
    "webchat": "chatbot",
}

FieldValue = int | str | None


def a11_fields(flow: Flow, session: Session) -> dict[str, FieldValue]:
    """The A-11 fields of a finished or partial session.

    Ratings give their value, free text its text, and every drivers question gives all
    ``positive_*`` and ``negative_*`` columns: 1 chosen, 0 offered but not chosen, None not
    asked (the other branch, a driver not offered, or no answer at all).
    """
    fields: dict[str, FieldValue] = {}
    for q in flow.questions:
        answer = session.answers.get(q.id)
        if answer is not None and answer.status != "answered":
            answer = None
        if q.type == "drivers":
            chosen = answer.value if answer is not None and isinstance(answer.value, list) else []
            for polarity in ("positive", "negative"):
                asked = answer is not None and answer.polarity == polarity
                for d in DRIVERS:
                    offered = asked and answer is not None and d in answer.offered
                    fields[f"{polarity}_{d}"] = (1 if d in chosen else 0) if offered else None
        elif q.field:
            value = answer.value if answer is not None else None
            fields[q.field] = value if not isinstance(value, list) else " ".join(value)
    return fields
