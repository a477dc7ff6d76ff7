"""Themes: what a comment is about, by phrases an agency can read and change (pure).

A taxonomy is a list of themes, each with an id, a label per language and phrases per language.
A comment is tagged with every theme one of whose phrases, in the comment's language (its
words', else the survey's), it contains, after the text is made plain as the scorers see it
(``bot.core.shorthand``: case, accents, shorthand such as "appt", "hrs", "q"). Words people
borrow go in the borrowing language's phrases too ("el appointment", "la app"). The default
taxonomy (``bot.core.themes_default``) has ten themes; a service's catalog entry may extend or
replace it (``themes:``, checked by ``parse_themes``).

Phrases, as an agency writes them in the catalog:

- words match whole words, in any case, with or without accents: ``on hold`` matches
  "On HOLD" and "on hold!!", never "household";
- ``*`` at the end of a word matches any ending: ``refund*`` matches "refund", "refunds",
  "refunded";
- ``#`` matches a number, in digits or words: ``# hours`` matches "3 hours", "three hrs";
- ``$`` is a dollar sign (``$`` matches "$130").

The API the rest of the bot uses: ``tag(text, language, taxonomy)`` -> a sorted tuple of theme
ids; ``Taxonomy.label(theme_id, language)``; ``preview(taxonomy, comments, language)`` -> the
matches per theme (what an admin sees before saving a change).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import FlowError
from bot.core.shorthand import fold, language_of, plain

MAX_PHRASE = 80
_NUMBER = (
    r"(?:\d+(?:[.,]\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred|half|several|few|couple|un|una|"
    r"uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|quince|veinte|treinta|"
    r"cuarenta|cincuenta|sesenta|cien|media|medio|varias|varios|unas|unos)"
)
_PHRASE = re.compile(r"^[a-z0-9#$' .*/-]+$")
_PIECE = re.compile(r"#|\$|[a-z0-9]+")
_TOKEN = re.compile(r"[a-z0-9]+|\$")


@dataclass(frozen=True)
class Theme:
    """One theme: an id, its label per language, its phrases per language."""

    id: str
    labels: tuple[tuple[str, str], ...]  # (language, label)
    phrases: tuple[tuple[str, tuple[str, ...]], ...]  # (language, phrases)

    def label(self, language: str) -> str:
        """The label in ``language``, else in English, else the id."""
        labels = dict(self.labels)
        return labels.get(language) or labels.get("en") or self.id

    def phrases_in(self, language: str) -> tuple[str, ...]:
        return dict(self.phrases).get(language, ())

    def to_dict(self) -> dict[str, Any]:
        """As the catalog writes it: ``{"id", "label": {lang: text}, "phrases": {lang: [...]}}``."""
        phrases = {lang: list(items) for lang, items in self.phrases}
        return {"id": self.id, "label": dict(self.labels), "phrases": phrases}


def theme(id: str, labels: Mapping[str, str], phrases: Mapping[str, Iterable[str]]) -> Theme:
    """A theme from plain mappings (phrases folded to lower case without accents, each kept
    once)."""
    kept = {lang: tuple(dict.fromkeys(fold(p.strip()) for p in items))
            for lang, items in phrases.items()}  # fmt: skip
    return Theme(id, tuple(sorted(labels.items())), tuple(sorted(kept.items())))


def extended(base: Theme, labels: Mapping[str, str], phrases: Mapping[str, Iterable[str]]) -> Theme:
    """A theme with more phrases (and any labels given in place of its own)."""
    merged = {lang: [*base.phrases_in(lang), *phrases.get(lang, ())]
              for lang in {*dict(base.phrases), *phrases}}  # fmt: skip
    return theme(base.id, {**dict(base.labels), **labels}, merged)


@dataclass(frozen=True)
class _Search:
    theme: str
    any: re.Pattern[str]
    phrases: tuple[tuple[str, re.Pattern[str]], ...]


@dataclass(frozen=True)
class Taxonomy:
    """The themes a service's comments are tagged with, in their order."""

    themes: tuple[Theme, ...]
    _by_id: dict[str, Theme] = field(init=False, repr=False, compare=False, hash=False)
    # Its phrases compiled, per language, on first use (kept with it, not in a cache keyed
    # by it: hashing a taxonomy would cost more than a search).
    _searches: dict[str, tuple[_Search, ...]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {t.id: t for t in self.themes})

    def searches(self, language: str) -> tuple[_Search, ...]:
        """Each theme's phrases in ``language`` as one search (compiled once)."""
        found = self._searches.get(language)
        if found is None:
            found = self._searches[language] = _compile(self, language)
        return found

    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.themes)

    def get(self, theme_id: str) -> Theme | None:
        return self._by_id.get(theme_id)

    def label(self, theme_id: str, language: str) -> str:
        """A theme's label in ``language`` (the id itself for a theme it does not have: a
        record tagged before the taxonomy changed)."""
        found = self._by_id.get(theme_id)
        return found.label(language) if found else theme_id

    def to_list(self) -> list[dict[str, Any]]:
        """Every theme as the catalog writes it (for an API or a page that shows them)."""
        return [t.to_dict() for t in self.themes]


@dataclass(frozen=True)
class Match:
    """A sample comment a theme matches, and the phrase that matched first."""

    comment: int  # its index among the samples
    phrase: str


def words(text: str, language: str) -> str:
    """A comment as phrases are matched against it: plain words (and ``$``) between single
    spaces, with a space at each end."""
    return " " + " ".join(_TOKEN.findall(plain(text, language))) + " "


