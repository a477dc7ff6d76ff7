"""Sentiment of redacted free text: how the person felt about the experience, for short comments
about government services in English and Spanish (pure).

Method (documented because agencies compare it with other tools):

1. Make the text plain (``bot.core.shorthand``): case, accents, emoji and emoticons as words,
   contractions with or without their apostrophe, SMS shorthand in the comment's language,
   letters typed over and over. Each language's cues are in ``bot.core.sentiment_en`` and
   ``bot.core.sentiment_es`` (shaped by ``bot.core.cues``).
2. A comment that only says there is nothing to say ("no", "n/a", "nothing else", "nada q
   agregar", "sin comentarios") is neutral; a rating ("10/10", "5 stars", "cero estrellas")
   counts as praise or a complaint.
3. Split it where a contrast turns it ("but", "still,", "overall", "pero", "al final"): the part
   after the last turn decides when it says anything, what came before counts a quarter. A
   concession ("although ...", "aunque ...", "a pesar de ...") counts a quarter too.
4. In each part, two kinds of evidence:
   - words: English through TextBlob (its pattern lexicon, which handles "not", "very" and the
     like) plus a service lexicon it lacks ("helpful", "rude", slang such as "goated", "mid");
     Spanish through the stem lexicon of ``bot.core.sentiment_es`` (regional words included:
     "chido", "chévere", "malcriado"). A question or a suggestion ("can someone call me",
     "it would be nice to have more chairs") is not praise: its words count for little.
   - facts: events plainly bad or good with no sentiment word, by pattern — waiting counted in
     hours or months, "still" and "since march", "never arrived", "nobody answers", a third
     visit, a locked account, two times of day far apart ("got there at 8, called at 11:40");
     "in 10 minutes", "same day", "got my card", "walked me through it". A good fact after
     "not", "never", "no" is a bad one; a relative's help is not the service's ("my son
     helped me fill it out").
5. Praise beside a plainly bad fact, with no contrast between them, is sarcasm or a concession
   and reads as a complaint ("wonderful, a 5 hour line again", "thanks for losing my papers").
6. Label: positive at or above +0.1, negative at or below -0.1, neutral between; the polarity
   is the sum, bounded to -1..1.
7. ``unscored`` instead of a guess: empty text, two words or fewer that carry nothing ("ok"),
   or a language other than English and Spanish. Spanish is chosen by the comment's function
   words, or the survey's language when the words do not say; it is not machine-translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core import sentiment_en, sentiment_es
from bot.core.cues import Cues
from bot.core.shorthand import WORD, language_of, plain

Label = Literal["negative", "neutral", "positive", "unscored"]
MAX_CHARS = 1000
POSITIVE_AT = 0.1
NEGATIVE_AT = -0.1
YIELDS = 0.25  # what a part before a contrast, or a concession, counts


@dataclass(frozen=True)
class Sentiment:
    """Polarity (-1..1), subjectivity (0..1) and a label; None scores when unscored."""

    label: Label
    polarity: float | None = None
    subjectivity: float | None = None
    reason: str | None = None  # why it is unscored

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "polarity": self.polarity,
            "subjectivity": self.subjectivity,
            "reason": self.reason,
        }


ENGLISH, SPANISH = sentiment_en.CUES, sentiment_es.CUES


def normalise(text: str, language: str = "en") -> str:
    """Text as the scorer sees it (step 1 of the method)."""
    return plain(text[:MAX_CHARS], language)


def _label(polarity: float) -> Label:
    if polarity >= POSITIVE_AT:
        return "positive"
    if polarity <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def score(text: str | None, language: str | None = None) -> Sentiment:
    """The sentiment of one (already redacted) comment, in English or Spanish: the words
    decide when they clearly are one language, else the survey's ``language``."""
    if text is None or not text.strip():
        return Sentiment("unscored", reason="empty")
    found = language_of(text, language)
    if found is None:
        return Sentiment("unscored", reason="language")
    cues = SPANISH if found == "es" else ENGLISH
    clean = normalise(text, found)
    words = WORD.findall(clean)
    if says_nothing([t for t in clean.split() if t[0].isalnum()], cues):
        return Sentiment("neutral", 0.0, 0.0 if found == "en" else None)
    value, subjectivity, evidence = judge(clean, cues)
    if len(words) < 3 and not evidence:
        return Sentiment("unscored", reason="too_short")
    polarity = round(max(-1.0, min(1.0, value)), 4)
    return Sentiment(
        _label(polarity),
        polarity,
        None if subjectivity is None else round(subjectivity, 4),
    )


def says_nothing(words: list[str], cues: Cues) -> bool:
    """True for a comment whose words (``n/a`` one of them) only say there is nothing to say
    ("no", "nothing else", "sin comentarios")."""
    return (
        bool(words)
        and all(w in cues.nothing for w in words)
        and any(w in cues.nothing_core for w in words)
    )


_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;\n]*")  # a sentence with its closing marks
_CLAUSE = re.compile(r"[,.;:!?]")
_WHY = re.compile(r"^\s*(?:why|how come|por ?que|como es posible)\b")


