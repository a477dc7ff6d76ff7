"""What the sentiment scorer looks for, the way each language says it (pure): the shape of a
language's cues (``Cues``, filled by ``sentiment_en`` and ``sentiment_es``) and the helpers
their tables are written with."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.prefilter import finder

Rating = Callable[[re.Match[str]], float]


@dataclass(frozen=True)
class Cues:
    """How one language says what the scorer looks for (``sentiment_en``, ``sentiment_es``)."""

    # A sentence's words -> (polarity, subjectivity or None, how many words carried weight).
    lexical: Callable[[str], tuple[float, float | None, int]]
    facts: Sequence[tuple[re.Pattern[str], float]]  # plainly good or bad events
    negators: frozenset[str]  # that turn a good fact right after them bad
    others: frozenset[str]  # people whose good deeds are not the service's ("my daughter")
    contrast: re.Pattern[str]  # what follows decides ("but", "pero")
    concession: re.Pattern[str]  # a clause it opens yields ("although", "aunque")
    nothing: frozenset[str]  # the words of "nothing to say"
    nothing_core: frozenset[str]  # one of which such a comment must have
    ratings: Sequence[tuple[re.Pattern[str], Rating]]
    irony: re.Pattern[str]  # praise that is ironic when a bad fact stands beside it
    sarcasm: re.Pattern[str]  # says the opposite of what it means, whatever stands beside it
    question: re.Pattern[str]  # its words are asked, not said
    suggestion: re.Pattern[str]  # its words are wished for ("would be nice"), not praise
    mixed: re.Pattern[str]  # says itself that neither side wins ("so-so", "mas o menos")
    clock: re.Pattern[str]  # a time of day: (hour, minutes, "pm" or "am" words)
    # For each fact, strings one of which any match contains (None: not known), so that a
    # fact whose words are nowhere in a sentence costs a few substring tests, not a search.
    needles: tuple[re.Pattern[str] | None, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needles", tuple(finder(p.pattern) for p, _ in self.facts))


def bounded(pattern: str) -> re.Pattern[str]:
    """A pattern matched as whole words of a plain text (no letter, digit or "/" touching it)."""
    return re.compile(r"(?<![\w/])(?:" + pattern + r")(?![\w/])")


def out_of(match: re.Match[str]) -> float:
    """A rating "N of M" (groups 1 and 2; M is 10 when group 2 is empty): praise at 70% or
    more, a complaint at 40% or less."""
    given, scale = float(match.group(1)), float(match.group(2) or 10)
    share = given / scale if scale else 0.0
    return 0.8 if share >= 0.7 else -0.8 if share <= 0.4 else 0.0


def stars(numbers: Mapping[str, int]) -> Rating:
    """A rating in stars (group 1: digits or a number word of ``numbers``): praise at four
    or five, a complaint at two or fewer."""

    def rate(match: re.Match[str]) -> float:
        raw = match.group(1)
        count = int(raw) if raw.isdigit() else numbers[raw]
        return 0.8 if count >= 4 else -0.8 if count <= 2 else 0.0

    return rate
