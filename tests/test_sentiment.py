"""Sentiment: normalisation, negation, unscored cases, and the command for admins."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from bot.core.sentiment import normalise, score

LABELS = [
    ("The agent was very helpful", "positive"),
    ("Quick and easy, thanks!", "positive"),
    ("Great service 👍", "positive"),
    ("sooo goood :)", "positive"),
    ("thx, gr8 job", "positive"),
    ("It went well, no problems", "positive"),
    ("not helpful at all", "negative"),
    ("The staff didn't help me", "negative"),
    ("It isn’t good", "negative"),
    ("Took forever", "negative"),
    ("still waiting for my refund", "negative"),
    ("The website kept crashing", "negative"),
    ("nobody called me back", "negative"),
    ("waste of time 😡", "negative"),
    ("could have been better", "neutral"),
    ("I submitted the form online", "neutral"),
    ("I renewed my license on Tuesday", "neutral"),
]


@pytest.mark.parametrize(("text", "label"), LABELS)
def test_labels(text: str, label: str) -> None:
    assert score(text).label == label


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("", "en", "empty"),
        ("   ", "en", "empty"),
        (None, "en", "empty"),
        ("ok", "en", "too_short"),
        ("fine", "en", "too_short"),
        ("ok", "es", "too_short"),
        ("Le service était très lent et compliqué", "fr", "language"),
    ],
)
def test_unscored_instead_of_a_guess(text: str | None, language: str, reason: str) -> None:
    result = score(text, language)
    assert (result.label, result.polarity, result.reason) == ("unscored", None, reason)


@pytest.mark.parametrize(
    ("text", "language", "label"),
    [
        ("No me ayudaron en nada", "es", "negative"),
        ("no me ayudaron", "es", "negative"),
        ("Me ayudaron mucho, muy amables", "es", "positive"),
        ("Sin problemas, todo rápido", "es", "positive"),
        ("rapido y facil, grax x todo", "es", "positive"),  # no accents, shorthand
        ("muy bn 👍", "es", "positive"),
        ("Qué mal servicio 👎", "es", "negative"),
        ("Esperé dos horas y nadie me atendió", "es", "negative"),
        ("Fui a la oficina el martes", "es", "neutral"),
        ("Pésimo, una pérdida de tiempo", "es", "negative"),
        ("El servicio fue muy bueno", "en", "positive"),  # Spanish words in an English survey
        ("The service was great", "es", "positive"),  # English words in a Spanish survey
    ],
)
def test_spanish_is_scored(text: str, language: str, label: str) -> None:
    assert score(text, language).label == label


def test_spanish_negation_flips_the_word_it_governs() -> None:
    positive = score("el personal me ayudó mucho", "es").polarity
    negative = score("el personal no me ayudó", "es").polarity
    assert positive is not None and negative is not None and positive > 0 > negative


def test_normalisation() -> None:
    assert normalise("It isn’t good") == "It is not good"
    assert normalise("didn't") == "did not"
    assert normalise("Thx 👍🏽") == "thanks good"
    assert normalise("sooooo") == "soo"


def test_long_text_is_bounded() -> None:
    result = score("terrible " * 10_000)
    assert result.label == "negative"


def test_sentiment_command_prints_label_polarity_and_redacted_text() -> None:
    exe = shutil.which("feedback-bot")
    assert exe
    result = subprocess.run(
        [exe, "sentiment"],
        input="The agent was very helpful\nok\nnot helpful, call 202-555-0123\n\n",
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert lines[0] == ["positive", "0.500", "The agent was very helpful"]
    assert lines[1] == ["unscored", "", "ok"]
    assert lines[2][0] == "negative" and lines[2][2] == "not helpful, call [PHONE]"
    assert lines[3] == ["unscored", "", ""]  # a line out for every line in, blank ones too
    assert len(lines) == 4
