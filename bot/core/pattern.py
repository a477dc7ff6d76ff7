"""TextBlob's English sentiment (its pattern analyzer), without importing TextBlob's package.

``import textblob`` imports NLTK (and SciPy where it is installed): about 100 MB and a second
and a half for a process that needs only the sentiment lexicon. TextBlob's sentiment is its
module ``textblob/_text.py`` (the pattern library's, standard library only) configured as
``textblob/en/__init__.py`` configures it. This loads that module by path and configures it
the same way, so the scores are TextBlob's own; ``tests/test_sentiment.py`` compares them with
``TextBlob(text).sentiment``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any


def pattern_sentiment() -> Callable[[str], tuple[float, float]]:
    """TextBlob's ``PatternAnalyzer`` for English: text -> (polarity, subjectivity)."""
    return _analyzer()[0]


def pattern_words() -> frozenset[str]:
    """The words TextBlob's English lexicon scores: a text with none of them scores (0, 0)."""
    return _analyzer()[1]


@cache
def _analyzer() -> tuple[Callable[[str], tuple[float, float]], frozenset[str]]:
    package = importlib.util.find_spec("textblob")  # found, not run
    if package is None or not package.submodule_search_locations:
        raise ImportError("textblob is not installed")
    root = Path(package.submodule_search_locations[0])
    spec = importlib.util.spec_from_file_location("_textblob_text", root / "_text.py")
    assert spec is not None and spec.loader is not None
    text: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(text)
    english = root / "en"

    class EnglishSentiment(text.Sentiment):  # type: ignore[misc]
        # textblob.en.Sentiment: adverbs made from the adjectives ("terribly").
        def load(self, path: str | None = None) -> None:
            text.Sentiment.load(self, path)
            if not path:
                word: str
                pos: dict[str, tuple[float, float, float]]
                for word, pos in list(dict.items(self)):
                    if "JJ" in pos:
                        if word.endswith("y"):
                            word = word[:-1] + "i"
                        if word.endswith("le"):
                            word = word[:-2]
                        polarity, subjectivity, intensity = pos["JJ"]
                        self.annotate(word + "ly", "RB", polarity, subjectivity, intensity)

    lexicon = text.Lexicon(
        path=str(english / "en-lexicon.txt"),
        morphology=str(english / "en-morphology.txt"),
        context=str(english / "en-context.txt"),
        entities=str(english / "en-entities.txt"),
        language="en",
    )
    parser = text.Parser(lexicon=lexicon, default=("NN", "NNP", "CD"), language="en")
    analyzer = EnglishSentiment(
        path=str(english / "en-sentiment.xml"),
        synset="wordnet_id",
        negations=("no", "not", "n't", "never"),
        modifiers=("RB",),
        modifier=lambda w: w.endswith("ly"),
        tokenizer=parser.find_tokens,
        language="en",
    )

    def score(sentence: str) -> tuple[float, float]:
        polarity, subjectivity = analyzer(sentence)
        return float(polarity), float(subjectivity)

    return score, frozenset(analyzer)
