"""Cases (pure): the crisis screen, alert rules, and a case's life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core import cases
from bot.core.cases import AlertRules, CaseError
from bot.core.flowfile import load_flows
from flows import FLOWS_DIR

FLOWS = load_flows(FLOWS_DIR)
NOW = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)

CRISIS = [
    ("I want to kill myself", ("self_harm",)),
    ("honestly I'm suicidal after this", ("self_harm",)),
    ("I might as well end it all", ("self_harm",)),
    ("I've been cutting myself", ("self_harm",)),
    ("I'll cut myself", ("self_harm",)),
    ("Nobody cares, I'd be better off dead", ("self_harm",)),
    ("Quiero matarme", ("self_harm",)),
    ("ya no quiero vivir", ("self_harm",)),
    ("I'm going to shoot the clerk", ("violence",)),
    ("I'm going to shoot the staff", ("violence",)),
    ("next time I'll bring a gun", ("violence",)),
    ("I will KILL YOU ALL", ("violence",)),
    ("Los voy a matar", ("violence",)),
    ("There is a bomb in the office", ("violence",)),
    ("This is an emergency", ("emergency",)),
    ("my dad is having a heart attack", ("emergency",)),
    ("I can’t breathe", ("emergency",)),
    ("es una emergencia", ("emergency",)),
    ("No puedo respirar", ("emergency",)),
    ("I'm in danger at home", ("emergency",)),
    # near misses: ordinary complaints must not page anyone
    ("This process is killing me, so slow", ()),
    ("The website is a bomb... I mean the bomb! great", ("violence",)),  # recall over precision
    ("my benefits are in danger of lapsing", ()),
    ("Great service, thank you", ()),
    ("The shooting range permit took weeks", ()),
    ("", ()),
    # typed as people type: shorthand, no accents, no apostrophes
    ("i wanna die", ("self_harm",)),
    ("gonna kms tonight", ("self_harm",)),
    ("i dont want to live anymore", ("self_harm",)),
    ("m quiero morir", ("self_harm",)),
    ("me voy a matar", ("self_harm",)),  # myself: not a threat to others
    ("ya no quiero vivir, nadie me ayuda", ("self_harm",)),
    ("im going to shoot u", ("violence",)),
    ("NO PUEDO RESPIRAR", ("emergency",)),
    # negation takes the phrase back, in its own clause only
    ("I'm not going to kill myself, just venting", ()),
    ("im not suicidal, just tired of waiting", ()),
    ("i would never hurt myself", ()),
    ("this is not an emergency", ()),
    ("no es una emergencia, solo una pregunta", ()),
    ("i dont want to die waiting in this line lol", ()),
    ("no, I want to end it all", ("self_harm",)),
    ("nobody cares, I want to die", ("self_harm",)),
    # a hotline or a service named for emergencies is quoted, not a crisis
    ("the letter says call the suicide hotline 988 if needed", ()),
    ("if this is an emergency dial 911, the recording said", ()),
    ("el numero de emergencias es el 911", ()),
    ("got my emergency passport the same day", ()),
    ("necesito una cita de emergencia", ()),
    ("I called 988 because I want to kill myself", ("self_harm",)),
]


@pytest.mark.parametrize(("text", "expected"), CRISIS)
def test_crisis_screen(text: str, expected: tuple[str, ...]) -> None:
    assert cases.crisis(text) == expected


def record(
    trust: int | None, drivers: list[str] | None = None, text: str | None = None,
    polarity: float | None = None, flow: str = "a11-v2-thumbs",
) -> dict[str, Any]:  # fmt: skip
    answers: dict[str, Any] = {}
    if trust is not None:
        answers["question_1"] = {"status": "answered", "value": trust}
    if drivers is not None:
        positive = trust is not None and trust >= (1 if flow == "a11-v2-thumbs" else 4)
        answers["drivers"] = {"status": "answered", "value": drivers,
                              "polarity": "positive" if positive else "negative"}  # fmt: skip
    sentiment = None if polarity is None else {"label": "negative", "polarity": polarity}
    return {"response_id": "r1", "service_id": "benefits-application", "flow_id": flow,
            "channel": "sms", "answers": answers, "free_text": text, "sentiment": sentiment,
            "timestamps": {"ended": NOW.isoformat()}}  # fmt: skip


RULES = AlertRules(polarity_at_most=-0.4, drivers=("humanity",))
REASONS = [
    (record(1, ["ease"], "Quick"), RULES, ()),
    (record(0), RULES, ("trust_negative",)),
    (record(0), AlertRules(trust_negative=False), ()),
    (record(1, text="meh", polarity=-0.5), RULES, ("negative_sentiment",)),
    (record(1, text="meh", polarity=-0.4), RULES, ("negative_sentiment",)),  # at the threshold
    (record(1, text="meh", polarity=-0.39), RULES, ()),
    (record(0, ["humanity", "ease"]), RULES, ("trust_negative", "driver:humanity")),
    (record(1, ["humanity"]), RULES, ()),  # humanity on the positive branch is praise
    (record(None), RULES, ()),  # nothing answered
    (record(5, flow="a11-v2-scale"), RULES, ()),
    (record(3, flow="a11-v2-scale"), RULES, ("trust_negative",)),  # 3 of 5 is not positive
    (record(1, text="I will bring a gun"), None, ("crisis:violence",)),  # no rules: crisis only
    (record(0, text="I want to die"), RULES, ("crisis:self_harm", "trust_negative")),
]


@pytest.mark.parametrize(("response", "rules", "expected"), REASONS)
def test_alert_reasons(
    response: dict[str, Any], rules: AlertRules | None, expected: tuple[str, ...]
) -> None:
    assert cases.alert_reasons(response, FLOWS[response["flow_id"]], rules) == expected


def new_case() -> dict[str, Any]:
    response = record(0, ["ease"], "Call me at 202-555-0100")
    return cases.from_response(response, FLOWS["a11-v2-thumbs"], ("trust_negative",), NOW)


def test_case_from_response_is_redacted() -> None:
    case = new_case()
    assert case["status"] == "received" and case["trust"] is False
    assert case["drivers"] == ["ease"] and "555-0100" not in str(case)


def test_excerpt_is_short() -> None:
    excerpt = cases.excerpt("word " * 200)
    assert excerpt is not None and len(excerpt) <= cases.EXCERPT and excerpt.endswith("…")


LIFE = [
    (["claim"], "claimed"),
    (["claim", "resolve"], "resolved"),
    (["resolve"], "resolved"),  # a quick fix needs no claim first
    (["claim", "dismiss"], "dismissed"),
    (["dismiss"], "dismissed"),
]


@pytest.mark.parametrize(("actions", "status"), LIFE)
def test_case_moves(actions: list[str], status: str) -> None:
    case = new_case()
    for n, action in enumerate(actions):
        case = cases.act(case, action, f"U{n}", NOW + timedelta(minutes=n))
    assert case["status"] == status
    assert [h["action"] for h in case["history"]] == ["received", *actions]
    if "claim" in actions:
        assert case["claimed_by"] == "U0" and case["claimed_at"] == NOW.isoformat()
    if status in ("resolved", "dismissed"):
        assert case["closed_by"] == f"U{len(actions) - 1}"


REFUSED = [
    (["claim", "claim"], "already claimed by @U0"),
    (["resolve", "claim"], "already resolved"),
    (["dismiss", "resolve"], "already dismissed"),
    (["escalate"], "unknown action"),
]


@pytest.mark.parametrize(("actions", "message"), REFUSED)
def test_case_refuses(actions: list[str], message: str) -> None:
    case = new_case()
    with pytest.raises(CaseError, match=message):
        for n, action in enumerate(actions):
            case = cases.act(case, action, f"U{n}", NOW)


def test_escalates_once_and_only_unclaimed() -> None:
    case = new_case()
    escalated = cases.escalate(case, NOW)
    assert escalated is not None and escalated["escalated_at"] == NOW.isoformat()
    assert cases.escalate(escalated, NOW) is None
    assert cases.escalate(cases.act(case, "claim", "U1", NOW), NOW) is None


def test_outcome_keeps_no_text() -> None:
    outcome = cases.outcome(cases.act(new_case(), "resolve", "U1", NOW))
    assert "excerpt" not in outcome and outcome["status"] == "resolved"


def test_trust_alert_on_a_v1_survey_reads_the_trust_item_not_satisfaction() -> None:
    from .records import response_record

    # satisfied (q1 = 5) but trust fell (q2 = 1): the trust rule alerts
    record = response_record(
        1, ["5", "1", "skip", "skip", "skip", "skip", "skip"], flow_id="a11-v1",
        service="helpdesk-call",
    )  # fmt: skip
    assert cases.trust_answer(record, FLOWS["a11-v1"]) is False
    assert "trust_negative" in cases.alert_reasons(record, FLOWS["a11-v1"], AlertRules())
