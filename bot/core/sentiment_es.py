"""Sentiment of Spanish comments (pure): a lexicon of word stems for short comments about
government services, with the English scorer's normalisation (shorthand, emoji, repeated
letters) and negation.

Why our own lexicon: no maintained Spanish scorer on the package index runs offline and light.
Tried (December 2026): SentiLeak (LGPL) downloads a spaCy model at run time and pins
numpy < 1.22; senticnet's Babel Spanish is machine-translated (no "fácil", "pésimo" or
"perfecto"; "claro" scores -0.62), its import took 46 s and 12 MB; pysentimiento downloads
transformer models and is for non-commercial use; sentiment-analysis-spanish unpickles 30 MB
of 2021 scikit-learn objects. A stem lexicon is small, explainable, and fast; its accuracy
is measured in ``bench/sentiment.py`` on a labelled Spanish set.

Method: accents are dropped (people type without them on phones), shorthand expanded
("q" -> "que", "xq" -> "porque", "grax" -> "gracias"); each word takes the weight of the
longest stem it starts with; a word after "muy", "súper", "demasiado" and the like weighs half
as much again; the first sentiment word within three after "no", "nunca", "nadie", "sin" and
the like is flipped, a positive one firmly ("no me ayudaron" is negative) and a negative one
mildly ("sin problemas" is somewhat positive); a few phrases carry their own weight
("pérdida de tiempo", "de primera").
"""

from __future__ import annotations

import re
import unicodedata

SHORTHAND: dict[str, str] = {
    "q": "que", "k": "que", "xq": "porque", "pq": "porque", "porq": "porque", "x": "por",
    "tmb": "tambien", "tb": "tambien", "grax": "gracias", "grasias": "gracias",
    "bn": "bien", "mxo": "mucho", "mxos": "muchos", "mxas": "muchas", "d": "de",
    "toy": "estoy", "nd": "nada", "xfa": "por favor", "porfa": "por favor", "ntp": "tranquilo",
}  # fmt: skip
NEGATORS = frozenset(
    "no nunca jamas nadie nada ni sin tampoco ningun ninguna ninguno apenas".split()
)
INTENSIFIERS = frozenset("muy super demasiado tan bastante mucho muchisimo re sumamente".split())

