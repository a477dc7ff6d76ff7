"""Loading and validating flow files: every error, located by file and node path."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from bot.core.a11 import DRIVER_LABELS, REQUIRED_DRIVERS
from bot.core.errors import FlowError, FlowValidationError, at_most
from bot.core.flow import (
    OPT_OUT,
    PLACEHOLDERS,
    Condition,
    Flow,
    Option,
    Question,
    Text,
    formatted,
    placeholders,
)
from bot.core.text import fold
from bot.core.wording import DEFAULTS, INTERFACES, OPTION_PLACEHOLDERS, Interface
from bot.core.yamltext import parse_yaml
from flows import FLOWS_DIR

MAX_QUESTIONS = 15
CATALOG_FILE_NAMES = frozenset({"services.yaml", "services.yml"})

_COMPARISONS = ("equals", "in", "at_least", "at_most", "answered", "positive")
# A flow written before each interface worded how to answer (README "How to answer, in each
# channel's words"): what its warnings begin with, and how it listed options in any language.
EARLIER = "earlier format (runs as before)"
EARLIER_OPTION = "{number} {label}"


def _unworded(name: str, lang: str, how: str) -> str:
    """What a warning adds about an instruction: its words by text, or that the flow must
    word it (a language with no built-in wording)."""
    if how:
        return f" (by text {how!r})"
    return f" (word it in instructions.<interface>.{name}: none is built in for {lang!r})"


def _prompts(question: Question) -> dict[str, Text]:
    """A question's prompts by where they are in its file: ``prompt``, or a drivers
    question's ``prompt.positive`` and ``prompt.negative``."""
    if question.negative_prompt is None:
        return {"prompt": question.prompt}
    return {"prompt.positive": question.prompt, "prompt.negative": question.negative_prompt}


def _names(template: str) -> set[str] | None:
    """The placeholders of a template (None when it is not one: ``text`` reports that)."""
    try:
        return set(placeholders(template))
    except ValueError:
        return None


def node_path(parts: Iterator[str | int] | list[str | int] | tuple[str | int, ...]) -> str:
    """``["questions", 2, "options", 0]`` -> ``questions[2].options[0]``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing" if value is None else type(value).__name__


def _schema_message(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = schema.get("x-kind")
    match error.validator:
        case "enum" if kind:
            return f"unknown {kind} {error.instance!r}"
        case "required":
            required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
            present = error.instance if isinstance(error.instance, dict) else {}
            missing = [r for r in required if r not in present]
            return "missing required field " + ", ".join(repr(m) for m in missing)
        case "additionalProperties" if isinstance(error.instance, dict):
            known = set(schema.get("properties", {}))
            extra = sorted(k for k in error.instance if k not in known)
            return "unknown field " + ", ".join(repr(e) for e in extra)
        case "type":
            return f"expected {error.validator_value}, got {_json_type(error.instance)}"
        case "minProperties" if isinstance(error.instance, dict) and not error.instance:
            return "is empty: write its text"
        case "pattern":
            return f"invalid value {error.instance!r} (must match {error.validator_value})"
    return error.message


@cache
def _validator(schema_path: Path) -> Draft202012Validator:
    with schema_path.open(encoding="utf-8") as f:
        return Draft202012Validator(json.load(f))


def schema_errors(data: Any, source: str, schema_path: Path) -> list[FlowError]:
    """Every JSON Schema violation of ``data``, located by node path, in path order."""
    validator = _validator(schema_path)
    errors = [
        FlowError(source, node_path(list(e.absolute_path)) or "(root)", _schema_message(e))
        for e in validator.iter_errors(data)
    ]
    return sorted(errors, key=lambda e: (e.path, e.message))


def content_version(data: Mapping[str, Any]) -> str:
    """A short, stable hash of a flow's content, used as its version when none is given."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


