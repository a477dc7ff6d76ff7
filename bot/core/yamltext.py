"""YAML from outside made into data, at a bounded cost: a flow's text (its file, ``PUT
/v1/flows``, the console's editor), the service catalog file and the console's settings
fields all pass through ``parse_yaml``.

Anchors and aliases let a few bytes stand for an enormous value: in 3 KB, nine levels of nine
aliases each name 9⁹ strings. PyYAML builds such a value as shared references, cheaply, but
everything after it — the schema's checks, the content hash, an error that quotes the value —
walks it in full: a 3,344-byte flow drew a 72 MB error, nine levels exhausted memory, and a
condition built the same way kept the checks running for minutes in a thread that cannot be
cancelled. So the text's events are read first, and it is refused before anything is built:

- when its aliases together stand for more than ``ALIAS_BUDGET`` values (each alias counts
  every value of what it names, the aliases inside that included), or an alias sits inside
  what it names;
- when it nests more than ``MAX_DEPTH`` deep (an alias as deep as what it names);
- when it holds more than ``MAX_VALUES`` values in all (a catalog of about a thousand services).

What is built is then at most ``MAX_VALUES`` values, whatever the text's size, and reading it
and everything after take time and memory in proportion. Anchors stay allowed within the
budget (a catalog may share one ``alerts`` block between services); no built-in flow or catalog
uses one.

The text is read by libyaml, the C parser PyYAML's wheels carry: PyYAML's own scanner costs
time per token in proportion to the nesting, and 256 KiB nested 60 deep took it 10 s (libyaml
reads it in 0.12 s). Without libyaml, PyYAML's parser is used, to the same rules. libyaml's
composer recurses in C, and text nested 100,000 deep crashes the process: nothing here
composes or builds a text before ``_check`` has passed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionEndEvent, NodeEvent
from yaml.nodes import Node

from bot.core.errors import FlowError

ALIAS_BUDGET = 10_000  # values all the aliases of a document may stand for
MAX_VALUES = 50_000  # values a document may hold, aliases expanded (a flow has a few hundred)
MAX_DEPTH = 64  # a flow's deepest condition needs about 2 levels per nesting
LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML has it


class TooCostly(yaml.YAMLError):
    """YAML refused for what it would cost to build, at the event that would."""

    def __init__(self, problem: str, event: NodeEvent) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = event.start_mark


@dataclass
class _Open:
    """A collection being read: its anchor, the values before it, its depth and the deepest
    any value inside it reaches."""

    anchor: str | None
    before: int
    depth: int
    reach: int


def _check(text: str) -> None:
    """Read the text's events; raise TooCostly (or PyYAML's error) for what may not be built."""
    values = aliased = 0  # values so far (aliases expanded), and those aliases stood for
    named: dict[str, tuple[int, int]] = {}  # anchor: (values, height) of what it names
    stack: list[_Open] = []
    for event in yaml.parse(text, Loader=LOADER):
        if isinstance(event, CollectionEndEvent):
            done = stack.pop()
            if done.anchor is not None:
                named[done.anchor] = (values - done.before, done.reach - done.depth + 1)
            if stack:
                stack[-1].reach = max(stack[-1].reach, done.reach)
            continue
        if not isinstance(event, NodeEvent):  # stream and document starts and ends
            continue
        depth = len(stack) + 1
        if isinstance(event, AliasEvent):
            anchor = str(event.anchor)
            if any(o.anchor == anchor for o in stack):
                raise TooCostly(f"alias *{anchor} is inside what it names", event)
            count, height = named.get(anchor, (0, 1))  # undefined: the loader says so
            values += count
            aliased += count
            if aliased > ALIAS_BUDGET:
                raise TooCostly(f"aliases stand for more than {ALIAS_BUDGET:,} values in all: "
                                "write the values out", event)  # fmt: skip
        else:
            values += 1
            height = 1
        if values > MAX_VALUES:
            raise TooCostly(f"more than {MAX_VALUES:,} values", event)
        reach = depth + height - 1
        if reach > MAX_DEPTH:
            raise TooCostly(f"nested more than {MAX_DEPTH} deep", event)
        if stack:
            stack[-1].reach = max(stack[-1].reach, reach)
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            stack.append(_Open(event.anchor, values - 1, depth, depth))
        elif isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            named[event.anchor] = (1, 1)


def compose_yaml(text: str) -> Node | None:
    """The text's nodes (each with its line), None when it cannot be read or built."""
    try:
        _check(text)
        return yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError:
        return None


def parse_yaml(text: str, source: str) -> tuple[Any, list[FlowError]]:
    """The data of YAML (or JSON) text, or the one error that stops it being read or built,
    with its line and column."""
    try:
        _check(text)
        return yaml.load(text, Loader=LOADER), []  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        message = problem if isinstance(exc, TooCostly) else f"invalid YAML: {problem}"
        return None, [FlowError(source, where, message)]