# Stems (accents dropped) and weights, -1..1. A word takes its longest matching stem.
STEMS: dict[str, float] = {
    # praise and thanks
    "gracias": 0.5, "agradec": 0.5, "agradezc": 0.5, "excelent": 0.8, "buen": 0.5,
    "bien": 0.5, "mejor": 0.5, "genial": 0.7, "perfect": 0.7, "maravill": 0.8,
    "fantastic": 0.8, "increibl": 0.5, "estupend": 0.7, "encant": 0.6, "felic": 0.6,
    "feliz": 0.6, "content": 0.5, "satisfech": 0.6, "recomiend": 0.5, "recomend": 0.5,
    "positiv": 0.4, "primera": 0.2, "sorprend": 0.3, "gust": 0.4, "alegr": 0.5,
    # the service and the people
    "amabl": 0.6, "atent": 0.5, "pacienc": 0.4, "pacient": 0.4, "respetu": 0.5,
    "respet": 0.3, "profesional": 0.5, "cortes": 0.5, "cordial": 0.5, "carin": 0.5,
    "eficient": 0.6, "eficaz": 0.5, "rapid": 0.5, "agil": 0.5, "facil": 0.5, "sencill": 0.5,
    "simple": 0.3, "practic": 0.4, "clar": 0.3, "util": 0.4, "organizad": 0.4,
    "puntual": 0.4, "ayud": 0.15, "resolv": 0.4, "resuelt": 0.4, "solucion": 0.4,
    "aprob": 0.3, "funcion": 0.2, "sirv": 0.2, "sirve": 0.2, "entend": 0.2,
    "explic": 0.1, "atendi": 0.2, "atend": 0.2,
    # complaints
    "mal": -0.6, "malo": -0.6, "mala": -0.6, "pesim": -0.9, "peor": -0.7, "horribl": -0.8,
    "terribl": -0.8, "fatal": -0.8, "desastr": -0.8, "grocer": -0.7, "groser": -0.7,
    "maleducad": -0.7, "lent": -0.5, "tard": -0.4, "esper": -0.3, "eterna": -0.6,
    "eterno": -0.6, "demor": -0.4, "retras": -0.5, "complicad": -0.5, "complicacion": -0.4,
    "dificil": -0.5, "confus": -0.6, "enred": -0.5, "imposibl": -0.7, "inutil": -0.8,
    "frustr": -0.7, "molest": -0.6, "enoj": -0.6, "decepcion": -0.7, "triste": -0.5,
    "ignor": -0.5, "perd": -0.4, "error": -0.5, "equivocad": -0.5, "fall": -0.4,
    "problem": -0.4, "cae": -0.3, "trab": -0.4, "colg": -0.5, "cort": -0.3,
    "desorganizad": -0.6, "desactualizad": -0.5, "neg": -0.4, "rechaz": -0.5,
    "cobr": -0.2, "queja": -0.5, "quej": -0.4, "abus": -0.6, "injust": -0.6,
    "verguenza": -0.7, "burla": -0.6, "robo": -0.7, "nadie": -0.4, "nunca": -0.3,
    "todavia": -0.2, "aun": -0.1, "semanas": -0.2, "meses": -0.3, "horas": -0.2,
    "culpa": -0.4, "mentir": -0.6, "mentira": -0.6, "odi": -0.8,
    # the English scorer turns emoji and emoticons into these words
    "good": 0.6, "great": 0.8, "happy": 0.6, "love": 0.7, "thanks": 0.5, "excellent": 0.8,
    "bad": -0.6, "terrible": -0.8, "angry": -0.7, "sad": -0.5, "frustrated": -0.7,
    "annoyed": -0.5, "meh": -0.1,
    # words that start like a stem but mean something else weigh nothing
    "maleta": 0.0, "esperanza": 0.0, "perdon": 0.0, "tarde": 0.0, "funcionari": 0.0,
    "negoci": 0.0, "negr": 0.0, "trabaj": 0.0, "aunque": 0.0, "utiliz": 0.0,
}  # fmt: skip
PHRASES: dict[str, float] = {
    "perdida de tiempo": -0.9, "no sirve": -0.6, "de primera": 0.6, "nunca mas": -0.7,
    "a cada rato": -0.3, "en espera": -0.3, "se corto": -0.4, "me colgaron": -0.3,
    "mil gracias": 0.4, "de mas": -0.3, "de una oficina a otra": -0.6,
}  # fmt: skip
WORD = re.compile(r"[a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")


def fold(text: str) -> str:
    """Lower case without accents (ñ becomes n: no sentiment word depends on it)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def weight(word: str) -> float:
    """A word's weight: its longest stem's, 0 without one."""
    for end in range(len(word), 2, -1):
        found = STEMS.get(word[:end])
        if found is not None:
            return found
    return 0.0


def words_of(normalised: str) -> list[str]:
    """The words of a comment the English normaliser has seen, folded and expanded."""
    folded = _REPEATS.sub(r"\1", fold(normalised))
    return " ".join(SHORTHAND.get(w, w) for w in WORD.findall(folded)).split()


def polarity(words: list[str]) -> tuple[float, int]:
    """The summed weight of a comment's words and phrases, and how many words carried one."""
    joined = " ".join(words)
    total = sum(w for phrase, w in PHRASES.items() if f" {phrase} " in f" {joined} ")
    hits = 0
    negated = 0  # words left in the scope of the last negator
    for i, word in enumerate(words):
        value = weight(word)
        if word in NEGATORS:
            negated = 3
        elif value and negated:
            # "no me ayudaron" is plainly negative; "sin problemas" only mildly positive.
            value = -max(0.8 * value, 0.5) if value > 0 else -0.5 * value
            negated = 0  # a negator governs the first sentiment word after it
        else:
            negated = max(0, negated - 1)
        if not value:
            continue
        hits += 1
        if i and words[i - 1] in INTENSIFIERS:
            value *= 1.5
        total += value
    return total, hits