class _Checker:
    """Semantic checks on schema-valid flow data; collects every problem."""

    def __init__(
        self, data: dict[str, Any], source: str, broken: frozenset[str] = frozenset()
    ) -> None:
        self.data = data
        self.source = source
        self.errors: list[FlowError] = []
        self.warnings: list[FlowError] = []
        self.languages: tuple[str, ...] = tuple(data["languages"])
        self.wording: dict[Interface, dict[str, Text]] = {i: dict(DEFAULTS[i]) for i in INTERFACES}
        # Written before each interface worded how to answer: no intro says {opt_out}.
        self.earlier_format = False
        self.broken = broken  # the paths the schema refused: their nodes are not checked again

    def refused(self, path: str) -> bool:
        """Whether the schema refused this node or one inside it (its checks would misread)."""
        return any(b == path or b.startswith((path + ".", path + "[")) for b in self.broken)

    def error(self, path: str, message: str) -> None:
        self.errors.append(FlowError(self.source, path, message))

    def warn(self, path: str, message: str) -> None:
        """Something that runs but should change (a flow in the earlier format)."""
        self.warnings.append(FlowError(self.source, path, message))

    def text(
        self, value: Mapping[str, str], path: str, *, defaults: Text | None = None,
        complete: bool = True, allowed: frozenset[str] = PLACEHOLDERS,
    ) -> Text:  # fmt: skip
        """A text in every language of the flow (``complete``; else those it has), its
        templates using only the ``allowed`` placeholders, laid over ``defaults``."""
        for lang in value:
            if lang not in self.languages:
                self.error(f"{path}.{lang}", f"language {lang!r} is not listed in languages")
        for lang in self.languages if complete else ():
            if lang not in value and not (defaults and lang in defaults):
                self.error(path, f"missing translation for {lang!r}")
        for lang, template in value.items():
            try:
                names = placeholders(template)
            except ValueError as exc:
                self.error(f"{path}.{lang}", f"invalid template: {exc}")
                continue
            for field in formatted(template):
                # A format spec or conversion is the engine's to apply: "{agency:>999999999}"
                # would render a message of any length, "{agency!r}" quotes it.
                self.error(f"{path}.{lang}",
                           f"a placeholder takes no format or conversion: {field}")  # fmt: skip
            for name in names:
                if name not in allowed:
                    where = " (only a message may say how to opt out)" if name == OPT_OUT else ""
                    self.error(f"{path}.{lang}", f"unknown placeholder {{{name}}}{where}")
        return {**(defaults or {}), **value}

    def instructions(self, raw: Mapping[Interface, Mapping[str, Mapping[str, str]]]) -> None:
        """The flow's own wording of how to answer laid over the built-in (``self.wording``)."""
        for interface, names in raw.items():  # the schema let only interfaces' names through
            for name, value in names.items():
                allowed = PLACEHOLDERS | OPTION_PLACEHOLDERS if name == "option" else PLACEHOLDERS
                self.wording[interface][name] = self.text(
                    value, f"instructions.{interface}.{name}", defaults=DEFAULTS[interface][name],
                    complete=False, allowed=allowed,
                )  # fmt: skip
        for lang, how in self.wording["text"]["opt_out"].items():
            if "STOP" not in how:
                self.error(f"instructions.text.opt_out.{lang}",
                           "a text message must say how to opt out with STOP")  # fmt: skip

    def worded(self, asked: list[Question | None], messages: Mapping[str, Text]) -> None:
        """Every instruction the flow uses is worded, on every interface, in each of its
        languages (the built-in wording has English and Spanish); no question says by
        itself how to answer by text (the engine adds that, in each interface's words).
        A question the schema refused (None) is not judged again."""
        questions = [q for q in asked if q is not None]
        used: dict[str, set[str]] = {}  # instruction -> the languages it must be in
        every = set(self.languages)
        used[OPT_OUT] = {lang for text in messages.values() for lang, t in text.items()
                         if "{" + OPT_OUT + "}" in t}  # fmt: skip
        if any(q.options for q in questions):
            used["option"] = every
            if self.earlier_format:  # which listed options as "1 Label", in any language
                for interface in INTERFACES:
                    wording = self.wording[interface]
                    wording["option"] = {**dict.fromkeys(every, EARLIER_OPTION),
                                         **wording["option"]}  # fmt: skip
        for q in questions:
            used.setdefault(q.answer, set()).update(every - q.as_written)
            used.setdefault(q.answer + "_reprompt", set()).update(every - set(q.reprompt))
        for interface in INTERFACES:
            missing: dict[str, list[str]] = {}
            for name, languages in used.items():
                for lang in sorted(languages - set(self.wording[interface][name])):
                    missing.setdefault(lang, []).append(name)
            for lang, names in missing.items():
                self.error(f"instructions.{interface}", f"no wording in {lang!r} (none is "
                           f"built in) for: {', '.join(names)}")  # fmt: skip
        if self.earlier_format:  # its prompts were taken care of (``as_before``)
            return
        for i, one in enumerate(asked):
            if one is None:
                continue
            for where, text in _prompts(one).items():
                for lang, template in text.items():
                    how = self.wording["text"][one.answer].get(lang, "")
                    if how and how in template:
                        self.error(f"questions[{i}].{where}.{lang}",
                                   f"says how to answer by text ({how!r}): each channel's "
                                   f"words are added from instructions.<interface>.{one.answer}; "
                                   "leave them out of the question")  # fmt: skip

    def condition(
        self, raw: dict[str, Any], path: str, earlier: dict[str, dict[str, Any]]
    ) -> Condition | None:
        combinators = [k for k in ("all", "any", "not") if k in raw]
        comparisons = [k for k in _COMPARISONS if k in raw]
        if combinators:
            if len(raw) != 1:
                self.error(path, f"{combinators[0]!r} cannot be combined with other keys")
                return None
            op = combinators[0]
            items = [raw[op]] if op == "not" else raw[op]
            children = []
            for i, child in enumerate(items):
                sub = f"{path}.{op}" if op == "not" else f"{path}.{op}[{i}]"
                parsed = self.condition(child, sub, earlier)
                if parsed is not None:
                    children.append(parsed)
            return Condition(op, children=tuple(children))
        if "attribute" in raw:
            if set(raw) != {"attribute", "equals"}:
                self.error(path, "an 'attribute' condition takes exactly 'attribute' and 'equals'")
                return None
            return Condition("attribute", key=raw["attribute"], value=raw["equals"])
        if "answer" not in raw or len(comparisons) != 1 or len(raw) != 2:
            self.error(
                path,
                "a condition needs 'answer' with exactly one of "
                + ", ".join(_COMPARISONS)
                + ", or 'attribute' with 'equals', or one of all, any, not",
            )
            return None
        target, comparison = raw["answer"], comparisons[0]
        if target not in earlier:
            self.error(f"{path}.answer", f"no earlier question {target!r}")
            return None
        if (
            comparison in ("positive", "at_least", "at_most")
            and earlier[target].get("type") != "rating"
        ):
            self.error(
                f"{path}.{comparison}",
                f"{comparison!r} needs a rating question, {target!r} is not one",
            )
        return Condition(comparison, question=target, value=raw[comparison])

    def check(self) -> Flow | None:
        d = self.data
        if d["default_language"] not in self.languages:
            self.error("default_language", f"{d['default_language']!r} is not in languages")
        messages = {
            name: self.text(text, f"messages.{name}", allowed=PLACEHOLDERS | {OPT_OUT})
            for name, text in d["messages"].items()
            if not self.refused(f"messages.{name}")
        }
        if not self.refused("instructions"):
            self.instructions(d.get("instructions", {}))
        if "intro" in messages:
            messages["intro"] = self.intro(messages["intro"])

        raw_questions: list[dict[str, Any]] = d["questions"]
        if len(raw_questions) > MAX_QUESTIONS:
            self.error(
                "questions", f"at most {MAX_QUESTIONS} questions (found {len(raw_questions)})"
            )
        questions: list[Question | None] = []
        earlier: dict[str, dict[str, Any]] = {}
        fields: dict[str, str] = {}
        for i, raw in enumerate(raw_questions):
            if self.refused(f"questions[{i}]"):  # its schema errors are its errors
                questions.append(None)
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    earlier.setdefault(raw["id"], raw)  # later questions may name it
                continue
            question = self.question(raw, f"questions[{i}]", earlier)
            if question is not None and self.earlier_format:
                question = self.as_before(question, f"questions[{i}]")
            if raw["id"] in earlier:
                self.error(f"questions[{i}].id", f"duplicate question id {raw['id']!r}")
            if question is not None and question.field:
                if question.field in fields:
                    self.error(
                        f"questions[{i}].field",
                        f"field {question.field!r} is already used by {fields[question.field]!r}",
                    )
                fields[question.field] = question.id
            questions.append(question)
            earlier.setdefault(raw["id"], raw)
        self.instrument(questions)
        self.worded(questions, messages)
        if self.errors or self.broken:
            return None
        return Flow(
            id=d["id"],
            version=str(d.get("version") or content_version(d)),
            title=d["title"],
            instrument=d["instrument"],
            default_language=d["default_language"],
            languages=self.languages,
            messages=messages,
            questions=tuple(q for q in questions if q is not None),
            skip_words=frozenset(map(fold, d.get("skip_words", ()))),
            source=self.source,
            instructions=self.wording,
            warnings=tuple(at_most(self.warnings, what="warnings")),
        )

    def intro(self, intros: Text) -> Text:
        """The intro checked: it names the agency, carries the OMB notice and says how to opt
        out, with ``{opt_out}`` (each interface's words). A flow written before that (the
        earlier format: no intro has ``{opt_out}``) said it in its own words, with STOP: it
        still runs, with a warning, and where those words are the text interface's own
        ("Reply STOP to opt out.") they become ``{opt_out}``, the same words by text."""
        names = {lang: _names(intro) for lang, intro in intros.items()}
        self.earlier_format = not any(OPT_OUT in n for n in names.values() if n is not None)
        kept = dict(intros)
        for lang, intro in intros.items():
            where, used = f"messages.intro.{lang}", names[lang]
            if used is None:  # not a template: said once (``text``)
                continue
            if "agency" not in used:
                self.error(where, "the intro must name the agency ({agency})")
            if not used & {"omb_notice", "omb_control_number"}:
                self.error(where, "the intro must carry the OMB control number ({omb_notice})")
            if OPT_OUT in used:
                continue
            if not self.earlier_format or "STOP" not in intro:
                self.error(where, "the intro must say how to opt out: {opt_out} (by text, "
                           '"Reply STOP to opt out.")')  # fmt: skip
                continue
            how = self.wording["text"]["opt_out"].get(lang, "")
            if how and how in intro:
                kept[lang] = intro.replace(how, "{" + OPT_OUT + "}", 1)
                self.warn(where, f"{EARLIER}: write {{opt_out}} for {how!r}, and each "
                          "channel says how to opt out in its own words")  # fmt: skip
            else:
                self.warn(where, f"{EARLIER}: how to opt out is said as written on every "
                          "channel; write {opt_out} for it, and each channel says it in its "
                          f"own words{_unworded('opt_out', lang, how)}")  # fmt: skip
        return kept

    def as_before(self, question: Question, path: str) -> Question:
        """A question of a flow in the earlier format, whose prompts said how to answer by text
        themselves. In a language where each of its prompts ends with the text interface's
        instruction for it, that is taken out and every interface adds its own (by text, the
        same words); in any other, its prompts are said as written on every interface, with
        nothing added. Either way a text message says exactly what it said before."""
        prompts = _prompts(question)
        kept = [dict(text) for text in prompts.values()]
        as_written = set()
        for lang in self.languages:
            how = self.wording["text"][question.answer].get(lang, "")
            ending = " " + how
            moved = bool(how) and all(
                text.get(lang, "").endswith(ending) and text[lang][: -len(ending)].strip()
                for text in prompts.values()
            )  # fmt: skip
            if not moved:
                as_written.add(lang)
            for (where, text), keep in zip(prompts.items(), kept, strict=True):
                if lang not in text:  # a missing translation: its error is reported
                    continue
                at = f"{path}.{where}.{lang}"
                if moved:
                    keep[lang] = text[lang][: -len(ending)]
                    self.warn(at, f"{EARLIER}: leave {how!r} out, and each channel adds how "
                              "to answer in its own words")  # fmt: skip
                else:
                    self.warn(at, f"{EARLIER}: said as written on every channel; write the "
                              "question alone, and each channel adds how to answer"
                              f"{_unworded(question.answer, lang, how)}")  # fmt: skip
        return dataclasses.replace(
            question, prompt=kept[0], negative_prompt=kept[1] if len(kept) > 1 else None,
            as_written=frozenset(as_written),
        )  # fmt: skip

    def question(
        self, raw: dict[str, Any], path: str, earlier: dict[str, dict[str, Any]]
    ) -> Question | None:
        qtype = raw["type"]
        when = self.condition(raw["when"], f"{path}.when", earlier) if "when" in raw else None
        reprompt = self.text(raw.get("reprompt", {}), f"{path}.reprompt", complete=False)
        common: dict[str, Any] = {
            "id": raw["id"],
            "type": qtype,
            "field": raw.get("field"),
            "when": when,
            "reprompt": reprompt,
            "max_attempts": raw.get("max_attempts", 2),
        }
        if qtype == "rating":
            scale = raw["scale"]
            default_from = 1 if scale == "thumbs" else 4
            positive_from = raw.get("positive_from", default_from)
            if scale == "thumbs" and positive_from != 1:
                self.error(f"{path}.positive_from", "a thumbs rating is positive at 1 only")
            return Question(
                **common,
                prompt=self.text(raw["prompt"], f"{path}.prompt"),
                scale=scale,
                positive_from=positive_from,
            )
        if qtype == "drivers":
            return self.drivers(raw, path, earlier, common)
        if qtype == "choice":
            options = tuple(
                Option(
                    value=o["value"],
                    label=self.text(o["label"], f"{path}.options[{j}].label"),
                    synonyms=tuple(o.get("synonyms", ())),
                )
                for j, o in enumerate(raw["options"])
            )
            values = [o.value for o in options]
            for j, v in enumerate(values):
                if v in values[:j]:
                    self.error(f"{path}.options[{j}].value", f"duplicate option {v!r}")
            return Question(
                **common, prompt=self.text(raw["prompt"], f"{path}.prompt"), options=options
            )
        return Question(
            **common,
            prompt=self.text(raw["prompt"], f"{path}.prompt"),
            max_length=raw.get("max_length", 1000),
        )

    def drivers(
        self,
        raw: dict[str, Any],
        path: str,
        earlier: dict[str, dict[str, Any]],
        common: dict[str, Any],
    ) -> Question | None:
        rating = raw["rating"]
        if rating not in earlier:
            self.error(f"{path}.rating", f"no earlier question {rating!r}")
        elif earlier[rating].get("type") != "rating":
            self.error(f"{path}.rating", f"{rating!r} is not a rating question")
        options: list[str] = raw["options"]
        for required in REQUIRED_DRIVERS:
            if required not in options:
                self.error(f"{path}.options", f"the driver list must include {required!r}")
        labels_raw: dict[str, Any] = raw.get("labels", {})
        built = []
        for driver in options:
            defaults = {lang: DRIVER_LABELS[lang][driver] for lang in DRIVER_LABELS}
            label = self.text(
                labels_raw.get(driver, {}), f"{path}.labels.{driver}", defaults=defaults
            )
            built.append(Option(value=driver, label=label))
        for driver in labels_raw:
            if driver not in options:
                self.error(f"{path}.labels.{driver}", f"{driver!r} is not among the options")
        return Question(
            **common,
            prompt=self.text(raw["prompt"]["positive"], f"{path}.prompt.positive"),
            negative_prompt=self.text(raw["prompt"]["negative"], f"{path}.prompt.negative"),
            rating=rating,
            options=tuple(built),
        )

    def instrument(self, questions: list[Question | None]) -> None:
        """The instrument's order of questions (a question the schema refused is not judged
        again: ``None``)."""
        kind = self.data["instrument"]
        if kind == "a11-v2":
            first = questions[0] if questions else None
            if questions and first is None:
                pass
            elif first is None or first.type != "rating" or first.field != "question_1":
                self.error(
                    "questions[0]",
                    "an A-11 v2 flow must ask its trust question first "
                    "(a rating with field 'question_1')",
                )
            for i, q in enumerate(questions):
                if q and q.type == "drivers" and first is not None and q.rating != first.id:
                    self.error(f"questions[{i}].rating", "A-11 drivers follow the trust question")
        elif kind == "a11-v1":
            for i, field in enumerate(("q1", "q2")):
                item = questions[i] if len(questions) > i else None
                if len(questions) > i and item is None:
                    continue
                if (
                    item is None
                    or item.type != "rating"
                    or item.field != field
                    or item.scale != "five_point"
                ):
                    self.error(
                        f"questions[{i}]",
                        f"an A-11 v1 flow must ask its required items first: questions[{i}] "
                        f"must be a five_point rating with field {field!r} (trust is q2)",
                    )


