"""Redaction of personal data in free text, before anything stores, scores, forwards or shows it.

Typed placeholders keep the text readable: ``[SSN]``, ``[CARD]``, ``[EMAIL]``, ``[PHONE]``,
``[DOB]``, ``[ADDRESS]``, ``[NUMBER]`` (a long digit run such as a case number) and ``[ID]``
(a letter-prefixed identifier such as an A-number). Ordinary numbers stay: "45 minutes",
"form 1040", "room 12B".
"""

from __future__ import annotations

import re
from collections.abc import Callable

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_SSN = re.compile(
    r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- .]?)(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])"
    r"|(?i:\b(?:ssn|social security(?: number| no\.?)?|seguro social)\W{0,3})\d{4}\b"
)
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"
    r"|(?<![\w+])\+?1?\d{10}(?!\w)"
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre)"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}"
    r"|(?i:" + _MONTHS + r")\.? \d{1,2},? \d{4}"
    r"|\d{1,2} (?:de )?(?i:" + _MONTHS + r")(?: de)? \d{4})"
)
# A date after words that announce a birth date; the words themselves stay.
_DOB_LABELLED = re.compile(
    r"(?i:(\b(?:dob|d\.o\.b\.?|date of birth|born(?: on)?|birthday(?: is)?"
    r"|fecha de nacimiento|naci(?:ó|o)? el)\W{0,3}))" + _DATE
)
# A full month/day/year date on its own is most often a birth date in a comment.
_DOB_BARE = re.compile(
    r"(?<![\d/])(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/(?:19|20)\d{2}(?![\d/])"
)
_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
    r"|parkway|pkwy|highway|hwy|circle|cir|terrace|ter|trail|trl)"
)
_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\.?\s+){1,3}" + r"(?i:" + _STREET + r")\b\.?"
    r"(?:,?\s+(?i:apt|apartment|unit|suite|ste|#)\.?\s*\w+)?"
    r"|(?i:\b(?:calle|avenida|av\.)\s+)(?:[A-Z][a-z]+\s+){1,3}#?\d{1,6}\b"
    r"|(?i:\bp\.?\s?o\.?\s+box\s+\d+)"
)
_ALNUM_ID = re.compile(r"\b[A-Z]{1,3}-?\d{7,12}\b")
_LONG_DIGITS = re.compile(r"(?<![\w-])\d(?:[ -]?\d){5,}(?![\w-])")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


# Order matters: the most specific shapes first, the catch-all digit run last.
_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (_EMAIL, "[EMAIL]"),
    (_DOB_LABELLED, lambda m: m.group(1) + "[DOB]"),  # a function: a template is parsed per call
    (_DOB_BARE, "[DOB]"),
    (_CARD, _card),
    (_SSN, "[SSN]"),
    (_PHONE, "[PHONE]"),
    (_ADDRESS, "[ADDRESS]"),
    (_ALNUM_ID, "[ID]"),
    (_LONG_DIGITS, "[NUMBER]"),
]


# Every rule needs a digit, except the e-mail address, which needs an @.
_DIGIT = re.compile(r"\d")


def redact(text: str) -> str:
    """``text`` with personal data replaced by typed placeholders."""
    if "@" not in text and not _DIGIT.search(text):
        return text  # most comments: nine scans spared
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
