"""Comments as people type them on phones, made plain for the scorers (pure).

One normalisation for everything that reads a comment's words — the sentiment scorer, the
theme tagger and the crisis screen — so that "didnt", "no me ayudo", "xq" and "😡" mean the same
to each of them:

- lower case, accents dropped (people type "atencion" and "atención" alike), curly quotes
  straight, emoji skin tones and variation selectors removed;
- emoji and emoticons as words ("👍" -> "good", ":(" -> "sad");
- contractions written out, with or without the apostrophe ("didn't", "didnt" -> "did not");
- SMS shorthand in the comment's language ("thx", "u", "appt", "hrs"; "q", "xq", "pa", "grax");
- a letter typed three times or more cut to two in English ("sooo goood" -> "so good"), and in
  Spanish to one, or two of the letters Spanish doubles ("graciaaas" -> "gracias"); a letter
  typed twice stays ("SSI", "SSA").

Punctuation stays (the scorers split clauses on it). ``language_of`` tells English from
Spanish by a comment's function words.
"""

from __future__ import annotations

import re
import unicodedata

EMOJI: dict[str, str] = {
    "👍": " good ", "👎": " bad ", "🙂": " happy ", "😊": " happy ", "😀": " great ",
    "😃": " great ", "😄": " great ", "😁": " great ", "🥰": " love ", "😍": " love ",
    "❤": " love ", "💯": " excellent ", "🙏": " thanks ", "🎉": " great ", "😡": " angry ",
    "😠": " angry ", "🤬": " angry ", "😞": " sad ", "😢": " sad ", "😭": " terrible ",
    "🙁": " sad ", "☹": " sad ", "😤": " frustrated ", "😒": " annoyed ", "🤦": " frustrated ",
    "😐": " meh ", "👌": " good ", "⭐": " star ", "🌟": " star ", "🤩": " great ",
    "🥳": " great ", "💪": " good ", "🔥": " great ", "🤮": " terrible ", "💩": " terrible ",
    "😩": " frustrated ", "😫": " frustrated ", "😖": " frustrated ", "😑": " annoyed ",
    "🙄": " eyeroll ", "👏": " clap ", "😂": " haha ", "🤣": " haha ", "😅": " haha ",
    "🤡": " clown ", "🥲": " sad ", "😓": " sad ", "😔": " sad ", "💔": " sad ",
}  # fmt: skip
EMOTICONS: dict[str, str] = {
    ">:(": " angry ", ":-)": " happy ", ":)": " happy ", "(:": " happy ", ":-D": " great ",
    ":D": " great ", ";)": " happy ", ";-)": " happy ", ":-(": " sad ", ":(": " sad ",
    ":'(": " sad ", ":/": " annoyed ", ":-/": " annoyed ", "<3": " love ", "=)": " happy ",
    "=(": " sad ",
}  # fmt: skip
# Emoticons that could be part of a link ("https://") are matched only between spaces.
_EMOTICON = re.compile(
    "(?<![\\w/])(" + "|".join(re.escape(face) for face in EMOTICONS) + ")(?![\\w/])"
)
_CONTRACTIONS = [
    (re.compile(r"\b(can)'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bain'?t\b"), "is not"),
    (re.compile(r"\b(do|does|did|is|was|were|are|could|would|should|has|have|had|must|need)"
                r"n'?t\b"), r"\1 not"),
    (re.compile(r"\bi'?m\b"), "i am"),
    (re.compile(r"\bi'?ve\b"), "i have"),
    (re.compile(r"\bi'll\b"), "i will"),
    (re.compile(r"\b(you|they|we)'re\b"), r"\1 are"),
    (re.compile(r"\b(you|they|we)re\b(?<!\bwere)"), r"\1 are"),
    (re.compile(r"\b(it|that|what|there|he|she)'s\b"), r"\1 is"),
    (re.compile(r"\b(that|what|there)s\b"), r"\1 is"),
    (re.compile(r"\b(i|you|they|we|he|she|it|that)'ll\b"), r"\1 will"),
    (re.compile(r"\b(i|you|they|we|he|she)'d\b"), r"\1 would"),
]  # fmt: skip
ENGLISH: dict[str, str] = {
    "thx": "thanks", "thnx": "thanks", "thnks": "thanks", "tx": "thanks", "ty": "thank you",
    "tysm": "thank you so much", "tyvm": "thank you very much", "gr8": "great",
    "pls": "please", "plz": "please", "u": "you", "ur": "your", "r": "are", "b4": "before",
    "bc": "because", "b/c": "because", "cuz": "because", "coz": "because",
    "luv": "love", "rly": "really", "srsly": "seriously", "tho": "though", "thru": "through",
    "govt": "government", "w/o": "without", "w/": "with", "soo": "so", "noo": "no",
    "appt": "appointment", "appts": "appointments", "apt": "appointment",
    "hr": "hour", "hrs": "hours", "min": "minutes", "mins": "minutes", "wk": "week",
    "wks": "weeks", "mo": "month", "mos": "months", "yr": "year", "yrs": "years",
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "ima": "i am going to",
    "imma": "i am going to", "yall": "you all", "ppl": "people", "pple": "people",
    "msg": "message", "info": "information", "ppwk": "paperwork", "rn": "right now",
    "asap": "as soon as possible", "2day": "today", "tmrw": "tomorrow", "tmr": "tomorrow",
    "tbh": "honestly", "ngl": "honestly", "fr": "honestly", "frfr": "honestly", "imo": "",
    "lol": "", "lmao": "", "lmfao": "", "haha": "", "hahaha": "", "jk": "", "k": "ok",
    "kk": "ok", "okay": "ok", "smh": "disappointed", "wtf": "terrible", "omg": "wow",
    "outta": "out of", "pic": "picture", "pics": "pictures", "acct": "account",
    "pw": "password",
    "ya": "you", "kms": "kill myself", "kys": "kill yourself", "unalive": "kill",
}  # fmt: skip
SPANISH: dict[str, str] = {
    "q": "que", "k": "que", "ke": "que", "xq": "porque", "xk": "porque", "pq": "porque",
    "porq": "porque", "x": "por", "tmb": "tambien", "tb": "tambien", "tmbn": "tambien",
    "tambn": "tambien", "grax": "gracias", "grasias": "gracias", "grcs": "gracias",
    "bn": "bien", "mxo": "mucho", "mxos": "muchos", "mxas": "muchas", "d": "de",
    "toy": "estoy", "ta": "esta", "tamos": "estamos", "nd": "nada", "xfa": "por favor",
    "porfa": "por favor", "porfis": "por favor", "pa": "para", "pal": "para el",
    "dsp": "despues", "dps": "despues", "hrs": "horas", "hr": "hora", "min": "minutos",
    "mins": "minutos", "seg": "segundos", "cel": "celular", "compu": "computadora",
    "vdd": "verdad", "tons": "entonces", "ps": "pues", "pos": "pues", "aki": "aqui",
    "npi": "no tengo idea", "ntp": "tranquilo", "nomas": "solo", "xa": "para",
    "m": "me", "t": "te", "sta": "esta", "sts": "estas", "msj": "mensaje",
    "bkn": "bacan", "info": "informacion", "doc": "documento", "docs": "documentos", "jaja": "",
    "jajaja": "", "jeje": "", "jsjs": "", "lol": "", "ok": "ok", "okey": "ok", "oki": "ok",
}  # fmt: skip
_NOISE = re.compile("[\ufe0e\ufe0f\u200d\u200b\U0001f3fb-\U0001f3ff]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u00b4": "'", "`": "'", "\u00ab": '"', "\u00bb": '"'})  # fmt: skip
_REPEATS = re.compile(r"([a-z])\1{2,}")
# Spanish doubles only these letters (llamar, carro, acción, leer, cooperar).
_SPANISH_REPEATS = re.compile(r"([abdfghijkmnpqstuvwxyz])\1{2,}|([lrceo])\2{2,}")
# A word (with "/" for "10/10", "n/a", "w/o"; a web name such as "login.gov" stays one word),
# or any other single character.
_TOKEN = re.compile(r"[a-z0-9/']+(?:\.(?:gov|me|com|org|net)\b)?|[^\sa-z0-9/']")
WORD = re.compile(r"[a-z0-9]+")
MAX_CHARS = 4000


