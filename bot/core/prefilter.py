"""Which literal strings a regular expression's matches must contain (pure).

A tagger or a scorer with many patterns spends its time searching for patterns whose words are
nowhere in the text. ``needles(pattern)`` reads the pattern's parse and returns strings one of
which every match contains; ``finder(pattern)`` compiles them into one search of plain strings
(far cheaper than the pattern's), to search for the pattern only where one is found. It is
sound, never a guess: when it cannot say, it says None and the pattern is always searched.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The standard library's regular expression parser (``re._parser``; ``sre_parse`` before
# Python 3.11), used only to find the literal strings a pattern's matches must contain; when
# it cannot be had, every fact is searched for.
try:
    _PARSER: Any = importlib.import_module("re._parser")
    _CONSTANTS: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - an interpreter without it
    _PARSER = _CONSTANTS = None


def needles(pattern: str) -> frozenset[str] | None:
    """Strings of two characters or more one of which every match of ``pattern`` contains,
    found from its parse (None when none can be said)."""
    if _PARSER is None:
        return None
    try:
        found = _required(list(_PARSER.parse(pattern)))
    except Exception:  # a pattern this cannot read is simply searched
        return None
    return frozenset(found) if found and min(map(len, found)) >= 2 else None


def _required(items: list[Any]) -> set[str] | None:
    """One set of strings, one of which any match of the sequence ``items`` contains: the most
    selective among its runs of literal characters and its required parts."""
    c = _CONSTANTS
    best: set[str] | None = None

    def consider(found: set[str] | None) -> None:
        nonlocal best
        if found and (best is None or min(map(len, found)) > min(map(len, best))):
            best = found

    run: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            consider({"".join(run)})
            run = []
        if op is c.SUBPATTERN:
            consider(_required(list(av[-1])))
        elif op is c.BRANCH:
            alternatives = [_required(list(a)) for a in av[1]]
            if all(alternatives):
                consider(set().union(*alternatives))  # type: ignore[arg-type]
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            consider(_required(list(av[2])))
    if run:
        consider({"".join(run)})
    return best


def finder(pattern: str) -> re.Pattern[str] | None:
    """A search for the strings ``needles(pattern)`` finds (None: search for the pattern)."""
    found = needles(pattern)
    if found is None:
        return None
    return re.compile("|".join(re.escape(n) for n in sorted(found, key=len, reverse=True)))