def parse_flow(data: Any, source: str) -> tuple[Flow | None, list[FlowError]]:
    """Validate flow data (already parsed from YAML); return the flow or every error."""
    try:
        errors = schema_errors(data, source, FLOWS_DIR / "flow.schema.json")
        if any(e.path in _WHOLE or e.path.startswith("languages[") for e in errors):
            return None, at_most(errors)  # nothing past the schema can be read without these
        # The rest is checked too, but for the nodes the schema refused: a flow with two
        # mistakes shows both at once, not the second after the first is mended.
        checker = _Checker(data, source, frozenset(e.path for e in errors))
        flow = checker.check()
    except RecursionError:  # data nested hundreds deep (parse_yaml refuses past 64 levels)
        return None, [FlowError(source, "", "nested too deeply")]
    return flow, at_most(sorted([*errors, *checker.errors], key=_in_order))


# Nodes the whole check stands on: when the schema refuses one, only its errors are told.
_WHOLE = frozenset(
    {"(root)", "id", "title", "instrument", "default_language", "languages", "messages",
     "questions"}
)  # fmt: skip


def _in_order(error: FlowError) -> tuple[list[tuple[str, int]], str]:
    """Errors in the order of the text: by node path, with list indexes compared as numbers
    (``questions[10]`` after ``questions[2]``)."""
    pieces = re.split(r"[.\[\]]+", error.path)
    parts = [("", int(p)) if p.isdigit() else (p, 0) for p in pieces]
    return parts, error.message


