"""How to answer, worded per kind of interface (``bot.core.wording``): the built-in wording is
complete and the schema knows it, each interface's words in every message of the built-in
flows (tables), a flow's own wording laid over the built-in, and the interface a stored survey
takes from its channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml

from bot import registry
from bot.core import engine
from bot.core.flow import Flow, render
from bot.core.flowfile import load_flows, parse_flow
from bot.core.records import session_of, stored
from bot.core.session import Answer, Session
from bot.core.wording import ANSWERS, DEFAULTS, INTERFACES, NAMES, Interface
from flows import FLOWS_DIR

FLOWS = load_flows()
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CONTEXT = {"agency": "Example Agency", "service": "Passport renewal", "provider": "Example Agency",
           "omb_control_number": "1234-5678"}  # fmt: skip


def session(flow: Flow, interface: Interface, language: str, **answers: int) -> Session:
    started = engine.start(flow, now=T0, context=CONTEXT, language=language,
                           interface=interface).session  # fmt: skip
    return started.with_(answers={q: Answer("answered", v) for q, v in answers.items()})


def test_the_built_in_wording_is_complete_and_the_schema_names_it() -> None:
    for interface in INTERFACES:
        assert list(DEFAULTS[interface]) == list(NAMES)
        for name, text in DEFAULTS[interface].items():
            assert set(text) == {"en", "es"}, (interface, name)
    assert set(DEFAULTS["text"]["opt_out"]["es"].split()) >= {"STOP"}
    schema = json.loads((FLOWS_DIR / "flow.schema.json").read_text(encoding="utf-8"))
    instructions = schema["properties"]["instructions"]
    assert tuple(instructions["propertyNames"]["enum"]) == INTERFACES
    assert tuple(instructions["additionalProperties"]["propertyNames"]["enum"]) == NAMES
    assert len(NAMES) == 2 + 2 * len(ANSWERS)


def test_each_channel_declares_its_interface() -> None:
    kinds = registry.kinds()
    assert {name: kinds[name].interface for name in ("sms", "whatsapp", "slack", "webchat")} == {
        "sms": "text", "whatsapp": "text", "slack": "buttons", "webchat": "web"}  # fmt: skip


INTROS = [
    # flow, interface, language, the intro as said
    ("a11-v2-thumbs", "text", "en",
     "Example Agency: 3 quick questions about Passport renewal. Reply STOP to opt out. "
     "OMB 1234-5678"),
    ("a11-v2-thumbs", "text", "es",
     "Example Agency: 3 preguntas breves sobre Passport renewal. Responda STOP para cancelar. "
     "OMB 1234-5678"),
    ("a11-v2-thumbs", "buttons", "en",
     "Example Agency: 3 quick questions about Passport renewal. Reply STOP to opt out. "
     "OMB 1234-5678"),
    ("a11-v2-thumbs", "web", "en",
     "Example Agency: 3 quick questions about Passport renewal. OMB 1234-5678"),
    ("a11-v2-thumbs", "web", "es",
     "Example Agency: 3 preguntas breves sobre Passport renewal. OMB 1234-5678"),
    ("a11-v2-thumbs", "voice", "en",
     "Example Agency: 3 quick questions about Passport renewal. To stop these calls, press 9. "
     "OMB 1234-5678"),
    ("a11-v2-thumbs", "voice", "es",
     "Example Agency: 3 preguntas breves sobre Passport renewal. Para no recibir más llamadas, "
     "oprima 9. OMB 1234-5678"),
    ("a11-v1", "web", "en",
     "Example Agency: a short survey about Passport renewal. Answer 1 (strongly disagree) to 5 "
     "(strongly agree). OMB 1234-5678"),
]  # fmt: skip


@pytest.mark.parametrize(("flow_id", "interface", "language", "expected"), INTROS)
def test_the_intro_says_how_to_opt_out_in_the_interface_s_words(
    flow_id: str, interface: Interface, language: str, expected: str
) -> None:
    flow = FLOWS[flow_id]
    step = engine.start(flow, now=T0, context=CONTEXT, language=language, interface=interface)
    assert step.messages[0] == expected


QUESTIONS = [
    # flow, interface, language, question, answers so far, the question as asked
    ("a11-v2-thumbs", "text", "en", "question_1", {},
     "This interaction increased my trust in Example Agency. Reply 1 for Yes, 0 for No."),
    ("a11-v2-thumbs", "text", "es", "question_1", {},
     "Esta interacción aumentó mi confianza en Example Agency. 1=Sí 0=No"),
    ("a11-v2-thumbs", "buttons", "en", "question_1", {},
     "This interaction increased my trust in Example Agency."),
    ("a11-v2-thumbs", "web", "es", "question_1", {},
     "Esta interacción aumentó mi confianza en Example Agency."),
    ("a11-v2-thumbs", "voice", "en", "question_1", {},
     "This interaction increased my trust in Example Agency. Press 1 for yes, 2 for no, or say "
     "yes or no."),
    ("a11-v2-scale", "text", "en", "question_1", {},
     "This interaction increased my trust in Example Agency. Reply 1 (strongly disagree) to 5 "
     "(strongly agree)."),
    ("a11-v2-scale", "buttons", "es", "question_1", {},
     "Esta interacción aumentó mi confianza en Example Agency. Elija de 1 (muy en desacuerdo) a "
     "5 (muy de acuerdo)."),
    ("a11-v2-scale", "web", "en", "question_1", {},
     "This interaction increased my trust in Example Agency."),
    ("a11-v2-thumbs", "text", "en", "drivers", {"question_1": 0},
     "What didn't go so well? Reply all that apply, e.g. 1 3\n1 Getting my need met\n2 Ease\n"
     "3 Time it took\n4 Clarity\n5 Respect\n6 Staff\n7 Other"),
    ("a11-v2-thumbs", "buttons", "en", "drivers", {"question_1": 1},
     "What went well? Choose all that apply, then Submit."),
    ("a11-v2-thumbs", "web", "es", "drivers", {"question_1": 1},
     "¿Qué estuvo bien? Elija todas las que apliquen."),
    ("a11-v2-thumbs", "voice", "en", "drivers", {"question_1": 1},
     "What went well? Press the numbers that apply, then the pound key, or say them.\n"
     "For Getting my need met, press 1.\nFor Ease, press 2.\nFor Time it took, press 3.\n"
     "For Clarity, press 4.\nFor Respect, press 5.\nFor Staff, press 6.\nFor Other, press 7."),
    ("a11-v2-thumbs", "text", "es", "question_4", {},
     "¿Hay algo que quiera contarnos de su experiencia? Escriba su mensaje u OMITIR."),
    ("a11-v2-thumbs", "web", "en", "question_4", {},
     "Anything else you want us to know about your experience?"),
    ("a11-v2-thumbs", "voice", "es", "question_4", {},
     "¿Hay algo que quiera contarnos de su experiencia? Por favor, diga su comentario ahora. "
     "Para omitir, oprima la tecla numeral."),
    # A-11 v1 words its scale once in the intro: "(1-5)" by text and in Slack (its own
    # instructions), the built-in words elsewhere.
    ("a11-v1", "text", "en", "q2", {},
     "This interaction increased my trust in Example Agency. (1-5)"),
    ("a11-v1", "buttons", "es", "q2", {},
     "Esta interacción aumentó mi confianza en Example Agency. (1-5)"),
    ("a11-v1", "web", "en", "q2", {}, "This interaction increased my trust in Example Agency."),
    ("a11-v1", "voice", "en", "q2", {},
     "This interaction increased my trust in Example Agency. Press or say a number from 1, "
     "strongly disagree, to 5, strongly agree."),
]  # fmt: skip


@pytest.mark.parametrize(("flow_id", "interface", "language", "question", "answers", "expected"),
                         QUESTIONS)  # fmt: skip
def test_a_question_is_asked_in_the_interface_s_words(
    flow_id: str, interface: Interface, language: str, question: str, answers: dict[str, int],
    expected: str,
) -> None:  # fmt: skip
    flow = FLOWS[flow_id]
    asked = session(flow, interface, language, **answers)
    assert engine.question_text(flow, asked, flow.question(question)) == expected


REPROMPTS = [
    # flow, interface, language, question, the hint after a reply not understood
    ("a11-v2-thumbs", "text", "en", "question_1",
     "Sorry, I didn't get that. Reply 1 for Yes or 0 for No, or SKIP."),
    ("a11-v2-thumbs", "buttons", "es", "question_1",
     "Disculpe, no le entendimos. Elija Sí o No, o responda OMITIR."),
    ("a11-v2-thumbs", "web", "en", "question_1",
     "Sorry, I didn't get that. Choose Yes or No, or skip this question."),
    ("a11-v2-thumbs", "voice", "en", "question_1",
     "Sorry, I didn't get that. Press 1 for yes or 2 for no, or say yes or no."),
    ("a11-v2-scale", "web", "es", "question_1",
     "Disculpe, no le entendimos. Elija un número del 1 al 5, u omita esta pregunta."),
    ("a11-v2-thumbs", "web", "en", "question_4",
     "Please write a short message, or skip this question."),
]  # fmt: skip


@pytest.mark.parametrize(("flow_id", "interface", "language", "question", "expected"), REPROMPTS)
def test_a_reply_not_understood_gets_the_interface_s_hint(
    flow_id: str, interface: Interface, language: str, question: str, expected: str
) -> None:
    flow = FLOWS[flow_id]
    at = session(flow, interface, language).with_(question=question)
    assert engine.reprompt_text(flow, at, flow.question(question)) == expected
    if question == "question_1":  # a rating: a word that is no answer gets the hint
        assert engine.reply(flow, at, "purple", T0).messages == (expected,)


def flow_with(change: dict[str, object]) -> Flow:
    data = yaml.safe_load((FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8"))
    data.update(change)
    flow, errors = parse_flow(data, "test")
    assert flow is not None, errors
    return flow


def test_a_flow_s_own_wording_is_laid_over_the_built_in() -> None:
    flow = flow_with({"instructions": {
        "web": {"thumbs": {"en": "Press a thumb."}, "option": {"en": "({number}) {label}"}},
        "text": {"opt_out": {"es": "Para cancelar, STOP."}},
    }})  # fmt: skip
    web = session(flow, "web", "en")
    assert engine.question_text(flow, web, flow.question("question_1")).endswith("Press a thumb.")
    drivers = session(flow, "web", "en", question_1=1)
    assert "\n(2) Ease\n" in engine.question_text(flow, drivers, flow.question("drivers"))
    # Spanish keeps the built-in web wording; the text intro takes the flow's own.
    web_es = session(flow, "web", "es")
    assert engine.question_text(flow, web_es, flow.question("question_1")).endswith("Agency.")
    intro = engine.start(flow, now=T0, context=CONTEXT, language="es").messages[0]
    assert "Para cancelar, STOP. OMB" in intro


def test_a_question_s_own_reprompt_is_said_on_every_interface() -> None:
    data = yaml.safe_load((FLOWS_DIR / "a11-v2-thumbs.yaml").read_text(encoding="utf-8"))
    data["questions"][0]["reprompt"] = {"en": "Was it yes or no?"}
    flow, errors = parse_flow(data, "test")
    assert flow is not None, errors
    for interface in INTERFACES:
        step = engine.reply(flow, session(flow, interface, "en"), "purple", T0)
        assert step.messages == ("Was it yes or no?",)
    spanish = engine.reply(flow, session(flow, "web", "es"), "morado", T0)
    assert spanish.messages == (
        "Disculpe, no le entendimos. Elija Sí o No, u omita esta pregunta.",
    )


def test_a_missing_placeholder_leaves_no_double_space() -> None:
    assert render("{a}: one. {opt_out} {b}", {"a": "X", "b": "OMB 1"}) == "X: one. OMB 1"
    assert render("line one.\n  {x} two", {"x": "a"}) == "line one.\n a two"


def test_a_stored_survey_takes_its_interface_from_its_channel() -> None:
    flow = FLOWS["a11-v2-thumbs"]
    web = session(flow, "web", "en")
    kept = stored(web)
    assert "interface" not in kept  # the record's channel says it
    record = {"flow_id": flow.id, "flow_version": flow.version, "session": kept,
              "channel": "webchat", "service": "benefits-application"}  # fmt: skip
    again = session_of(record, None, "web")  # type: ignore[arg-type]
    assert again.interface == "web" and again.with_(context=web.context) == web
    assert Session.from_dict({**web.to_dict(), "interface": "fax"}).interface == "text"
