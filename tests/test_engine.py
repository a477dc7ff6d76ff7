"""The conversation engine, walked through every built-in flow, and the A-11 mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.core import engine
from bot.core.a11 import DRIVERS, V2_COLUMNS, a11_fields
from bot.core.flow import Flow
from bot.core.flowfile import load_flows
from bot.core.segments import segment_info
from bot.core.session import Session, disposition
from flows import FLOWS_DIR

FLOWS = load_flows()
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CONTEXT = {
    "agency": "Example Agency",
    "service": "Passport renewal",
    "omb_control_number": "1234-5678",
}


def run(
    flow: Flow, replies: list[str], language: str = "en", **kw: object
) -> tuple[Session, list[str], list[str]]:
    step = engine.start(flow, now=T0, context=CONTEXT, language=language, **kw)  # type: ignore[arg-type]
    messages, events = list(step.messages), [e.kind for e in step.events]
    session = step.session
    for i, text in enumerate(replies):
        step = engine.reply(flow, session, text, T0 + timedelta(minutes=i + 1))
        session = step.session
        messages += step.messages
        events += [e.kind for e in step.events]
    return session, messages, events


def drivers(
    prefix: str, chosen: set[str], offered: tuple[str, ...] = DRIVERS
) -> dict[str, int | None]:
    """A branch's driver cells as GSA Touchpoints writes them (app/models/form.rb): 1 chosen,
    0 offered and not chosen (the branch not shown too), null only when not offered."""
    return {f"{prefix}_{d}": (int(d in chosen) if d in offered else None) for d in DRIVERS}


V2_WALKS = [
    # flow, language, replies, expected A-11 fields
    (
        "a11-v2-thumbs",
        "en",
        ["yes", "1 3", "Quick and friendly"],
        {
            "question_1": 1,
            **drivers("positive", {"effectiveness", "efficiency"}),
            **drivers("negative", set()),
            "question_4": "Quick and friendly",
        },
    ),
    (
        "a11-v2-thumbs",
        "en",
        ["👎", "2", "The form kept timing out"],
        {
            "question_1": 0,
            **drivers("positive", set()),
            **drivers("negative", {"ease"}),
            "question_4": "The form kept timing out",
        },
    ),
    (
        "a11-v2-thumbs",
        "es",
        ["sí", "1 y 2", "Muy amables"],
        {
            "question_1": 1,
            **drivers("positive", {"effectiveness", "ease"}),
            **drivers("negative", set()),
            "question_4": "Muy amables",
        },
    ),
    (
        "a11-v2-thumbs",
        "es",
        ["no", "tiempo", "omitir"],
        {
            "question_1": 0,
            **drivers("positive", set()),
            **drivers("negative", {"efficiency"}),
            "question_4": None,
        },
    ),
    (
        "a11-v2-scale",
        "en",
        ["5/5", "all", "skip"],
        {
            "question_1": 5,
            **drivers("positive", set(DRIVERS)),
            **drivers("negative", set()),
            "question_4": None,
        },
    ),
    (
        "a11-v2-scale",
        "en",
        ["4", "none", "ok"],
        {
            "question_1": 4,
            **drivers("positive", set()),
            **drivers("negative", set()),
            "question_4": "ok",
        },
    ),
    # a neutral 3 goes to "what didn't go so well"
    (
        "a11-v2-scale",
        "en",
        ["neutral", "staff", "-"],
        {
            "question_1": 3,
            **drivers("positive", set()),
            **drivers("negative", {"employee"}),
            "question_4": "-",
        },
    ),
    (
        "a11-v2-scale",
        "es",
        ["totalmente en desacuerdo", "4 5", "Nadie me explicó nada"],
        {
            "question_1": 1,
            **drivers("positive", set()),
            **drivers("negative", {"transparency", "humanity"}),
            "question_4": "Nadie me explicó nada",
        },
    ),
    (
        "a11-v2-scale",
        "es",
        ["de acuerdo", "omitir", "omitir"],
        {
            "question_1": 4,
            **drivers("positive", set()),
            **drivers("negative", set()),
            "question_4": None,
        },
    ),
]


@pytest.mark.parametrize(("flow_id", "lang", "replies", "expected"), V2_WALKS)
def test_v2_walk(flow_id: str, lang: str, replies: list[str], expected: dict[str, object]) -> None:
    flow = FLOWS[flow_id]
    session, messages, events = run(flow, replies, lang)
    assert session.status == "completed"
    assert events[0] == "started" and events[-1] == "completed"
    assert a11_fields(flow, session) == expected
    assert list(expected) == list(V2_COLUMNS[1:])
    assert messages[-1] == engine.message(flow, session, "closing")
    # intro + one message per question + closing
    assert len(messages) == 1 + 3 + 1
    assert "STOP" in messages[0] and "Example Agency" in messages[0] and "1234-5678" in messages[0]
    assert "Passport renewal" in messages[1]
    json.dumps(session.to_dict())  # the state is plain data


def test_v2_drivers_prompt_follows_the_branch() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    _, up, _ = run(flow, ["1"])
    _, down, _ = run(flow, ["0"])
    assert up[-1].startswith("What went well?")
    assert down[-1].startswith("What didn't go so well?")
    assert (
        up[-1].splitlines()[1:]
        == down[-1].splitlines()[1:]
        == [
            "1 Getting my need met",
            "2 Ease",
            "3 Time it took",
            "4 Clarity",
            "5 Respect",
            "6 Staff",
            "7 Other",
        ]
    )
    _, es, _ = run(flow, ["0"], "es")
    assert es[-1].startswith("¿Qué no estuvo tan bien?")


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("staff", [True, False])
def test_v1_walk(lang: str, staff: bool) -> None:
    flow = FLOWS["a11-v1"]
    replies = ["5", "4", "3", "2", "1", "agree"] + (["strongly agree"] if staff else []) + ["Fine"]
    context = {**CONTEXT, "attributes": {"staff_assisted": staff}}
    step = engine.start(flow, now=T0, context=context, language=lang)
    session = step.session
    for text in replies:
        step = engine.reply(flow, session, text, T0)
        session = step.session
    assert session.status == "completed"
    assert a11_fields(flow, session) == {
        "q1": 5,
        "q2": 4,
        "q3": 3,
        "q4": 2,
        "q5": 1,
        "q6": 4,
        "q7": 5 if staff else None,
        "comment": "Fine",
    }
    assert "q7" in session.answers if staff else "q7" not in session.answers


def test_reprompt_then_answer() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session, messages, events = run(flow, ["maybe", "yes"])
    assert events == ["started", "reprompted", "answered"]
    assert messages[2] == "Sorry, I didn't get that. Reply 1 for Yes or 0 for No, or SKIP."
    assert session.question == "drivers" and session.attempts == 0
    assert session.answers["question_1"].attempts == 2


def test_drivers_reprompt_repeats_the_options() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    _, messages, _ = run(flow, ["yes", "dunno"])
    assert messages[-1].startswith("Sorry, I didn't get that. Reply with the numbers")
    assert messages[-1].endswith("7 Other")


def test_max_attempts_records_unanswered_and_moves_on() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session, messages, events = run(flow, ["maybe", "perhaps", "It was fine"])
    assert events == ["started", "reprompted", "unanswered", "answered", "completed"]
    # no trust answer: neither driver branch is asked, straight to the comment
    assert messages[3].startswith("Anything else")
    assert session.answers["question_1"].status == "unanswered"
    fields = a11_fields(flow, session)
    assert fields["question_1"] is None and fields["question_4"] == "It was fine"
    # offered and not chosen, as Touchpoints writes them (no response row is made of it)
    assert all(fields[c] == 0 for c in V2_COLUMNS if c.startswith(("positive", "negative")))


def test_a_flows_own_skip_words_match_as_typed(tmp_path: Path) -> None:
    data = yaml.safe_load((FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8"))
    data["skip_words"] = ["Siguiente Pregunta", "PRÓXIMA"]
    (tmp_path / "own.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    flow = load_flows(tmp_path)[data["id"]]
    _, _, events = run(flow, ["siguiente  pregunta!", "Proxima"])
    assert events == ["started", "skipped", "skipped", "completed"]


def test_skip_every_question() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session, _, events = run(flow, ["skip", "SKIP"])
    assert events == ["started", "skipped", "skipped", "completed"]
    assert disposition(session) == "completed"
    fields = a11_fields(flow, session)
    assert fields["question_1"] is None and fields["question_4"] is None
    assert {fields[c] for c in V2_COLUMNS[2:-1]} == {0}  # offered, nothing picked


def test_partial_and_expired() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session, _, _ = run(flow, ["yes", "1"])
    expired = engine.expire(flow, session, T0 + timedelta(days=3))
    assert [e.kind for e in expired.events] == ["expired"] and expired.messages == ()
    assert disposition(expired.session) == "partial"
    fields = a11_fields(flow, expired.session)
    assert fields["question_1"] == 1 and fields["positive_effectiveness"] == 1
    assert fields["positive_ease"] == 0 and fields["question_4"] is None

    untouched = engine.start(flow, now=T0, context=CONTEXT).session
    assert disposition(engine.expire(flow, untouched, T0 + timedelta(days=3)).session) == "expired"


def test_reply_after_expiry_gets_closed_message() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session = engine.start(flow, now=T0, context=CONTEXT, ttl=timedelta(hours=72)).session
    late = engine.reply(flow, session, "yes", T0 + timedelta(hours=72))
    assert late.messages == ("This survey has closed. Thank you for your time.",)
    assert [e.kind for e in late.events] == ["expired", "closed_reply"]
    assert late.session.status == "expired" and late.session.answers == {}
    again = engine.reply(flow, late.session, "hello?", T0 + timedelta(hours=80))
    assert [e.kind for e in again.events] == ["closed_reply"]


def test_reply_after_completion_gets_closed_message_in_spanish() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session, _, _ = run(flow, ["sí", "1", "gracias"], "es")
    step = engine.reply(flow, session, "hola", T0 + timedelta(hours=1))
    assert step.messages == ("La encuesta ha cerrado. Gracias por su tiempo.",)
    assert step.session == session


def test_one_reminder_only() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session = engine.start(flow, now=T0, context=CONTEXT).session
    first = engine.remind(flow, session, T0 + timedelta(hours=24))
    assert first.messages[0].startswith("Reminder from Example Agency")
    assert "increased my trust" in first.messages[0]
    assert engine.remind(flow, first.session, T0 + timedelta(hours=48)).messages == ()


def test_language_switch_mid_survey() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    session, messages, events = run(flow, ["español", "sí"])
    assert events[1] == "language_changed"
    assert messages[2].startswith("Esta interacción aumentó mi confianza")
    assert messages[3].startswith("¿Qué estuvo bien?")
    assert session.language == "es"


def test_unknown_language_falls_back_to_default() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    assert engine.start(flow, now=T0, language="fr").session.language == "en"
    assert engine.start(flow, now=T0, language="es-US").session.language == "es"


def test_service_can_offer_fewer_drivers() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    offered = ("effectiveness", "ease", "efficiency", "other")
    session, messages, _ = run(flow, ["yes", "3 4", "no"], offered_drivers=("efficiency", "other"))
    assert messages[2].splitlines()[1:] == [
        "1 Getting my need met",
        "2 Ease",
        "3 Time it took",
        "4 Other",
    ]
    fields = a11_fields(flow, session)
    assert fields == {
        "question_1": 1,
        **drivers("positive", {"efficiency", "other"}, offered),
        **drivers("negative", set(), offered),
        "question_4": "no",
    }


def test_session_round_trips_through_json() -> None:
    flow = FLOWS["a11-v2-scale"]
    session, _, _ = run(flow, ["2", "1 2"])
    restored = Session.from_dict(json.loads(json.dumps(session.to_dict())))
    assert restored == session
    a = engine.reply(flow, session, "too slow", T0 + timedelta(hours=1))
    b = engine.reply(flow, restored, "too slow", T0 + timedelta(hours=1))
    assert a == b


def test_no_omb_number_leaves_no_dangling_text() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    step = engine.start(flow, now=T0, context={"agency": "Example Agency", "service": "Visas"})
    assert (
        step.messages[0] == "Example Agency: 3 quick questions about Visas. Reply STOP to opt out."
    )


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_english_prompts_fit_one_segment(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    session = engine.start(flow, now=T0, context=CONTEXT).session
    for q in flow.questions:
        text = engine.question_text(flow, session, q)
        info = segment_info(text)
        assert info.encoding == "GSM-7" and info.segments == 1, (q.id, text)
