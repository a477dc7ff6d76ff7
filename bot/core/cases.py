"""Staff alerts as cases (pure): which responses alert, the crisis screen, and a case's life.

A case moves received → claimed → resolved, or to dismissed ("not actionable") from received
or claimed; an unclaimed case is escalated once. Every move records who and when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NotRequired, Required, TypedDict

from bot.core.a11 import trust_question
from bot.core.errors import PermanentError
from bot.core.flow import Flow
from bot.core.redact import redact
from bot.core.shorthand import fold, plain
from bot.core.sinks import ResponseRecord

CaseStatus = Literal["received", "claimed", "resolved", "dismissed"]
Action = Literal["claim", "resolve", "dismiss"]
EXCERPT = 280
OPEN: tuple[CaseStatus, ...] = ("received", "claimed")
ACTIONS: tuple[Action, ...] = ("claim", "resolve", "dismiss")


class Step(TypedDict):
    """One move in a case's history."""

    action: str
    by: str | None
    at: str
    id: NotRequired[str]  # the staff action that made it (a click), so a retry is not a move


class Posted(TypedDict):
    """Where the staff notifier posted a case."""

    channel: str
    ts: str


class Case(TypedDict, total=False):
    """A staff case: one per survey, kept in Redis while it is worked on (a plain dict at run
    time, stored with orjson); its outcome goes to the measures store (``outcome``)."""

    rev: int
    ref: str  # the survey's reference (``bot.store.keys.survey_ref``)
    case_id: Required[str]
    response_id: Required[str | None]
    service: Required[str | None]
    channel: Required[str]
    reasons: Required[list[str]]  # "trust_negative", "crisis:self_harm", ...
    trust: bool | None
    sentiment: str | None
    polarity: float | None
    drivers: list[str]  # negative drivers chosen
    excerpt: str | None  # redacted, at most EXCERPT characters
    at: str  # when what it is about happened
    status: Required[CaseStatus]
    created_at: Required[str]
    claimed_by: str | None
    claimed_at: str | None
    closed_by: str | None
    closed_at: str | None
    escalated_at: str | None
    history: Required[list[Step]]
    posting: bool  # a post to staff under way (found again after a crash)
    post: Posted


OUTCOME = (
    "case_id", "response_id", "service", "channel", "reasons", "status", "created_at",
    "claimed_by", "claimed_at", "closed_by", "closed_at", "escalated_at", "history",
)  # fmt: skip


@dataclass(frozen=True)
class AlertRules:
    """When a service's responses alert staff, and where."""

    trust_negative: bool = True  # a negative answer to the trust question
    polarity_at_most: float | None = None  # the comment's sentiment at or below this
    drivers: tuple[str, ...] = ()  # any of these chosen on the negative branch
    channel: str = ""  # the Slack channel for this service's alerts ('' = the default)
    escalate_after: timedelta = timedelta(hours=4)
    escalate_to: str = ""  # a channel (C…/G…) or a user group (S…) ('' = the default)


class CaseError(PermanentError):
    """An action a case cannot take in its state (told to the person who clicked)."""