def judge(clean: str, cues: Cues) -> tuple[float, float | None, bool]:
    """A plain comment's polarity (unbounded), subjectivity, and whether anything in it
    carried weight."""
    parts = [p.strip() for p in cues.contrast.split(clean)]
    parts = [p for p in parts if p and not cues.contrast.fullmatch(p)]
    scored = [_part(part, cues, opens=i == 0) for i, part in enumerate(parts or [clean])]
    last = scored[-1].value
    if len(scored) > 1 and abs(last) >= 0.15:
        # What follows the last contrast decides; a sarcastic part does not yield to it.
        total = last + sum(p.value if p.sarcastic else YIELDS * p.value for p in scored[:-1])
    else:
        total = sum(p.value for p in scored)
    subjectivities = [p.subjectivity for p in scored if p.subjectivity is not None]
    subjectivity = max(subjectivities) if subjectivities else None
    return total, subjectivity, any(p.carried for p in scored)


@dataclass(frozen=True)
class _Scored:
    value: float
    subjectivity: float | None
    carried: bool  # anything in it carried weight
    sarcastic: bool = False


def _part(part: str, cues: Cues, opens: bool = True) -> _Scored:
    """One part between contrasts: its words and facts, concessions yielding. A part that
    ``opens`` the comment may open with a question word; after a contrast ("but when i got
    there ...") only a question mark makes a question."""
    conceded = cues.concession.search(part)
    if conceded:
        head = part[: conceded.start()]
        tail = part[conceded.start() :]
        comma = tail.find(",")
        yielded, rest = (tail, "") if comma < 0 else (tail[:comma], tail[comma + 1 :])
        main = (head + " " + rest).strip()
        if main:
            kept, side = _part(main, cues, opens), _part(yielded, cues, opens)
            if abs(kept.value) >= 0.15:
                return _Scored(kept.value + YIELDS * side.value, kept.subjectivity,
                               kept.carried or side.carried, kept.sarcastic)  # fmt: skip
    lexical = good = bad = 0.0
    subjectivity: float | None = None
    hits = 0
    for i, sentence in enumerate(_SENTENCE.findall(part)):
        polarity, subj, n = cues.lexical(sentence)
        pro, con = _facts(sentence, cues)
        asked = sentence.rstrip().endswith("?")
        if asked or ((opens or i > 0) and cues.question.search(sentence)):
            # Asked, not said ("how long does it take?"), unless it asks why ("why does
            # nobody answer?").
            polarity *= 0.25
            pro = 0.0
            con = con if _WHY.search(sentence) else 0.15 * con
        elif cues.suggestion.search(sentence):
            polarity = 0.5 * polarity if polarity < 0 else 0.0  # a wish is not praise
            pro = 0.0
        lexical += polarity
        good += pro
        bad += con
        hits += n
        if subj is not None:
            subjectivity = subj if subjectivity is None else max(subjectivity, subj)
    span = _waited(part, cues)
    good, bad = good + max(span, 0.0), bad + min(span, 0.0)
    rating = sum(rate(m) for pattern, rate in cues.ratings for m in pattern.finditer(part))
    praise = lexical + rating
    sarcastic = True  # unless the last branch: what it praises, it means the other way
    if cues.sarcasm.search(part):
        value = min(bad, 0.0) - abs(praise) - 0.6
    elif bad <= -0.4 and praise > 0 and good < -bad:
        # Praise beside a plainly bad fact: sarcasm, or a courtesy that changes nothing.
        value = bad - 0.5 * praise
    elif cues.irony.search(part) and (bad < 0 or lexical < 0):
        value = bad + min(lexical, 0.0) - abs(praise) - 0.3
    else:
        value = praise + good + bad
        sarcastic = False
    if cues.mixed.search(part):
        value *= 0.2
    return _Scored(value, subjectivity, bool(hits or good or bad or rating), sarcastic)


def _waited(part: str, cues: Cues) -> float:
    """From the first time of day a part names to the last ("got there at 8, seen at 11:40";
    "a las 9 abrieron y a las 9:10 ya me atendian"): a long wait is a bad fact, a short one a
    good one, nothing when fewer than two times are named."""
    times: list[float] = []
    for match in cues.clock.finditer(part):
        hour, minutes, pm = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        if hour > 23 or minutes > 59:
            continue
        at = hour + minutes / 60 + (12 if pm and hour < 12 else 0)
        if times and at < times[-1]:
            at += 12  # "at 9 ... at 1": the afternoon
        times.append(at)
    if len(times) < 2:
        return 0.0
    hours = times[-1] - times[0]
    return -0.6 if hours >= 1.5 else 0.5 if hours <= 0.5 else 0.0


def _facts(part: str, cues: Cues) -> tuple[float, float]:
    """The weights of the good and the bad facts in a part; a good fact right after a
    negator ("never got my card", "no me llego") is bad (a bad fact stays bad: "no entendi
    nada de lo que ..." is no praise)."""
    good = bad = 0.0
    for (pattern, weight), needed in zip(cues.facts, cues.needles, strict=True):
        if needed is not None and not needed.search(part):
            continue
        for match in pattern.finditer(part):
            value = weight
            if weight > 0:
                before = part[max(0, match.start() - 40) : match.start()]
                window = _CLAUSE.split(before)[-1].split()[-3:]
                if any(w in cues.others for w in window):
                    continue  # "my daughter helped me": not the service's doing
                if any(w in cues.negators for w in window):
                    value = -0.8 * weight
            if value > 0:
                good += value
            else:
                bad += value
    return good, bad
