"""The flow model: a survey as versioned, validated data (built by ``bot.flowfile``)."""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.errors import FlowError
from bot.core.wording import DEFAULTS, Wording

QuestionType = Literal["rating", "drivers", "choice", "text"]
Scale = Literal["thumbs", "five_point"]
Instrument = Literal["a11-v2", "a11-v1", "custom"]
Polarity = Literal["positive", "negative"]

# A text in every language of its flow: language code -> template.
Text = Mapping[str, str]

PLACEHOLDERS = frozenset(
    {"provider", "service", "agency", "program", "omb_control_number", "omb_notice", "contact"}
)
# Only a message may use it: how to opt out, in the words of the person's interface.
OPT_OUT = "opt_out"


@dataclass(frozen=True)
class Condition:
    """A test on earlier answers or on the transaction's attributes.

    ``op`` is one of: equals, in, at_least, at_most, answered, positive (on ``question``);
    attribute (``key`` equals ``value`` in the session context); all, any, not (on ``children``).
    """

    op: str
    question: str | None = None
    key: str | None = None
    value: Any = None
    children: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Option:
    """One selectable option of a ``choice`` or ``drivers`` question."""

    value: str
    label: Text
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """One step of a survey."""

    id: str
    type: QuestionType
    prompt: Text
    field: str | None = None
    scale: Scale | None = None
    positive_from: int | None = None  # rating: lowest value on the positive branch
    rating: str | None = None  # drivers: the rating whose answer picks the branch
    negative_prompt: Text | None = None  # drivers: asked on the negative branch
    options: tuple[Option, ...] = ()
    when: Condition | None = None
    # The hint after a reply that was not understood, for every interface; a language it
    # leaves out gets the interface's own (``<answer>_reprompt``, ``bot.core.wording``).
    reprompt: Text = dataclasses.field(default_factory=dict)
    max_attempts: int = 2
    max_length: int = 1000
    # Languages in which the prompt is said as written, nothing added on any interface: a flow
    # in the earlier format whose prompt says how to answer in words of its own
    # (``bot.core.flowfile``; README "How to answer, in each channel's words").
    as_written: frozenset[str] = frozenset()

    @property
    def answer(self) -> str:
        """What the question asks for, which names its instructions (``wording.ANSWERS``):
        a rating's scale (thumbs, five_point), drivers, choice or free_text."""
        if self.type == "rating":
            return self.scale or "five_point"
        return "free_text" if self.type == "text" else self.type


@dataclass(frozen=True)
class Flow:
    """A validated survey flow."""

    id: str
    version: str
    title: str
    instrument: Instrument
    default_language: str
    languages: tuple[str, ...]
    messages: Mapping[str, Text]
    questions: tuple[Question, ...]
    skip_words: frozenset[str] = frozenset()  # folded (bot.text.fold)
    source: str = ""
    # How to answer, per interface, instruction and language: the built-in wording with the
    # flow's own laid over it (``bot.core.wording``).
    instructions: Wording = dataclasses.field(default_factory=lambda: DEFAULTS)
    # What the checks found that runs but should change, each at its node path: a flow in the
    # earlier format and how to move it to the new form.
    warnings: tuple[FlowError, ...] = dataclasses.field(default=(), compare=False)

    def question(self, question_id: str) -> Question:
        """The question with this id (KeyError when there is none)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def language_for(self, requested: str | None) -> str:
        """The flow language to use for a requested language tag such as ``es-US``."""
        if requested:
            base = requested.replace("_", "-").split("-")[0].lower()
            if base in self.languages:
                return base
        return self.default_language


def placeholders(template: str) -> list[str]:
    """The ``{name}`` fields a template uses."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]


def formatted(template: str) -> list[str]:
    """The fields of a template that carry a format spec or a conversion, as written
    (``{agency:>9}``, ``{agency!r}``): a flow's placeholders are plain names."""
    return [
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        for _, name, spec, conversion in string.Formatter().parse(template)
        if name is not None and (spec or conversion)
    ]


_SPACES = re.compile(" {2,}")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, context: Mapping[str, str]) -> str:
    """Fill a template's placeholders; a missing value renders empty rather than failing, and
    leaves no double space behind (an interface that says nothing to opt out)."""
    text = template.format_map(_Blank(context)).strip()
    return _SPACES.sub(" ", text) if "  " in text else text