# The safety screen favours recall: a false alarm costs a look, a miss can cost a life.
# Phrases in English and Spanish, matched on the text made plain as the scorers see it
# (``bot.core.shorthand``: case, accents, contractions, shorthand such as "kms", "wanna", "q").
_CRISIS = {
    "self_harm": [
        r"kill(ing)? my ?self",
        r"suicid\w*",
        r"end(ing)? (it all|my life|it (tonight|today|now))",
        r"take my (own )?life",
        r"(hurt(ing)?|harm(ing)?|cut(ting)?) my ?self",
        r"self ?- ?harm\w*",
        r"(want|going) to die",
        r"(do not|no longer) want to (live|be alive|be here)( anymore)?",
        r"no reason to live",
        r"better off dead",
        r"matarme",
        r"me (voy|quiero) (a )?matar",
        r"quitarme la vida",
        r"acabar con (mi vida|todo)",
        r"no quiero (vivir|seguir viviendo)",
        r"(me )?quiero morir(me)?",
        r"no vale la pena vivir",
        r"mejor (estaria )?muert[oa]",
        r"hacerme dano",
        r"cortarme",
    ],
    "violence": [
        r"(kill|shoot|stab|hurt|attack) (you|him|her|them|someone|somebody|everyone|everybody|"
        r"the (staff|clerk|agent|office|people))",
        r"(bring|get|have) a (gun|weapon|knife)",
        r"(blow|burn) (up|down) (the|your)",
        r"bomb",
        r"(?<!me )voy a matar",
        r"los voy a matar",
        r"(una )?bomba",
    ],
    "emergency": [
        r"emergency",
        r"heart attack",
        r"can ?not breathe",
        r"overdos\w*",
        r"(being|getting) (abused|beaten)",
        r"i am in danger",
        r"emergencia",
        r"no puedo respirar",
        r"me (estan|esta) (golpeando|pegando)",
    ],
}
_CRISIS_RE = {
    category: re.compile(r"(?<![a-z0-9])(" + "|".join(patterns) + r")(?![a-z0-9])")
    for category, patterns in _CRISIS.items()
}
# Not a person in crisis, taken out before the screen reads the rest: a hotline quoted ("the
# letter lists the suicide hotline, 988", "if this is an emergency, dial 911"), a service
# named for emergencies ("an emergency passport", "cita de emergencia").
_NOT_CRISIS = re.compile(
    r"(?<![a-z0-9])("
    r"(the )?(national )?suicide (and|&) crisis life ?line|suicide (prevention )?(hot ?line|"
    r"life ?line|line|number)|(veterans )?crisis (hot ?line|life ?line|line|text line)|"
    r"988|911|741741|1 ?800 ?273 ?8255|\[phone\]|"
    r"emergency (number|line|hot ?line|contact|services)|"
    r"if (this is|it is|you have|you are having) (a |an )?(medical |mental health )?"
    r"(emergency|crisis)|in (case|an event) of (an )?emergency|"
    r"linea (nacional )?(de )?(prevencion del suicidio|crisis|ayuda)|"
    r"(numero|telefono) de emergencias?|si (es|tiene|tienes) una emergencia|"
    r"en caso de emergencia|"
    r"emergency (passport|appointment|fund|funds|assistance|housing|contact|visa|travel|card|"
    r"snap|benefits?|loan|repair|leave|request|processing|preparedness|alert|kit|medicaid)|"
    r"(pasaporte|cita|fondos|ayuda|asistencia|vivienda|contacto|tarjeta|visa|viaje) "
    r"de emergencias?)(?![a-z0-9])"
)
# Words that take back what follows them in the same clause ("i am not going to hurt myself",
# "no es una emergencia"); a phrase that holds its own negation ("no quiero vivir") is itself.
# Every crisis phrase holds one of these (after folding, before shorthand is written out):
# most messages are "1", "yes" or a plain comment and need no closer reading.
_TRIGGER = re.compile(
    r"kill|kms|kys|alive|suicid|end|life|live|die|dead|harm|hurt|cut|gun|weapon|knife|bomb|"
    r"blow|burn|shoot|stab|attack|emergenc|heart|breath|overdos|abus|beat|danger|mata|vida|"
    r"vivir|mori|muert|dan|cort|bomba|respir|golpe|pega"
)
_NEGATORS = frozenset("not never no nunca jamas ni nor dont didnt wont wouldnt".split())
_CLAUSE = re.compile(r"[,.;:!?]| but | pero ")


def crisis(text: str | None) -> tuple[str, ...]:
    """The crisis categories a text's words fall in (self_harm, violence, emergency): a
    phrase counts unless "not", "never", "no" (or "nunca", "jamás") stand just before it in
    its clause, and a hotline's name or number quoted is not a crisis."""
    if not text or not _TRIGGER.search(fold(text[:4000])):
        return ()
    found: set[str] = set()
    for language in ("en", "es"):  # each language's shorthand ("u", "q") read its own way
        clean = " " + _NOT_CRISIS.sub(" ", plain(text[:4000], language)) + " "
        for category, pattern in _CRISIS_RE.items():
            if category not in found and any(
                not _negated(clean, m.start()) for m in pattern.finditer(clean)
            ):
                found.add(category)
    return tuple(c for c in _CRISIS if c in found)


def _negated(clean: str, at: int) -> bool:
    """Whether a negator stands among the three words before ``at``, in the same clause."""
    clause = _CLAUSE.split(clean[:at])[-1].split()
    return any(word in _NEGATORS for word in clause[-3:])


def excerpt(text: str | None) -> str | None:
    """A redacted excerpt short enough for an alert."""
    if not text:
        return None
    clean = redact(text)
    return clean if len(clean) <= EXCERPT else clean[: EXCERPT - 1].rstrip() + "…"


def trust_answer(record: ResponseRecord, flow: Flow | None) -> bool | None:
    """True/False for a positive/negative answer to the trust question; None unanswered."""
    if flow is None:
        return None
    rating = trust_question(flow)
    answer = record["answers"].get(rating.id) if rating else None
    if rating is None or not answer or answer.get("status") != "answered":
        return None
    value = answer.get("value")
    return isinstance(value, int) and value >= (rating.positive_from or 1)


