"""Themes (pure): the tagger, the phrase syntax, a service's taxonomy in the catalog, the
preview of a change, and themes in the response record."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import response
from bot.core.catalog import parse_catalog
from bot.core.flowfile import load_flows
from bot.core.themes import Taxonomy, parse_themes, phrase_problem, preview, tag, theme
from bot.core.themes_default import DEFAULT
from bot.registry import kinds
from flows import FLOWS_DIR

from .records import FLOWS, REPORTED, ended_survey

# Comments written for these tests (not taken from any set the tagger is measured on).
TAGS = [
    ("waited 3 hrs and then the clerk was rude", "en",
     ("staff", "wait_time")),
    ("the portal logs me out every time i upload my pay stubs", "en",
     ("paperwork", "website")),
    ("id.me wants a selfie but my camera is broken", "en", ("identity",)),
    ("nobody answers the 800 number, just a recording", "en", ("phone",)),
    ("my refund check was short $200 and no letter explaining why", "en",
     ("communication", "money", "paperwork")),
    ("they cancelled my appt the night before", "en", ("appointments",)),
    ("no interpreter for my mom who only speaks creole", "en", ("language_access",)),
    ("thanks, all good", "en", ()),
    ("n/a", "en", ()),
    ("espere 2 horas en la fila y nadie me explico nada", "es",
     ("communication", "wait_time")),
    ("la pagina se cae cuando subo el acta de nacimiento", "es", ("paperwork", "website")),
    ("el codigo de verificacion nunca llega", "es", ("identity",)),
    ("me colgaron 3 veces en la linea de ayuda", "es", ("phone",)),
    ("la señorita de la ventanilla fue muy amable", "es", ("staff",)),
    ("no habia nadie q hablara español", "es", ("language_access",)),
    ("me cobraron dos veces la cuota", "es", ("money",)),
    ("nada mas, gracias", "es", ()),
    # the words decide the language: a Spanish comment in an English survey
    ("me cambiaron la cita sin avisar", "en", ("appointments", "communication")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "language", "themes"), TAGS)
def test_default_themes(text: str, language: str, themes: tuple[str, ...]) -> None:
    assert tag(text, language, DEFAULT) == themes


def test_nothing_to_tag() -> None:
    assert tag(None, "en", DEFAULT) == () and tag("   ", "es", DEFAULT) == ()


PHRASES = Taxonomy(
    (
        theme("hold", {"en": "Hold"}, {"en": ["on hold"]}),
        theme("refunds", {"en": "Refunds"}, {"en": ["refund*"]}),
        theme("hours", {"en": "Hours"}, {"en": ["# hours"]}),
        theme("dollars", {"en": "Dollars"}, {"en": ["$"]}),
        theme("appointments", {"en": "Appointments"}, {"en": ["appointment"]}),
        theme("office", {"en": "Office", "es": "Oficina"}, {"es": ["atención"]}),
    )
)


@pytest.mark.parametrize(
    ("text", "language", "themes"),
    [
        ("ON HOLD!!", "en", ("hold",)),
        ("my household benefits", "en", ()),  # whole words only
        ("refunds", "en", ("refunds",)),
        ("refunded late", "en", ("refunds",)),
        ("it took three hrs", "en", ("hours",)),  # a number in words; "hrs" written out
        ("2 hours", "en", ("hours",)),
        ("paid $130 twice", "en", ("dollars",)),
        ("my appt moved", "en", ("appointments",)),  # shorthand as comments are read
        ("buena atencion", "es", ("office",)),  # accents optional on both sides
        ("buena atención", "es", ("office",)),
    ],
)
def test_phrase_syntax(text: str, language: str, themes: tuple[str, ...]) -> None:
    assert tag(text, language, PHRASES) == themes


@pytest.mark.parametrize(
    ("phrase", "problem"),
    [
        ("on hold", None),
        ("refund*", None),
        ("# hours", None),
        ("w-2", None),
        ("", "is empty"),
        ("*", "has a word with nothing to match ('*')"),
        ("a*", "matches too much: give at least two letters or digits"),
        ("re*fund", "has a * that is not at the end of a word"),
        ("on (hold)", "may hold only letters, digits, spaces and * # $ ' . / -"),
        ("x" * 81, "is longer than 80 characters"),
    ],
)
def test_phrase_problems(phrase: str, problem: str | None) -> None:
    assert phrase_problem(phrase) == problem


def test_a_service_extends_a_default_theme_and_adds_its_own() -> None:
    taxonomy, errors = parse_themes(
        [
            {"id": "staff", "label": {"en": "People"}, "phrases": {"en": ["navigator*"]}},
            {"id": "housing", "label": {"en": "Housing", "es": "Vivienda"},
             "phrases": {"en": ["rent"], "es": ["casero"]}},
        ],
        DEFAULT, ("en", "es"), "services.yaml", "services[0].themes",
    )  # fmt: skip
    assert errors == []
    assert taxonomy.ids() == (*DEFAULT.ids(), "housing")
    assert taxonomy.label("staff", "en") == "People"
    assert taxonomy.label("staff", "es") == "Personal"  # the default's label is kept
    assert tag("the navigators were great", "en", taxonomy) == ("staff",)
    assert tag("the clerk was great", "en", taxonomy) == ("staff",)  # defaults still there
    assert tag("el casero subio todo", "es", taxonomy) == ("housing",)
    assert taxonomy.label("housing", "es") == "Vivienda"
    assert taxonomy.label("gone", "en") == "gone"  # a theme tagged before a change


def test_a_service_replaces_the_defaults() -> None:
    taxonomy, errors = parse_themes(
        [{"id": "staff", "label": {"en": "Staff"}, "phrases": {"en": ["ranger*"]}}],
        None, ("en",), "services.yaml", "services[0].themes",
    )  # fmt: skip
    assert errors == [] and taxonomy.ids() == ("staff",)
    assert tag("the ranger was kind", "en", taxonomy) == ("staff",)
    assert tag("the clerk was kind", "en", taxonomy) == ()  # the defaults are gone


def test_theme_errors_are_named_at_their_path() -> None:
    _, errors = parse_themes(
        [
            {"id": "housing", "label": {"en": "Housing"}, "phrases": {"en": ["rent", "*"]}},
            {"id": "housing", "label": {"en": "Housing", "es": "Vivienda"},
             "phrases": {"en": ["rent"], "es": ["renta"]}},
        ],
        DEFAULT, ("en", "es"), "services.yaml", "services[2].themes",
    )  # fmt: skip
    assert [(e.path, e.message) for e in errors] == [
        ("services[2].themes[0].phrases.en[1]",
         "phrase '*' has a word with nothing to match ('*')"),
        ("services[2].themes[0].label", "a new theme needs a label in 'es'"),
        ("services[2].themes[0].phrases", "a new theme needs phrases in 'es'"),
        ("services[2].themes[1].id", "theme 'housing' is given twice"),
    ]  # fmt: skip


def _catalog(**entry: Any) -> dict[str, Any]:
    service = {"id": "passports", "name": "Passports", "agency": "State", "flow": "a11-v2-thumbs",
               "channels": ["sms"], **entry}  # fmt: skip
    return {"services": [service]}


def test_the_catalog_checks_themes_at_load() -> None:
    flows = load_flows(FLOWS_DIR)
    good = _catalog(themes=[{"id": "travel", "label": {"en": "Travel", "es": "Viaje"},
                             "phrases": {"en": ["flight*"], "es": ["vuelo*"]}}])  # fmt: skip
    services, errors = parse_catalog(good, "services.yaml", flows, kinds())
    assert errors == []
    assert services["passports"].themes.ids()[-1] == "travel"
    plain, _ = parse_catalog(_catalog(), "services.yaml", flows, kinds())
    assert plain["passports"].themes is DEFAULT
    none, _ = parse_catalog(_catalog(default_themes=False), "services.yaml", flows, kinds())
    assert none["passports"].themes.ids() == ()
    bad = _catalog(themes=[{"id": "Travel!", "phrases": {"en": ["flight"]}},
                           {"id": "travel", "phrases": {"en": ["flight"]}}])  # fmt: skip
    _, errors = parse_catalog(bad, "services.yaml", flows, kinds())
    paths = sorted(e.path for e in errors)
    assert paths[0].startswith("services[0]") and any("Travel!" in str(e) for e in errors)
    flow_languages = _catalog(themes=[{"id": "travel", "label": {"en": "Travel"},
                                       "phrases": {"en": ["flight"]}}])  # fmt: skip
    _, errors = parse_catalog(flow_languages, "services.yaml", flows, kinds())
    assert sorted(e.path for e in errors) == [
        "services[0].themes[0].label",
        "services[0].themes[0].phrases",
    ]  # the flow speaks Spanish too


def test_the_shipped_catalog_extends_the_defaults() -> None:
    flows = load_flows(FLOWS_DIR)
    from bot.core.catalog import load_catalog

    services = load_catalog(FLOWS_DIR / "services.yaml", flows, kinds())
    taxonomy = services["benefits-application"].themes
    assert taxonomy.ids() == (*DEFAULT.ids(), "housing")
    assert tag("my landlord wants the rent", "en", taxonomy) == ("housing",)


def test_preview_shows_each_themes_matches_on_samples() -> None:
    samples = ["on hold for 2 hours", "the clerk was kind", "nada", "me cobraron de mas"]
    matches = preview(DEFAULT, samples, "en")
    assert list(matches) == list(DEFAULT.ids())  # every theme, matched or not
    assert [(m.comment, m.phrase) for m in matches["phone"]] == [(0, "on hold")]
    assert [m.comment for m in matches["wait_time"]] == [0]
    assert [(m.comment, m.phrase) for m in matches["staff"]] == [(1, "clerk*")]
    assert [(m.comment, m.phrase) for m in matches["money"]] == [(3, "cobr*")]
    assert matches["identity"] == []


def test_the_record_keeps_the_themes_of_the_redacted_text() -> None:
    # The address holds "refund" and "clerk": tagged before redaction it would be money and
    # staff; the record tags what is kept.
    survey = ended_survey(7, ["yes", "1", "on hold 2 hrs, write me at refund.clerk@example.com"])
    housing = Taxonomy((*DEFAULT.themes, theme("housing", {"en": "Housing"}, {"en": ["rent"]})))
    record = response.build(survey, FLOWS[survey["flow_id"]], REPORTED["sms"], housing)
    response.validate(record)
    assert record["free_text"] == "on hold 2 hrs, write me at [EMAIL]"
    assert record["themes"] == ["phone", "wait_time"]
    survey = ended_survey(8, ["yes", "1", "they raised my rent"])
    record = response.build(survey, FLOWS[survey["flow_id"]], REPORTED["sms"], housing)
    assert record["themes"] == ["housing"]
    no_comment = response.build(ended_survey(9, ["yes", "1", "skip"]), FLOWS["a11-v2-thumbs"],
                                REPORTED["sms"])  # fmt: skip
    response.validate(no_comment)
    assert no_comment["themes"] == []
