"""Answer parsing tables, English and Spanish."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.a11 import DRIVERS
from bot.core.answers import (
    is_skip,
    language_request,
    parse_choice,
    parse_drivers,
    parse_scale,
    parse_text,
    parse_thumbs,
)
from bot.core.flow import Option
from bot.core.text import _CURLY, fold, strip_accents, strip_edge_punctuation

THUMBS = [
    ("1", 1),
    ("0", 0),
    ("y", 1),
    ("Y", 1),
    ("yes", 1),
    ("YES", 1),
    ("Yes!", 1),
    ("  yes.  ", 1),
    ("yeah", 1),
    ("Yeah!!", 1),
    ("yep", 1),
    ("yup", 1),
    ("yesss", 1),
    ("sure", 1),
    ("absolutely", 1),
    ("sí", 1),
    ("Sí", 1),
    ("si", 1),
    ("SI", 1),
    ("¡Sí!", 1),
    ("claro", 1),
    ("claro que sí", 1),
    ("por supuesto", 1),
    ("👍", 1),
    ("👍🏽", 1),
    ("👍🏿", 1),
    ("👍️", 1),
    ("👍👍", 1),
    ("thumbs up", 1),
    ("Thumbs Up!", 1),
    ("pulgar arriba", 1),
    ("yes thanks", 1),
    ("Yes, thank you", 1),
    ("1 yes", 1),
    ("yes\nSent from my iPhone", 1),
    ("Yes\n-- Maria", 1),
    ("yes\nMaria Lopez", 1),
    ("\n\nyes\n\n", 1),
    ("1.", 1),
    ("n", 0),
    ("N", 0),
    ("no", 0),
    ("NO", 0),
    ("No.", 0),
    ("nope", 0),
    ("Nope!", 0),
    ("nah", 0),
    ("noooo", 0),
    ("not really", 0),
    ("not at all", 0),
    ("para nada", 0),
    ("👎", 0),
    ("👎🏻", 0),
    ("thumbs down", 0),
    ("pulgar abajo", 0),
    ("0 no", 0),
    ("no\nEnviado desde mi iPhone", 0),
    # not understood: reprompt
    ("", None),
    ("   ", None),
    ("2", None),
    ("10", None),
    ("maybe", None),
    ("yes no", None),
    ("1 0", None),
    ("no thanks", None),
    ("no gracias", None),
    ("what is this?", None),
    ("👍👎", None),
    ("the service was great", None),
]


@pytest.mark.parametrize(("text", "expected"), THUMBS)
def test_thumbs(text: str, expected: int | None) -> None:
    assert parse_thumbs(text) == expected


SCALE = [
    ("1", 1),
    ("2", 2),
    ("3", 3),
    ("4", 4),
    ("5", 5),
    (" 5 ", 5),
    ("5!", 5),
    ("5/5", 5),
    ("4/5", 4),
    ("4 / 5", 4),
    ("3 out of 5", 3),
    ("2 of 5", 2),
    ("4 de 5", 4),
    ("4 stars", 4),
    ("1 star", 1),
    ("5 estrellas", 5),
    ("⭐⭐⭐", 3),
    ("four", 4),
    ("cuatro", 4),
    ("cinco", 5),
    ("strongly agree", 5),
    ("Strongly Agree", 5),
    ("I strongly agree", 5),
    ("agree", 4),
    ("I agree", 4),
    ("Agree.", 4),
    ("somewhat agree", 4),
    ("neutral", 3),
    ("neither agree nor disagree", 3),
    ("Neither", 3),
    ("disagree", 2),
    ("I disagree", 2),
    ("don't agree", 2),
    ("don’t agree", 2),
    ("strongly disagree", 1),
    ("STRONGLY DISAGREE!!", 1),
    ("totalmente de acuerdo", 5),
    ("Totalmente de acuerdo", 5),
    ("muy de acuerdo", 5),
    ("de acuerdo", 4),
    ("estoy de acuerdo", 4),
    ("ni de acuerdo ni en desacuerdo", 3),
    ("neutro", 3),
    ("en desacuerdo", 2),
    ("no estoy de acuerdo", 2),
    ("totalmente en desacuerdo", 1),
    ("muy en desacuerdo", 1),
    ("5 thanks", 5),
    ("I'd say 4", 4),
    ("4\nSent from my Galaxy", 4),
    ("4\nJohn", 4),
    ("5 strongly agree", 5),
    # not understood
    ("0", None),
    ("6", None),
    ("10", None),
    ("3.5", None),
    ("45", None),
    ("yes", None),
    ("no", None),
    ("agree disagree", None),
    ("4 5", None),
    ("5 disagree", None),
    ("idk", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), SCALE)
def test_scale(text: str, expected: int | None) -> None:
    assert parse_scale(text) == expected


ALL = list(DRIVERS)
WITHOUT_STAFF = [d for d in DRIVERS if d != "employee"]
DRIVER_CASES: list[tuple[str, list[str], list[str] | None]] = [
    ("1", ALL, ["effectiveness"]),
    ("7", ALL, ["other"]),
    ("1 3", ALL, ["effectiveness", "efficiency"]),
    ("1,3", ALL, ["effectiveness", "efficiency"]),
    ("1, 3", ALL, ["effectiveness", "efficiency"]),
    ("1;3", ALL, ["effectiveness", "efficiency"]),
    ("1 and 3", ALL, ["effectiveness", "efficiency"]),
    ("1 & 3", ALL, ["effectiveness", "efficiency"]),
    ("2 y 5", ALL, ["ease", "humanity"]),
    ("2 e 5", ALL, ["ease", "humanity"]),
    ("3 1", ALL, ["effectiveness", "efficiency"]),
    ("13", ALL, ["effectiveness", "efficiency"]),
    ("135", ALL, ["effectiveness", "efficiency", "humanity"]),
    ("1 1 1", ALL, ["effectiveness"]),
    ("1\n3", ALL, ["effectiveness", "efficiency"]),
    ("1 3\n-- Ana", ALL, ["effectiveness", "efficiency"]),
    ("1,2,3,4,5,6,7", ALL, ALL),
    ("1/3", ALL, ["effectiveness", "efficiency"]),
    ("uno y dos", ALL, ["effectiveness", "ease"]),
    ("one and three", ALL, ["effectiveness", "efficiency"]),
    ("ease", ALL, ["ease"]),
    ("Easy", ALL, ["ease"]),
    ("fast", ALL, ["efficiency"]),
    ("quick", ALL, ["efficiency"]),
    ("respect", ALL, ["humanity"]),
    ("staff", ALL, ["employee"]),
    ("clarity", ALL, ["transparency"]),
    ("other", ALL, ["other"]),
    ("something else", ALL, ["other"]),
    ("it was fast and easy", ALL, ["ease", "efficiency"]),
    ("The staff were rude", ALL, ["humanity", "employee"]),
    ("took too long", ALL, ["efficiency"]),
    ("I waited 45 minutes", ALL, ["efficiency"]),
    ("fácil y rápido", ALL, ["ease", "efficiency"]),
    ("facil", ALL, ["ease"]),
    ("respeto", ALL, ["humanity"]),
    ("el personal", ALL, ["employee"]),
    ("otra cosa", ALL, ["other"]),
    ("1 and fast", ALL, ["effectiveness", "efficiency"]),
    ("Ease, 5", ALL, ["ease", "humanity"]),
    ("all", ALL, ALL),
    ("All of them!", ALL, ALL),
    ("todos", ALL, ALL),
    ("none", ALL, []),
    ("nada", ALL, []),
    ("ninguno", ALL, []),
    ("Getting my need met", ALL, ["effectiveness"]),
    ("6", WITHOUT_STAFF, ["other"]),
    ("staff", WITHOUT_STAFF, None),
    ("all", WITHOUT_STAFF, WITHOUT_STAFF),
    # not understood
    ("8", ALL, None),
    ("0", ALL, None),
    ("1 9", ALL, None),
    ("7", WITHOUT_STAFF, None),
    ("", ALL, None),
    ("hello", ALL, None),
    ("yes", ALL, None),
    ("👍", ALL, None),
]


@pytest.mark.parametrize(("text", "offered", "expected"), DRIVER_CASES)
def test_drivers(text: str, offered: list[str], expected: list[str] | None) -> None:
    assert parse_drivers(text, offered) == expected


OFFICE = [
    Option("online", {"en": "Online", "es": "En línea"}, ("web", "internet")),
    Option("phone", {"en": "By phone", "es": "Por teléfono"}, ("call",)),
    Option("office", {"en": "In person", "es": "En persona"}),
]
CHOICE = [
    ("1", "online"),
    ("2", "phone"),
    ("3", "office"),
    ("online", "online"),
    ("Online!", "online"),
    ("en línea", "online"),
    ("en linea", "online"),
    ("web", "online"),
    ("By phone", "phone"),
    ("por telefono", "phone"),
    ("call", "phone"),
    ("in person", "office"),
    ("En persona.", "office"),
    ("2\n-- Bob", "phone"),
    ("4", None),
    ("1 2", None),
    ("carrier pigeon", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), CHOICE)
def test_choice(text: str, expected: str | None) -> None:
    assert parse_choice(text, OFFICE) == expected


TEXTS = [
    ("Great service, thank you!", 1000, "Great service, thank you!"),
    ("  padded  ", 1000, "padded"),
    ("line one\nline two", 1000, "line one\nline two"),
    ("El trámite fue rápido 👍", 1000, "El trámite fue rápido 👍"),
    ("x" * 50, 10, "x" * 10),
    ("", 1000, None),
    (" \n ", 1000, None),
]


@pytest.mark.parametrize(("text", "limit", "expected"), TEXTS)
def test_text_kept_verbatim_and_bounded(text: str, limit: int, expected: str | None) -> None:
    assert parse_text(text, limit) == expected


SKIPS = [
    ("skip", True),
    ("SKIP", True),
    ("Skip.", True),
    ("skip it", True),
    ("pass", True),
    ("omitir", True),
    ("OMITIR", True),
    ("saltar", True),
    ("skipping breakfast was hard", False),
    ("no", False),
    ("1", False),
]


@pytest.mark.parametrize(("text", "expected"), SKIPS)
def test_skip(text: str, expected: bool) -> None:
    assert is_skip(text) is expected


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_plain_ascii_folds_as_any_other_text(text: str) -> None:
    # A variation selector is dropped by the full fold and forces it; the ASCII shortcut must
    # give the same result.
    assert fold(text) == fold(text + "\ufe0f")


@given(st.text(max_size=40))
def test_fold_is_its_definition(text: str) -> None:
    # The definition, written plainly: quotes, emoji modifiers, accents, case, letters three
    # times or more in a row, punctuation at both ends, runs of white space.
    plain = re.sub("[\ufe0e\ufe0f\u200d\u200b\U0001f3fb-\U0001f3ff]", "", text.translate(_CURLY))
    plain = re.sub(r"([a-z])\1{2,}", r"\1", strip_accents(plain).lower())
    assert fold(text) == re.sub(r"\s+", " ", strip_edge_punctuation(plain))
    assert fold(fold(text)) == fold(text)


def test_flow_skip_words_extend_the_defaults() -> None:
    assert is_skip("Siguiente pregunta", ["siguiente pregunta"])
    assert not is_skip("Siguiente pregunta")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("español", "es"),
        ("Espanol", "es"),
        ("Spanish", "es"),
        ("English", "en"),
        ("inglés", "en"),
        ("hola", None),
        ("1", None),
    ],
)
def test_language_request(text: str, expected: str | None) -> None:
    assert language_request(text) == expected


def test_there_are_at_least_150_parsing_cases() -> None:
    total = len(THUMBS) + len(SCALE) + len(DRIVER_CASES) + len(CHOICE) + len(TEXTS) + len(SKIPS)
    assert total >= 150