def fold(text: str) -> str:
    """Lower case without accents, quotes straight (``Atención`` -> ``atencion``)."""
    text = text.lower().translate(_QUOTES)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _emoji(text: str) -> str:
    if text.isascii():
        return _EMOTICON.sub(lambda m: EMOTICONS[m.group(1)], text) if ":" in text else text
    text = _NOISE.sub("", text)
    for emoji, word in EMOJI.items():
        if emoji in text:
            text = text.replace(emoji, word)
    return _EMOTICON.sub(lambda m: EMOTICONS[m.group(1)], text)


def plain(text: str, language: str = "en") -> str:
    """A comment's text made plain (see the module's docstring): lower case, no accents, emoji
    as words, contractions and the language's shorthand written out; punctuation kept, each
    mark its own token, separated by single spaces."""
    text = _emoji(text[:MAX_CHARS].translate(_QUOTES))
    text = fold(text)
    if "'" in text or language != "es":
        for pattern, replacement in _CONTRACTIONS:
            text = pattern.sub(replacement, text)
    if language == "es":
        text = _SPANISH_REPEATS.sub(lambda m: m.group(1) or m.group(2) * 2, text)
    else:
        text = _REPEATS.sub(r"\1\1", text)
    table = SPANISH if language == "es" else ENGLISH
    out: list[str] = []
    for token in _TOKEN.findall(text):
        token = token.strip("'") or token
        out.append(table.get(token, token))
    return " ".join(t for t in out if t)


_SPANISH = frozenset(
    "el la los las de del que q y en un una por para con muy pero es fue me mi su lo se "
    "al como mas ya porque cuando nada todo bien mal gracias servicio esta estoy hay "
    "nos le les sin".split()
)
_ENGLISH = frozenset(
    "the a an and to of is was it i my for in on with not very but they this that be "
    "were have had you me service did at so".split()
)


def language_of(text: str, stated: str | None) -> str | None:
    """``en`` or ``es`` as a comment's words say (more of one language's function words than
    the other's, and at least two), else the survey's language when it is one of them; None
    for any other."""
    words = WORD.findall(fold(text[:MAX_CHARS]))
    spanish = sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    says_spanish = spanish > english and spanish >= 2
    says_english = english > spanish and english >= 2
    stated = (stated or "en").lower()[:2]
    if says_spanish or (stated == "es" and not says_english):
        return "es"
    if stated == "en" or says_english:
        return "en"
    return None
