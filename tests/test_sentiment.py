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
    ("could have been better", "negative"),  # a careful reader hears dissatisfaction
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
    assert normalise("It isn’t good") == "it is not good"
    assert normalise("didn't") == "did not"
    assert normalise("didnt") == "did not"  # no apostrophe on a phone
    assert normalise("Thx 👍🏽") == "thanks good"
    assert normalise("sooooo goooood") == "so good"
    assert normalise("my appt, 3 hrs") == "my appointment , 3 hours"
    assert normalise("Atención xq q", "es") == "atencion porque que"
    assert normalise("graciaaas, llamé y llamé", "es") == "gracias , llame y llame"


# Each kind of comment the issue names, in both languages (written here, not taken from any
# labelled set the scorer is measured on, except the issue's own examples).
KINDS = [
    # short answers and ratings
    ("really pleased", "en", "positive"),
    ("not good", "en", "negative"),
    ("zero complaints", "en", "positive"),
    ("ty!!", "en", "positive"),
    ("5 stars", "en", "positive"),
    ("1/10", "en", "negative"),
    ("meh service", "en", "negative"),
    ("nah", "en", "neutral"),
    ("n/a", "en", "neutral"),
    ("nothing else, thanks", "en", "neutral"),
    ("cero estrellas", "es", "negative"),
    ("nada q agregar", "es", "neutral"),
    ("todo bien", "es", "positive"),
    ("todo bien?", "es", "neutral"),
    # the clause that carries the outcome wins
    ("friendly lady but my card still hasn't come", "en", "negative"),
    ("the form confused me at first but the clerk walked me through it", "en", "positive"),
    ("although the line was long, they had me out in 20 minutes", "en", "positive"),
    ("muy amable el señor pero mi cheque sigue sin llegar", "es", "negative"),
    ("al principio no entendia nada pero la señorita me explico todo", "es", "positive"),
    # sarcasm: praise beside a plainly bad fact
    ("wonderful, a 5 hour line again", "en", "negative"),
    ("thanks for wasting my morning", "en", "negative"),
    ("que eficiencia, 4 horas para una firma", "es", "negative"),
    # complaints and praise with no sentiment word
    ("one clerk for the whole room", "en", "negative"),
    ("the code never arrives so i cant finish", "en", "negative"),
    ("third time i mail the same form", "en", "negative"),
    ("got there at 8, they called me at 11:40", "en", "negative"),
    ("nadie contesta en esa linea", "es", "negative"),
    ("had my replacement card in 3 days", "en", "positive"),
    ("Ms. Lopez at the front desk = hero", "en", "positive"),
    ("me llego la tarjeta en una semana", "es", "positive"),
    ("a las 9 abrieron y a las 9:10 ya me atendian", "es", "positive"),
    # regional words and slang
    ("bien chido el trato", "es", "positive"),
    ("que chevere la atencion", "es", "positive"),
    ("bien malcriado el guardia", "es", "negative"),
    ("the app is mid", "en", "negative"),
    ("lady at the desk was goated", "en", "positive"),
    # asked or wished for, not said; a relative's help is not the service's
    ("how long does the card take?", "en", "neutral"),
    ("it would be nice to have more chairs", "en", "neutral"),
    ("cuanto tarda la tarjeta?", "es", "neutral"),
    ("my son helped me fill it out", "en", "neutral"),
    ("mi hija me ayudo a llenar la forma", "es", "neutral"),
]


@pytest.mark.parametrize(("text", "language", "label"), KINDS)
def test_kinds_of_comment(text: str, language: str, label: str) -> None:
    assert score(text, language).label == label


def test_praise_beside_a_plainly_bad_fact_reads_as_sarcasm() -> None:
    praise = score("wonderful staff, got my card in 3 days").polarity
    sarcasm = score("wonderful, my card is lost again").polarity
    assert praise is not None and sarcasm is not None and praise > 0 > sarcasm


def test_long_text_is_bounded() -> None:
    result = score("terrible " * 10_000)
    assert result.label == "negative"


def _sentiment(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("feedback-bot")
    assert exe
    return subprocess.run([exe, "sentiment", *args], input=stdin, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_sentiment_command_prints_label_polarity_redacted_text_and_themes() -> None:
    result = _sentiment(stdin="The agent was very helpful\nok\nnot helpful, call 202-555-0123"
                              "\n\nOn hold 2 hrs\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert lines[0][0] == "positive" and lines[0][2:] == ["The agent was very helpful", "staff"]
    assert 0 < float(lines[0][1]) <= 1
    assert lines[1] == ["unscored", "", "ok", ""]
    assert lines[2][0] == "negative" and lines[2][2] == "not helpful, call [PHONE]"
    assert lines[3] == ["unscored", "", "", ""]  # a line out for every line in, blank ones too
    assert lines[4][0] == "negative" and lines[4][3] == "phone,wait_time"
    assert len(lines) == 5


def test_sentiment_command_takes_the_surveys_language_and_a_services_themes() -> None:
    spanish = _sentiment("--lang", "es", stdin="muy bien\n")  # too few words to tell alone
    assert spanish.stdout.split("\t")[0] == "positive"
    english = _sentiment("--lang", "en", stdin="muy bien\n")
    assert english.stdout.split("\t")[0] == "positive"  # the words say Spanish
    housing = _sentiment("--service", "benefits-application", stdin="my landlord raised the rent\n")
    assert housing.returncode == 0, housing.stderr
    assert housing.stdout.rstrip("\n").split("\t")[3] == "housing"
    assert _sentiment(stdin="my landlord raised the rent\n").stdout.rstrip("\n").endswith("\t")
    unknown = _sentiment("--service", "nope", stdin="")
    assert unknown.returncode == 2 and "unknown service 'nope'" in unknown.stderr
    bad = _sentiment("--lang", "english", stdin="")
    assert bad.returncode == 2 and "a language code such as en or es" in bad.stderr
