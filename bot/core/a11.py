"""OMB Circular A-11 §280 vocabulary and the mapping of a survey session to A-11 fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from bot.core.flow import Flow, Option, Question
    from bot.core.session import Session

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

# The channel names the federal CX tooling uses (Touchpoints' app/models/service.rb): each
# channel's kind says which it is reported under (``ChannelKind.reported``).
FederalChannel = Literal[
    "computer", "mobile", "email", "chatbot", "phone", "automated_phone", "in_person", "paper",
    "postal_mail", "fax", "self_service_kiosk", "other_non_digital", "website", "mobile_app",
    "live_chat", "sms_text_messages", "social_media", "other_digital",
]  # fmt: skip
FEDERAL_CHANNELS: tuple[FederalChannel, ...] = get_args(FederalChannel)

# The field of each instrument's trust item: A-11 v2 asks it first (``question_1``); v1 asks
# satisfaction first and trust second (``q2``). A survey is a response, counted in the OMB
# data, only when its trust item was answered (Touchpoints exports submitted forms, and its
# A-11 forms require the trust item).
TRUST_FIELDS: dict[str, str] = {"a11-v2": "question_1", "a11-v1": "q2"}

# Touchpoints' ``transaction_point`` values (app/models/cx_collection_detail.rb).
TRANSACTION_POINTS: tuple[str, ...] = ("post_interaction", "post_service_journey", "relational")

FieldValue = int | str | None


def drivers_on_form(question: Question, offered: Sequence[str] | None) -> tuple[Option, ...]:
    """The options of a drivers question that a service offers (``offered``: its ``drivers``
    list, None for all the flow lists); the required drivers always are."""
    if offered is None:
        return question.options
    keep = {*offered, *REQUIRED_DRIVERS}
    return tuple(o for o in question.options if o.value in keep)


def a11_fields(flow: Flow, session: Session) -> dict[str, FieldValue]:
    """The A-11 fields of a finished or partial session.

    Ratings give their value, free text its text, and every drivers question gives all
    ``positive_*`` and ``negative_*`` columns as GSA Touchpoints writes them
    (``Form#to_a11_v2_csv``): 1 chosen, 0 offered on the form but not chosen (on both
    branches, whichever the person saw, and when nothing was picked), None only for a driver
    the form does not offer (the service's ``drivers`` list, kept in the session).
    """
    fields: dict[str, FieldValue] = {}
    for q in flow.questions:
        answer = session.answers.get(q.id)
        if answer is not None and answer.status != "answered":
            answer = None
        if q.type == "drivers":
            on_form = {o.value for o in drivers_on_form(q, session.offered_drivers)}
            chosen = answer.value if answer is not None and isinstance(answer.value, list) else []
            branch = answer.polarity if answer is not None else None
            for polarity in ("positive", "negative"):
                for d in DRIVERS:
                    if d not in on_form:
                        fields[f"{polarity}_{d}"] = None
                    else:
                        fields[f"{polarity}_{d}"] = int(polarity == branch and d in chosen)
        elif q.field:
            value = answer.value if answer is not None else None
            fields[q.field] = value if not isinstance(value, list) else " ".join(value)
    return fields


def trust_field(a11: Mapping[str, FieldValue]) -> str | None:
    """The field of the trust item among a record's A-11 fields (None: a custom flow)."""
    # A loop, not next() of a generator: a third quicker, and an import building a record's
    # rows asks it five times.
    for field in TRUST_FIELDS.values():
        if field in a11:
            return field
    return None


def trust_question(flow: Flow) -> Question | None:
    """A flow's trust item: the question filling its instrument's trust field, else (custom
    flows) its first rating question."""
    wanted = TRUST_FIELDS.get(flow.instrument)
    ratings = [q for q in flow.questions if q.type == "rating"]
    if wanted is not None:
        return next((q for q in flow.questions if q.field == wanted), None)
    return ratings[0] if ratings else None