def read_yaml(path: Path, source: str) -> tuple[Any, list[FlowError]]:
    """The data of a YAML file, or the one error that stops it being read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [FlowError(source, "", f"cannot read file: {exc.strerror}")]
    except UnicodeDecodeError:
        return None, [FlowError(source, "", "not UTF-8 text")]
    return parse_yaml(text, source)


def read_flow_file(path: Path, source: str | None = None) -> tuple[Flow | None, list[FlowError]]:
    """Read and validate one flow file."""
    name = source or str(path)
    data, errors = read_yaml(path, name)
    if errors:
        return None, errors
    return parse_flow(data, name)


def flow_files(directory: Path) -> list[Path]:
    """The flow files of a folder, in name order (the service catalog is not a flow)."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in (".yaml", ".yml") and p.name not in CATALOG_FILE_NAMES and p.is_file()
    )


def check_directory(directory: Path) -> tuple[dict[str, Flow], list[FlowError]]:
    """Every valid flow of a folder by id, and every error of every file."""
    flows: dict[str, Flow] = {}
    errors: list[FlowError] = []
    if not directory.is_dir():
        return flows, [FlowError(str(directory), "", "not a folder")]
    files = flow_files(directory)
    if not files:
        errors.append(FlowError(str(directory), "", "no flow files (*.yaml) found"))
    for path in files:
        flow, problems = read_flow_file(path)
        errors.extend(problems)
        if flow is None:
            continue
        if flow.id in flows:
            errors.append(
                FlowError(
                    str(path), "id", f"flow id {flow.id!r} is also used by {flows[flow.id].source}"
                )
            )
            continue
        flows[flow.id] = flow
    return flows, errors


def load_flows(directory: Path | None = None) -> dict[str, Flow]:
    """All flows of a folder (the built-in ones by default); raises on any error."""
    flows, errors = check_directory(directory or FLOWS_DIR)
    if errors:
        raise FlowValidationError(errors)
    return flows
