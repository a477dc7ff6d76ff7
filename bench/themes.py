"""Themes: micro-averaged precision, recall and F1, and each theme's, per language on every
labelled set (see bench/labelled.py and bench/data/README.md), with the default taxonomy; and
the time per comment.

Micro-averaging counts every (comment, theme) decision alike: a theme tagged and labelled is a
true positive, tagged and not labelled a false positive, labelled and not tagged a false
negative. A comment labelled with no theme and tagged with none counts nothing.

    python3 bench/themes.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.labelled import Labelled, banner, labelled, per_comment
from bot.core.themes import tag
from bot.core.themes_default import DEFAULT


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def report(found: Labelled) -> None:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    exact = 0
    for themes, text in found.rows:
        gold = {t for t in themes.split(",") if t}
        got = set(tag(text, found.language, DEFAULT))
        exact += got == gold
        for t in got & gold:
            tp[t] += 1
        for t in got - gold:
            fp[t] += 1
        for t in gold - got:
            fn[t] += 1
    p, r, f1 = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    print(f"  micro   precision {p:6.1%}  recall {r:6.1%}  F1 {f1:.3f}   "
          f"exactly right {exact / len(found.rows):6.1%} of comments")  # fmt: skip
    unknown = sorted((set(tp) | set(fn)) - set(DEFAULT.ids()))
    for theme in (*DEFAULT.ids(), *unknown):
        p, r, f1 = prf(tp[theme], fp[theme], fn[theme])
        print(f"    {theme:<16} precision {p:6.1%}  recall {r:6.1%}  F1 {f1:.3f}  "
              f"(labelled {tp[theme] + fn[theme]}, tagged {tp[theme] + fp[theme]})")  # fmt: skip
    cpu, wall = per_comment([text for _, text in found.rows],
                            lambda t: tag(t, found.language, DEFAULT))  # fmt: skip
    print(f"    time per comment: {cpu:.3f} ms CPU, {wall:.3f} ms wall")


def main() -> None:
    shown: set[str] = set()
    for found in labelled("themes", ("themes", "text")):
        banner(found, shown)
        report(found)


if __name__ == "__main__":
    main()