def phrase_pattern(phrase: str, language: str = "en") -> str:
    """The regular expression of one phrase (in ``language``) over ``words``: each word made
    plain as a comment's are, ``*`` any ending, ``#`` a number."""
    out: list[str] = []
    for raw in phrase.lower().split():
        pieces = [_NUMBER if p == "#" else re.escape(p)
                  for p in _PIECE.findall(plain(raw.rstrip("*"), language))]  # fmt: skip
        if pieces:
            out.append(" ".join(pieces) + (r"[a-z0-9]*" if raw.endswith("*") else ""))
    return " " + " ".join(out) + "(?= )"


def phrase_problem(phrase: str) -> str | None:
    """Why a phrase cannot be used (None: it can)."""
    text = fold(phrase.strip())
    if not text:
        return "is empty"
    if len(text) > MAX_PHRASE:
        return f"is longer than {MAX_PHRASE} characters"
    if not _PHRASE.match(text):
        return "may hold only letters, digits, spaces and * # $ ' . / -"
    for word in text.split():
        if "*" in word.rstrip("*") or word.count("*") > 1:
            return "has a * that is not at the end of a word"
        if not re.search(r"[a-z0-9#$]", word):
            return f"has a word with nothing to match ({word!r})"
    if "$" not in text and len(re.findall(r"[a-z0-9]", text)) < 2:
        return "matches too much: give at least two letters or digits"
    return None


def _compile(taxonomy: Taxonomy, language: str) -> tuple[_Search, ...]:
    """Each theme's phrases in ``language`` as one search, and each phrase alone (to say which
    one matched)."""
    out = []
    for t in taxonomy.themes:
        alone = tuple(
            (p, re.compile(phrase_pattern(p, language)))
            for p in t.phrases_in(language)
            if not phrase_problem(p)
        )
        joined = "|".join(f"(?:{pattern.pattern})" for _, pattern in alone) or r"(?!)"
        out.append(_Search(t.id, re.compile(joined), alone))
    return tuple(out)


def _plain(text: str, language: str) -> tuple[str, str]:
    """A comment's language (its words', else the survey's; English for any other) and its
    words as phrases are matched against them."""
    found = language_of(text, language) or "en"
    return found, words(text, found)


def tag(text: str | None, language: str, taxonomy: Taxonomy) -> tuple[str, ...]:
    """The ids of the themes a (redacted) comment is about, sorted; () for none. The
    comment's words decide its language when they clearly are English or Spanish, else the
    survey's ``language``; a theme matches by its phrases in that language."""
    if not text or not text.strip():
        return ()
    found, plain_words = _plain(text, language)
    return tuple(sorted(s.theme for s in taxonomy.searches(found) if s.any.search(plain_words)))


def preview(taxonomy: Taxonomy, comments: Sequence[str], language: str) -> dict[str, list[Match]]:
    """For each theme (every one, in the taxonomy's order), the sample comments it matches and
    the phrase that matched first: what an admin sees before saving a change."""
    out: dict[str, list[Match]] = {t: [] for t in taxonomy.ids()}
    for i, comment in enumerate(comments):
        if not comment.strip():
            continue
        found, text = _plain(comment, language)
        for search in taxonomy.searches(found):
            if search.any.search(text):
                phrase = next(p for p, pattern in search.phrases if pattern.search(text))
                out[search.theme].append(Match(i, phrase))
    return out


def parse_themes(
    raw: Sequence[Mapping[str, Any]],
    base: Taxonomy | None,
    languages: Sequence[str],
    source: str,
    path: str,
) -> tuple[Taxonomy, list[FlowError]]:
    """A service's taxonomy from its catalog entry's ``themes`` (already checked against the
    schema): ``base`` (the default taxonomy, or None when ``default_themes: false``) with each
    entry added. An entry with a theme's id of ``base`` adds its phrases to that theme (and
    its labels replace that theme's); any other is a new theme, which needs a label and
    phrases in each of ``languages`` (the service's flow's). Every problem, at its path."""
    errors: list[FlowError] = []
    themes = {t.id: t for t in (base.themes if base else ())}
    seen: set[str] = set()
    for n, entry in enumerate(raw):
        at = f"{path}[{n}]"
        theme_id = str(entry["id"])
        labels = {str(k): str(v) for k, v in (entry.get("label") or {}).items()}
        phrases = {str(k): [str(p) for p in v] for k, v in (entry.get("phrases") or {}).items()}
        if theme_id in seen:
            errors.append(FlowError(source, f"{at}.id", f"theme {theme_id!r} is given twice"))
        seen.add(theme_id)
        for lang, items in phrases.items():
            for k, phrase in enumerate(items):
                if (problem := phrase_problem(phrase)) is not None:
                    errors.append(FlowError(source, f"{at}.phrases.{lang}[{k}]",
                                            f"phrase {phrase!r} {problem}"))  # fmt: skip
        if theme_id in themes and base is not None and base.get(theme_id) is not None:
            themes[theme_id] = extended(themes[theme_id], labels, phrases)
            continue
        for lang in languages:
            if lang not in labels:
                errors.append(FlowError(source, f"{at}.label",
                                        f"a new theme needs a label in {lang!r}"))  # fmt: skip
            if not phrases.get(lang):
                errors.append(FlowError(source, f"{at}.phrases",
                                        f"a new theme needs phrases in {lang!r}"))  # fmt: skip
        themes[theme_id] = theme(theme_id, labels, phrases)
    return Taxonomy(tuple(themes.values())), errors