def negative_drivers(record: ResponseRecord) -> tuple[str, ...]:
    """The drivers chosen on the negative branch."""
    for answer in record["answers"].values():
        if answer.get("polarity") == "negative" and isinstance(answer.get("value"), list):
            return tuple(str(v) for v in answer["value"])
    return ()


def alert_reasons(
    record: ResponseRecord, flow: Flow | None, rules: AlertRules | None
) -> tuple[str, ...]:
    """Why a response alerts staff under a service's rules (empty: it does not)."""
    reasons: list[str] = [f"crisis:{c}" for c in crisis(record.get("free_text"))]
    if rules is None:
        return tuple(reasons)
    if rules.trust_negative and trust_answer(record, flow) is False:
        reasons.append("trust_negative")
    sentiment = record.get("sentiment") or {}
    polarity = sentiment.get("polarity")
    if (
        rules.polarity_at_most is not None
        and sentiment.get("label") != "unscored"
        and isinstance(polarity, int | float)
        and polarity <= rules.polarity_at_most
    ):
        reasons.append("negative_sentiment")
    reasons += [f"driver:{d}" for d in negative_drivers(record) if d in rules.drivers]
    return tuple(reasons)


def is_crisis(case: Case) -> bool:
    return any(r.startswith("crisis:") for r in case["reasons"])


def from_response(
    record: ResponseRecord, flow: Flow | None, reasons: tuple[str, ...], now: datetime
) -> Case:
    """A new case for an ended survey's response record."""
    sentiment = record.get("sentiment") or {}
    case = _opened(record["response_id"], record["service_id"], record["channel"], reasons, now)
    case.update({
        "response_id": record["response_id"],
        "trust": trust_answer(record, flow),
        "sentiment": sentiment.get("label"),
        "polarity": sentiment.get("polarity"),
        "drivers": list(negative_drivers(record)),
        "excerpt": excerpt(record.get("free_text")),
        "at": record["timestamps"]["ended"],
    })  # fmt: skip
    return case


def from_message(
    case_id: str, service: str | None, channel: str, text: str, categories: tuple[str, ...],
    now: datetime,
) -> Case:  # fmt: skip
    """A new crisis case for a message, before (or without) any survey response."""
    case = _opened(case_id, service, channel, tuple(f"crisis:{c}" for c in categories), now)
    case["excerpt"] = excerpt(text)
    return case


def _opened(
    case_id: str, service: str | None, channel: str, reasons: tuple[str, ...], now: datetime
) -> Case:
    """A case just received, about nothing yet but its reasons."""
    return {
        "case_id": case_id,
        "response_id": None,
        "service": service,
        "channel": channel,
        "reasons": list(reasons),
        "trust": None,
        "sentiment": None,
        "polarity": None,
        "drivers": [],
        "excerpt": None,
        "at": now.isoformat(),
        "status": "received",
        "created_at": now.isoformat(),
        "claimed_by": None,
        "claimed_at": None,
        "closed_by": None,
        "closed_at": None,
        "escalated_at": None,
        "history": [{"action": "received", "by": None, "at": now.isoformat()}],
    }


def act(case: Case, action: str, user: str, now: datetime) -> Case:
    """The case after ``user`` takes ``action`` (claim, resolve, dismiss) at ``now``."""
    status = case["status"]
    if action not in ACTIONS:
        raise CaseError(f"unknown action {action!r}")
    if status not in OPEN:
        raise CaseError(f"this case is already {status}")
    if action == "claim" and status == "claimed":
        raise CaseError(f"this case is already claimed by @{case['claimed_by']}")
    out = case.copy()
    at = now.isoformat()
    if action == "claim":
        out.update({"status": "claimed", "claimed_by": user, "claimed_at": at})
    else:
        out.update({"status": "resolved" if action == "resolve" else "dismissed",
                    "closed_by": user, "closed_at": at})  # fmt: skip
    out["history"] = [*case["history"], {"action": action, "by": user, "at": at}]
    return out


def escalate(case: Case, now: datetime) -> Case | None:
    """The case escalated, or None when it needs no escalation (claimed, closed, done)."""
    if case["status"] != "received" or case["escalated_at"]:
        return None
    out = case.copy()
    out["escalated_at"] = now.isoformat()
    out["history"] = [*case["history"], {"action": "escalated", "by": None, "at": now.isoformat()}]
    return out


def outcome(case: Case) -> dict[str, Any]:
    """What the measures store keeps of a case."""
    return {k: case.get(k) for k in OUTCOME}
