"""Text normalisation shared by answer parsing and keyword screening."""

from __future__ import annotations

import re
import unicodedata

# Variation selectors, zero-width joiners and emoji skin-tone modifiers change nothing
# about what an emoji means.
_EMOJI_NOISE = re.compile("[\ufe0e\ufe0f\u200d\u200b\U0001f3fb-\U0001f3ff]")
_CURLY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'"})
_SIGNATURE = re.compile(r"^\s*(--|—|–|~|-\s*\w|sent from\b|enviado desde\b|get outlook\b)", re.I)
_REPEATS = re.compile(r"([a-z])\1{2,}")


# C0 and C1 control characters but tab and line breaks, and unpaired UTF-16 surrogates (a
# JSON "\ud800" escape): no store, stream or log can keep them as text (PostgreSQL refuses NUL).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> str:
    """Text from outside made safe to keep: control characters (but tab and line breaks)
    and unpaired surrogates removed."""
    # A search first: nearly every text has none, and a search is cheaper than a sub.
    return _UNSAFE.sub("", text) if _UNSAFE.search(text) else text


def is_clean(text: str) -> bool:
    """True when ``clean`` would leave the text as it is."""
    return _UNSAFE.search(text) is None


def message_lines(text: str) -> list[str]:
    """The meaningful lines of a reply: blank lines and a trailing signature removed."""
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _SIGNATURE.match(line) and lines:
            break
        if line.strip():
            lines.append(line.strip())
    return lines


def strip_accents(text: str) -> str:
    """Remove combining marks (``sí`` -> ``si``, ``días`` -> ``dias``); emoji are untouched."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Fold a reply for matching: case, accents, emoji modifiers, quotes, repeated letters,
    surrounding punctuation and runs of white space."""
    if text.isascii():  # most replies: no accents, emoji or curly quotes to look for
        return " ".join(_single_letters(text.lower()).strip(_ASCII_EDGE_NOISE).split())
    text = _EMOJI_NOISE.sub("", text.translate(_CURLY))
    text = _single_letters(strip_accents(text).lower())
    # str.split() splits on exactly the characters that \s matches.
    return " ".join(strip_edge_punctuation(text).split())


def _single_letters(text: str) -> str:
    # A search first: few replies have a letter three times in a row, and a sub with a
    # template costs its parsing on every call, match or not.
    return _REPEATS.sub(_group_1, text) if _REPEATS.search(text) else text


def _group_1(match: re.Match[str]) -> str:
    return match.group(1)


def _is_edge_noise(c: str) -> bool:
    # Punctuation, separators and math/modifier symbols; emoji (category So) are kept.
    return unicodedata.category(c)[0] in "PZC" or unicodedata.category(c) in ("Sm", "Sk")


_ASCII_EDGE_NOISE = "".join(c for c in map(chr, range(128)) if _is_edge_noise(c))


def strip_edge_punctuation(text: str) -> str:
    """Remove punctuation and white space at both ends, keeping emoji."""
    start, end = 0, len(text)
    while start < end and _is_edge_noise(text[start]):
        start += 1
    while end > start and _is_edge_noise(text[end - 1]):
        end -= 1
    return text[start:end]
