"""Sentiment of redacted free text: TextBlob's pattern analyzer, normalised and calibrated
for short comments about government services.

Method (documented because agencies compare it with other tools):

1. Normalise: curly apostrophes, contractions ("didn't" -> "did not", so TextBlob sees the
   negation), SMS shorthand ("thx", "gr8"), emoji and emoticons to words (👍 -> "good"),
   letters repeated three times or more cut to two ("sooo goood" -> "soo good").
2. Score with TextBlob (no NLTK data needed), bounded to the first 1,000 characters.
3. Add a small service lexicon TextBlob lacks ("helpful", "took forever", "on hold",
   "nobody called back"), each word flipped when "not", "no", "never" and the like stand in the
   three words before it.
4. Label: positive at or above +0.1, negative at or below -0.1, neutral between.
5. ``unscored`` instead of a guess: empty text, fewer than three words without a strongly
   polar or service word ("ok" alone is not positive), or a language other than English and
   Spanish.
6. Spanish (by its function words, or the survey's language when the words do not say) is
   scored by the stem lexicon of ``bot.core.sentiment_es`` after the same normalisation,
   not machine-translated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core import sentiment_es
from bot.core.pattern import pattern_sentiment

Label = Literal["negative", "neutral", "positive", "unscored"]
MAX_CHARS = 1000
POSITIVE_AT = 0.1
NEGATIVE_AT = -0.1

_EMOJI = {
    "👍": " good ", "👎": " bad ", "🙂": " happy ", "😊": " happy ", "😀": " great ",
    "😃": " great ", "😄": " great ", "😁": " great ", "🥰": " love ", "😍": " love ",
    "❤": " love ", "💯": " excellent ", "🙏": " thanks ", "👏": " great ", "🎉": " great ",
    "😡": " angry ", "😠": " angry ", "🤬": " angry ", "😞": " sad ", "😢": " sad ",
    "😭": " terrible ", "🙁": " sad ", "☹": " sad ", "😤": " frustrated ", "😒": " annoyed ",
    "🤦": " frustrated ", "😐": " meh ", "👌": " good ",
}  # fmt: skip
_EMOTICONS = {
    ":-)": " happy ", ":)": " happy ", "(:": " happy ", ":-D": " great ", ":D": " great ",
    ";)": " happy ", ";-)": " happy ", ":-(": " sad ", ":(": " sad ", ":'(": " sad ",
    ":/": " annoyed ", ":-/": " annoyed ", ">:(": " angry ", "<3": " love ",
}  # fmt: skip
_SHORTHAND = {
    "thx": "thanks", "thnx": "thanks", "tx": "thanks", "ty": "thank you", "gr8": "great",
    "pls": "please", "plz": "please", "u": "you", "ur": "your", "r": "are", "b4": "before",
    "bc": "because", "cuz": "because", "idk": "i do not know", "luv": "love", "rly": "really",
    "srsly": "seriously", "tho": "though", "govt": "government", "w/o": "without",
    "wtf": "terrible", "smh": "disappointed", "lol": "funny", "omg": "wow",
}  # fmt: skip
_CONTRACTIONS = [
    (re.compile(r"\bcan't\b", re.I), "can not"),
    (re.compile(r"\bwon't\b", re.I), "will not"),
    (re.compile(r"\bain't\b", re.I), "is not"),
    (re.compile(r"n't\b", re.I), " not"),
    (re.compile(r"\b(did|does|do|is|was|were|are|could|would|should|has|have|had)nt\b", re.I),
     r"\1 not"),
]  # fmt: skip
_NEGATORS = frozenset(
    "not no never nothing none neither nor without hardly barely nobody cannot".split()
)
# Words TextBlob does not know (or weighs wrongly) in comments about a service.
_LEXICON: dict[str, float] = {
    "helpful": 0.6, "unhelpful": -0.6, "help": 0.3, "helped": 0.5, "thanks": 0.4,
    "thank": 0.4, "appreciate": 0.5, "appreciated": 0.5, "quick": 0.4, "quickly": 0.4,
    "fast": 0.4, "efficient": 0.5, "smooth": 0.5, "painless": 0.6, "seamless": 0.6,
    "convenient": 0.5, "straightforward": 0.5, "courteous": 0.6, "professional": 0.5,
    "respectful": 0.5, "resolved": 0.5, "solved": 0.5, "fixed": 0.4, "answered": 0.3,
    "rude": -0.5, "slow": -0.4, "forever": -0.6, "waiting": -0.3, "waited": -0.3,
    "wait": -0.2, "hold": -0.2, "confusing": -0.6, "confused": -0.5, "frustrating": -0.7,
    "frustrated": -0.6, "crash": -0.5, "crashed": -0.5, "crashing": -0.5, "broken": -0.6,
    "error": -0.4, "errors": -0.4, "glitch": -0.5, "lost": -0.4, "delay": -0.5,
    "delayed": -0.5, "delays": -0.5, "complicated": -0.5, "impossible": -0.6,
    "useless": -0.8, "waste": -0.6, "nobody": -0.4, "ignored": -0.6, "unanswered": -0.5,
    "runaround": -0.6, "annoyed": -0.5, "angry": -0.6, "disappointed": -0.6, "meh": -0.1,
    "hung": -0.3, "denied": -0.4, "rejected": -0.4, "redundant": -0.4, "outdated": -0.4,
}  # fmt: skip
_PHRASES: dict[str, float] = {
    "took forever": -0.8, "on hold": -0.5, "still waiting": -0.7, "never heard back": -0.8,
    "no response": -0.6, "no one": -0.4, "called back": 0.3, "hung up": -0.7,
    "waste of time": -0.8, "kept crashing": -0.7, "could be better": -1.0,
    "could have been better": -1.0, "never got": -0.6, "never received": -0.7,
    "never came": -0.6, "nobody called": -0.6, "no one called": -0.6,
    "went well": 0.6, "no problems": 0.5, "no issues": 0.5, "no problem": 0.4,
}  # fmt: skip
_STRONG = frozenset(
    "great excellent awesome amazing wonderful fantastic perfect best love terrible horrible "
    "awful worst hate useless rude good bad thanks thank helpful unhelpful".split()
)
_SPANISH = frozenset(
    "el la los las de del que y en un una por para con muy pero es fue me mi su lo se "
    "al como mas más ya porque cuando nada todo bien mal gracias servicio".split()
)
_ENGLISH = frozenset(
    "the a an and to of is was it i my for in on with not very but they this that be "
    "were have had you me service".split()
)
_WORD = re.compile(r"[a-záéíóúñü']+")
_REPEATS = re.compile(r"(\w)\1{2,}")


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


def normalise(text: str) -> str:
    """Text as the scorer should see it (step 1 of the method)."""
    text = text[:MAX_CHARS].replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    for face, word in _EMOTICONS.items():
        text = text.replace(face, word)
    for emoji, word in _EMOJI.items():
        text = text.replace(emoji, word)
    text = re.sub("[\ufe0f\U0001f3fb-\U0001f3ff]", "", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _REPEATS.sub(r"\1\1", text)
    words = [_SHORTHAND.get(w.lower(), w) for w in text.split()]
    return " ".join(words)


def _service_lexicon(words: list[str], text: str) -> float:
    total = sum(weight for phrase, weight in _PHRASES.items() if phrase in text)
    for i, word in enumerate(words):
        weight = _LEXICON.get(word, 0.0)
        if weight and any(w in _NEGATORS for w in words[max(0, i - 3) : i]):
            weight = -0.8 * weight
        total += weight
    return total


def is_spanish(words: list[str]) -> bool:
    spanish = sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    return spanish > english and spanish >= 2


def is_english(words: list[str]) -> bool:
    spanish = sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    return english > spanish and english >= 2


def _label(polarity: float) -> Label:
    if polarity >= POSITIVE_AT:
        return "positive"
    if polarity <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def _spanish(clean: str) -> Sentiment:
    """Spanish: the stem lexicon of ``bot.core.sentiment_es`` (no subjectivity)."""
    words = sentiment_es.words_of(clean)
    total, hits = sentiment_es.polarity(words)
    if len(words) < 3 and not hits:
        return Sentiment("unscored", reason="too_short")
    polarity = max(-1.0, min(1.0, total / 2))
    return Sentiment(_label(polarity), round(polarity, 4), None)


def score(text: str | None, language: str | None = None) -> Sentiment:
    """The sentiment of one (already redacted) comment, in English or Spanish: the words
    decide when they clearly are one language, else the survey's ``language``."""
    if text is None or not text.strip():
        return Sentiment("unscored", reason="empty")
    clean = normalise(text)
    lowered = clean.lower()
    words = _WORD.findall(lowered)
    stated = (language or "en").lower()[:2]
    if is_spanish(words) or (stated == "es" and not is_english(words)):
        return _spanish(clean)
    if stated not in ("en", "es") and not is_english(words):
        return Sentiment("unscored", reason="language")
    service = _service_lexicon(words, lowered)
    if len(words) < 3 and not service and not any(w in _STRONG for w in words):
        return Sentiment("unscored", reason="too_short")
    base, subjectivity = pattern_sentiment()(clean)
    polarity = max(-1.0, min(1.0, float(base) + 0.5 * service))
    return Sentiment(_label(polarity), round(polarity, 4), round(float(subjectivity), 4))
