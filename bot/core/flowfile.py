"""Loading and validating flow files: every error, located by file and node path."""

from __future__ import annotations

import hashlib
import json
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
    placeholders,
)
from bot.core.text import fold
from bot.core.wording import DEFAULTS, INTERFACES, OPTION_PLACEHOLDERS, Interface
from bot.core.yamltext import parse_yaml
from flows import FLOWS_DIR

MAX_QUESTIONS = 15
CATALOG_FILE_NAMES = frozenset({"services.yaml", "services.yml"})

_COMPARISONS = ("equals", "in", "at_least", "at_most", "answered", "positive")


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

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.errors: list[FlowError] = []
        self.languages: tuple[str, ...] = tuple(data["languages"])
        self.wording: dict[Interface, dict[str, Text]] = {i: dict(DEFAULTS[i]) for i in INTERFACES}

    def error(self, path: str, message: str) -> None:
        self.errors.append(FlowError(self.source, path, message))

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

    def worded(self, questions: list[Question], messages: Mapping[str, Text]) -> None:
        """Every instruction the flow uses is worded, on every interface, in each of its
        languages (the built-in wording has English and Spanish); no question says by
        itself how to answer by text (the engine adds that, in each interface's words)."""
        used: dict[str, set[str]] = {}  # instruction -> the languages it must be in
        every = set(self.languages)
        if any("{" + OPT_OUT + "}" in t for text in messages.values() for t in text.values()):
            used[OPT_OUT] = every
        if any(q.options for q in questions):
            used["option"] = every
        for q in questions:
            used[q.answer] = every
            used.setdefault(q.answer + "_reprompt", set()).update(every - set(q.reprompt))
        for interface in INTERFACES:
            missing: dict[str, list[str]] = {}
            for name, languages in used.items():
                for lang in sorted(languages - set(self.wording[interface][name])):
                    missing.setdefault(lang, []).append(name)
            for lang, names in missing.items():
                self.error(f"instructions.{interface}", f"no wording in {lang!r} (none is "
                           f"built in) for: {', '.join(names)}")  # fmt: skip
        for i, q in enumerate(questions):
            prompts = {"prompt": q.prompt} if q.negative_prompt is None else {
                "prompt.positive": q.prompt, "prompt.negative": q.negative_prompt}  # fmt: skip
            for where, text in prompts.items():
                for lang, template in text.items():
                    how = self.wording["text"][q.answer].get(lang, "")
                    if how and how in template:
                        self.error(f"questions[{i}].{where}.{lang}",
                                   f"says how to answer by text ({how!r}): each channel's "
                                   f"words are added from instructions.<interface>.{q.answer}; "
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
            and earlier[target]["type"] != "rating"
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
        }
        self.instructions(d.get("instructions", {}))
        for lang, intro in messages["intro"].items():
            where = f"messages.intro.{lang}"
            names = set(placeholders(intro)) if "{" in intro else set()
            if OPT_OUT not in names:
                self.error(where, "the intro must say how to opt out: {opt_out} (by text, "
                           '"Reply STOP to opt out.")')  # fmt: skip
            if "agency" not in names:
                self.error(where, "the intro must name the agency ({agency})")
            if not names & {"omb_notice", "omb_control_number"}:
                self.error(where, "the intro must carry the OMB control number ({omb_notice})")

        raw_questions: list[dict[str, Any]] = d["questions"]
        if len(raw_questions) > MAX_QUESTIONS:
            self.error(
                "questions", f"at most {MAX_QUESTIONS} questions (found {len(raw_questions)})"
            )
        questions: list[Question] = []
        earlier: dict[str, dict[str, Any]] = {}
        fields: dict[str, str] = {}
        for i, raw in enumerate(raw_questions):
            question = self.question(raw, f"questions[{i}]", earlier)
            if raw["id"] in earlier:
                self.error(f"questions[{i}].id", f"duplicate question id {raw['id']!r}")
            if question is not None:
                if question.field:
                    if question.field in fields:
                        self.error(
                            f"questions[{i}].field",
                            f"field {question.field!r} is already used by "
                            f"{fields[question.field]!r}",
                        )
                    fields[question.field] = question.id
                questions.append(question)
            earlier.setdefault(raw["id"], raw)
        self.instrument(questions)
        self.worded(questions, messages)
        if self.errors:
            return None
        return Flow(
            id=d["id"],
            version=str(d.get("version") or content_version(d)),
            title=d["title"],
            instrument=d["instrument"],
            default_language=d["default_language"],
            languages=self.languages,
            messages=messages,
            questions=tuple(questions),
            skip_words=frozenset(map(fold, d.get("skip_words", ()))),
            source=self.source,
            instructions=self.wording,
        )

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
        elif earlier[rating]["type"] != "rating":
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

    def instrument(self, questions: list[Question]) -> None:
        kind = self.data["instrument"]
        if kind == "a11-v2":
            first = questions[0] if questions else None
            if first is None or first.type != "rating" or first.field != "question_1":
                self.error(
                    "questions[0]",
                    "an A-11 v2 flow must ask its trust question first "
                    "(a rating with field 'question_1')",
                )
            for i, q in enumerate(questions):
                if q.type == "drivers" and first is not None and q.rating != first.id:
                    self.error(f"questions[{i}].rating", "A-11 drivers follow the trust question")
        elif kind == "a11-v1":
            for i, field in enumerate(("q1", "q2")):
                item = questions[i] if len(questions) > i else None
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
        if errors:
            return None, at_most(errors)
        checker = _Checker(data, source)
        flow = checker.check()
    except RecursionError:  # data nested hundreds deep (parse_yaml refuses past 64 levels)
        return None, [FlowError(source, "", "nested too deeply")]
    return flow, at_most(checker.errors)


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
