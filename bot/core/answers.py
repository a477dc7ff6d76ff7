"""Pure parsers for survey replies in English and Spanish.

Each parser returns the parsed value, or ``None`` when the reply is not understood (the engine
then reprompts). Replies are folded first (case, accents, emoji modifiers, punctuation), then
tried whole and, failing that, by their first line, so multi-line replies and trailing
signatures are tolerated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TypeVar

from bot.core.flow import Option
from bot.core.text import fold, message_lines

T = TypeVar("T")
V = TypeVar("V")


def _longest_first(phrases: dict[str, V]) -> dict[str, V]:
    """The same phrases, the longest first (as ``_mark`` wants them)."""
    return {p: phrases[p] for p in sorted(phrases, key=len, reverse=True)}


SKIP_WORDS = frozenset(
    {"skip", "pass", "next", "skip it", "skip this", "omitir", "saltar", "siguiente", "paso"}
)
LANGUAGE_WORDS = {
    "espanol": "es",
    "en espanol": "es",
    "spanish": "es",
    "english": "en",
    "ingles": "en",
    "en ingles": "en",
}

# Words that carry no answer of their own ("I'd say 4, thanks").
_FILLERS = frozenset(
    (
        "i im i'm am i'd id would say it it's its is was my answer rating score give a an the "
        "that thanks thank you thx ty please pls ok okay so well oh hi hello hey estoy yo es mi "
        "respuesta gracias por favor le doy un una calificacion diria pues hola"
    ).split()
)
_PUNCT = re.compile(r"[,.;:!?()\[\]\"*#]+")

_THUMBS_PHRASES: dict[str, int] = _longest_first(
    {
        "thumbs up": 1,
        "thumb up": 1,
        "thumbsup": 1,
        "pulgar arriba": 1,
        "pulgares arriba": 1,
        "of course": 1,
        "por supuesto": 1,
        "claro que si": 1,
        "thumbs down": 0,
        "thumb down": 0,
        "thumbsdown": 0,
        "pulgar abajo": 0,
        "pulgares abajo": 0,
        "not really": 0,
        "not at all": 0,
        "para nada": 0,
        "en absoluto": 0,
    }
)
_THUMBS_WORDS: dict[str, int] = {
    **dict.fromkeys(
        (
            "1 y yes yeah yea yep yup ya ye sure absolutely definitely indeed true si sip claro "
            "up 👍 👍👍 ✅ ✔"
        ).split(),
        1,
    ),
    **dict.fromkeys("0 n no nope nah nop down false 👎 👎👎 ❌".split(), 0),
}
# Replies that look like an answer but decline the survey; never read them as "no".
_DECLINES = frozenset({"no thanks", "no thank you", "no gracias", "no thx"})

_SCALE_PHRASES: dict[str, int] = _longest_first(
    {
        "strongly agree": 5,
        "totally agree": 5,
        "completely agree": 5,
        "totalmente de acuerdo": 5,
        "muy de acuerdo": 5,
        "completamente de acuerdo": 5,
        "somewhat agree": 4,
        "agree": 4,
        "de acuerdo": 4,
        "neither agree nor disagree": 3,
        "neither agree or disagree": 3,
        "neither": 3,
        "neutral": 3,
        "ni de acuerdo ni en desacuerdo": 3,
        "neutro": 3,
        "indiferente": 3,
        "somewhat disagree": 2,
        "don't agree": 2,
        "do not agree": 2,
        "disagree": 2,
        "en desacuerdo": 2,
        "desacuerdo": 2,
        "no estoy de acuerdo": 2,
        "strongly disagree": 1,
        "totally disagree": 1,
        "completely disagree": 1,
        "totalmente en desacuerdo": 1,
        "muy en desacuerdo": 1,
        "completamente en desacuerdo": 1,
    }
)
_SCALE_WORDS: dict[str, int] = {
    **{str(n): n for n in range(1, 6)},
    **dict(zip("one two three four five".split(), range(1, 6), strict=True)),
    **dict(zip("uno dos tres cuatro cinco".split(), range(1, 6), strict=True)),
}
_OUT_OF_FIVE = re.compile(r"(?<!\S)([1-5])\s*(?:/|out of|of|de)\s*5(?!\S)")
_STARS = re.compile(r"(?<!\S)([1-5])\s*(?:stars?|estrellas?|pts?|points?|puntos?)(?!\S)")
_STAR_GLYPHS = re.compile(r"^[*⭐★]{1,5}$")
_DIGIT_THEN_CONNECTOR = re.compile(r"(\d)([,;&+/])")


# Replacements as functions: a template such as r"=\1" is parsed again on every call.
def _as_value(match: re.Match[str]) -> str:
    return "=" + match.group(1)


def _spaced(match: re.Match[str]) -> str:
    return f"{match.group(1)} {match.group(2)} "


# Words that name a driver, in either language (after folding).
DRIVER_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "effectiveness effective need needs needed addressed resolved solved solution result "
            "results eficaz efectivo efectividad eficacia necesidad resuelto resolvieron solucion"
        ).split(),
        "effectiveness",
    ),
    **dict.fromkeys(
        (
            "ease easy easier simple hard difficult complicated facil sencillo dificil complicado"
        ).split(),
        "ease",
    ),
    **dict.fromkeys(
        (
            "efficiency efficient fast faster quick quickly speed time timely slow long wait "
            "waiting waited rapido rapidez tiempo lento espera eficiencia eficiente"
        ).split(),
        "efficiency",
    ),
    **dict.fromkeys(
        (
            "transparency transparent clear clarity understood understand unclear confusing "
            "explained information info transparencia claridad entendi explicaron confuso "
            "informacion"
        ).split(),
        "transparency",
    ),
    **dict.fromkeys(
        (
            "humanity respect respectful respected fair fairly unfair dignity kind courteous rude "
            "polite humanidad respeto respetuoso trataron amable trato justo"
        ).split(),
        "humanity",
    ),
    **dict.fromkeys(
        (
            "employee employees staff agent agents person people worker workers representative "
            "officer clerk empleado empleados personal funcionario funcionarios agente agentes"
        ).split(),
        "employee",
    ),
    **dict.fromkeys("other else otro otra otros".split(), "other"),
}
_DRIVER_PHRASES: dict[str, str] = _longest_first(
    {
        "something else": "other",
        "otra cosa": "other",
        "my need was met": "effectiveness",
        "my need was addressed": "effectiveness",
        "got what i needed": "effectiveness",
        "easy to do": "ease",
        "reasonable time": "efficiency",
        "took too long": "efficiency",
        "clear what to do": "transparency",
        "treated with respect": "humanity",
        "helpful staff": "employee",
    }
)
_ALL_WORDS = frozenset({"all", "all of them", "everything", "all of the above", "todos", "todo"})
_NONE_WORDS = frozenset({"none", "nothing", "none of them", "ninguno", "ninguna", "nada"})
_CONNECTORS = frozenset({"and", "y", "e", "&", "+", "/", "-", "or", "o", "plus", "also"})
_NUMBER_WORDS: dict[str, int] = {
    **dict(
        zip(
            "one two three four five six seven eight nine".split(),
            range(1, 10),
            strict=True,
        )
    ),
    **dict(
        zip(
            "uno dos tres cuatro cinco seis siete ocho nueve".split(),
            range(1, 10),
            strict=True,
        )
    ),
}


def _variants(text: str) -> Iterator[str]:
    """The folded reply whole, then its first line alone."""
    lines = message_lines(text)
    if not lines:
        return
    whole = fold(" ".join(lines))
    if whole:
        yield whole
    if len(lines) > 1:
        first = fold(lines[0])
        if first and first != whole:
            yield first


def _first(text: str, parse: Callable[[str], T | None]) -> T | None:
    for variant in _variants(text):
        result = parse(variant)
        if result is not None:
            return result
    return None


def _mark(text: str, phrases: Mapping[str, object]) -> str:
    """Replace each known phrase by a ``=value`` token; ``phrases`` come longest first, so
    "strongly disagree" wins over "disagree"."""
    for phrase in phrases:
        if phrase in text:
            text = re.sub(rf"(?<!\S){re.escape(phrase)}(?!\S)", f"={phrases[phrase]}", text)
    return text


def _tokens(text: str) -> list[str]:
    return _PUNCT.sub(" ", text).split()


def _single_value(folded: str, phrases: dict[str, int], words: dict[str, int]) -> int | None:
    """The one value a reply gives, or None when it gives none, several, or unknown words."""
    if folded in _DECLINES:
        return None
    text = _mark(folded, phrases)
    values: set[int] = set()
    for token in _tokens(text):
        if token.startswith("=") and token[1:].isdigit():
            values.add(int(token[1:]))
        elif token in words:
            values.add(words[token])
        elif token not in _FILLERS:
            return None
    return values.pop() if len(values) == 1 else None


def parse_thumbs(text: str) -> int | None:
    """1 for thumbs up / yes, 0 for thumbs down / no."""
    return _first(text, lambda s: _single_value(s, _THUMBS_PHRASES, _THUMBS_WORDS))


def _parse_scale_folded(folded: str) -> int | None:
    if _STAR_GLYPHS.match(folded.replace(" ", "")):
        return len(folded.replace(" ", ""))
    folded = _OUT_OF_FIVE.sub(_as_value, folded)
    folded = _STARS.sub(_as_value, folded)
    return _single_value(folded, _SCALE_PHRASES, _SCALE_WORDS)


def parse_scale(text: str) -> int | None:
    """A 5-point agreement answer: 1 strongly disagree .. 5 strongly agree."""
    return _first(text, _parse_scale_folded)


def _numbers_only(tokens: Sequence[str], count: int) -> list[int] | None:
    """Numbers from a reply made only of digits and connectors ("1 3", "1,3", "13")."""
    numbers: list[int] = []
    for token in tokens:
        if token in _CONNECTORS:
            continue
        if not token.isdigit():
            return None
        # "13" from an old phone means 1 and 3 when no option has two digits.
        if len(token) > 1 and count <= 9:
            numbers.extend(int(d) for d in token)
        else:
            numbers.append(int(token))
    return numbers


def _parse_selection(
    folded: str, values: Sequence[str], words: dict[str, str], phrases: dict[str, str]
) -> list[str] | None:
    count = len(values)
    if folded in _NONE_WORDS:
        return []
    if folded in _ALL_WORDS:
        return list(values)
    spaced = _DIGIT_THEN_CONNECTOR.sub(_spaced, folded)
    tokens = _tokens(spaced)
    numbers = _numbers_only(tokens, count)
    chosen: set[str] = set()
    if numbers is not None:
        if not numbers or any(n < 1 or n > count for n in numbers):
            return None
        chosen = {values[n - 1] for n in numbers}
    else:
        marked = _mark(folded, phrases)
        for token in _tokens(marked):
            if token.startswith("=") and token[1:] in values:
                chosen.add(token[1:])
            elif token.isdigit() and 1 <= int(token) <= count:
                chosen.add(values[int(token) - 1])
            elif token in _NUMBER_WORDS and _NUMBER_WORDS[token] <= count:
                chosen.add(values[_NUMBER_WORDS[token] - 1])
            elif words.get(token) in values:
                chosen.add(words[token])
    if not chosen:
        return None
    return [v for v in values if v in chosen]


def parse_drivers(text: str, offered: Sequence[str]) -> list[str] | None:
    """The offered drivers a reply selects, in offered order; ``[]`` for "none"."""
    return _first(text, lambda s: _parse_selection(s, offered, DRIVER_WORDS, _DRIVER_PHRASES))


def parse_choice(text: str, options: Sequence[Option]) -> str | None:
    """The value of the one option a reply selects."""
    values = [o.value for o in options]
    phrases: dict[str, str] = {}
    for option in options:
        for name in (option.value, *option.label.values(), *option.synonyms):
            phrases[fold(name)] = option.value
    phrases = _longest_first(phrases)

    def parse(folded: str) -> str | None:
        if folded in phrases:
            return phrases[folded]
        chosen = _parse_selection(folded, values, {}, phrases)
        return chosen[0] if chosen and len(chosen) == 1 else None

    return _first(text, parse)


def parse_text(text: str, max_length: int) -> str | None:
    """Free text kept verbatim (outer white space trimmed), bounded to ``max_length``."""
    kept = text.strip()
    return kept[:max_length] if kept else None


def is_skip(text: str, extra: Collection[str] = ()) -> bool:
    """True when the whole reply asks to skip the question; ``extra`` are further skip
    words, already folded."""
    folded = fold(text)
    return folded in SKIP_WORDS or folded in extra


def language_request(text: str) -> str | None:
    """The language a reply asks to switch to ("español", "English"), if that is all it says."""
    return LANGUAGE_WORDS.get(fold(text))
