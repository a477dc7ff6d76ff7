"""The labelled comment sets the sentiment and themes benchmarks read (bench/data/, see its
README.md for where each came from).

Formats (UTF-8, tab-separated, a header line, one comment per line):
- sentiment_<lang>.tsv: ``label<TAB>kind<TAB>text`` — label positive/negative/neutral; kind
  short, contrast, sarcasm, implicit, regional or plain;
- themes_<lang>.tsv: ``themes<TAB>text`` — comma-separated theme ids, empty for none.

Sets, in the order they are reported: ``original``, ``own``, ``dev``, then ``heldout`` when the
lead has added it — reported last, apart, and named as the held-out set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ("en", "es")
KINDS = ("short", "contrast", "sarcasm", "implicit", "regional", "plain")
SETS = {
    "original": "the first sets: written, labelled and then tuned on by the hand that wrote "
    "the first lexicon",
    "own": "written by the engineer who wrote the rules, to tune on (not evidence)",
    "dev": "the development set: written and labelled independently, tuned on",
    "heldout": "THE HELD-OUT SET: written and labelled independently, never seen while tuning",
}


@dataclass(frozen=True)
class Labelled:
    """One file of one set: its rows split on tabs (header dropped)."""

    name: str  # the set: original, own, dev, heldout
    language: str
    rows: list[list[str]]

    @property
    def heldout(self) -> bool:
        return self.name == "heldout"

    def title(self) -> str:
        return f"{self.name} ({self.language}, {len(self.rows)} comments): {SETS[self.name]}"


def read(path: Path, columns: Sequence[str]) -> list[list[str]]:
    """The rows of a labelled file, checked against its header."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t") if lines else []
    if header != list(columns):
        raise SystemExit(f"{path}: the header must be {'<TAB>'.join(columns)}, not {header}")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        row = line.split("\t")
        if len(row) != len(columns):
            raise SystemExit(f"{path}:{n}: {len(row)} columns, not {len(columns)}")
        rows.append(row)
    return rows


def labelled(kind: str, columns: Sequence[str]) -> Iterator[Labelled]:
    """Every set's file of this kind (``sentiment`` or ``themes``) that exists, in order."""
    for name in SETS:
        for language in LANGUAGES:
            path = DATA / name / f"{kind}_{language}.tsv"
            if path.exists():
                yield Labelled(name, language, read(path, columns))


def per_comment(texts: Sequence[str], work: Callable[[str], object]) -> tuple[float, float]:
    """Milliseconds per comment, CPU and wall, the best of three passes (other processes on
    a shared machine slow the wall clock, the CPU time much less)."""
    cpu = wall = float("inf")
    for _ in range(3):
        c0, w0 = time.process_time(), time.perf_counter()
        for text in texts:
            work(text)
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    n = max(len(texts), 1)
    return cpu / n * 1000, wall / n * 1000


def banner(found: Labelled, shown: set[str]) -> None:
    """The heading of a set, the held-out set's set apart."""
    if found.heldout and "heldout" not in shown:
        print("\n" + "=" * 78)
        print("HELD-OUT SET: independently written, never tuned on; measure it once")
        print("=" * 78)
    shown.add(found.name)
    print(f"\n{found.title()}")
