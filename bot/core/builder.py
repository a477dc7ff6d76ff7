"""The survey builder: a flow's YAML as form fields, and form fields back into the same YAML.

The builder and the YAML are one thing. A flow's text is read with ruamel.yaml's round-trip
loader (the maintained YAML library that keeps comments, key order and quoting), the fields a
form shows are read from it, and a posted form is written back into that same tree, node by
node, before it is dumped again: everything the builder does not show — comments, conditions
(``when``), driver label overrides, choice synonyms, skip words, per-interface instructions,
keys it does not know — is kept as it was, and ``kept`` names it on the page. Field names are
the nodes' paths (``questions[1].prompt.es``), so every error the flow checks give lands at
its field. Pure: text in, text out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from bot.core.a11 import DRIVER_LABELS, DRIVERS, REQUIRED_DRIVERS
from bot.core.errors import FlowError
from bot.core.flow import OPT_OUT, PLACEHOLDERS, formatted, render
from bot.core.segments import non_gsm_characters, segment_info
from bot.core.wording import DEFAULTS
from bot.core.yamltext import parse_yaml

# Placeholder values from the engine, listed for the builder's "insert" menu.
PLACEHOLDER_LIST = ("agency", "service", "provider", "program", "contact", "opt_out",
                    "omb_notice", "omb_control_number")  # fmt: skip
MESSAGES = (  # name, label, required
    ("intro", "Introduction (the first text: names the agency, says how to stop)", True),
    ("omb_notice", "OMB notice (shown only when the service has an OMB control number)", True),
    ("reminder", "Reminder (optional: one, to someone who has not answered)", False),
    ("closing", "Closing (after the last answer)", True),
    ("closed", "Closed (the answer to a reply after the survey ended)", True),
)
TYPES = {"rating": "Rating (thumbs or 1 to 5)", "drivers": "Drivers (what went well / not)",
         "choice": "One choice from a list", "text": "Free text"}  # fmt: skip
FIELDS = ("question_1", "question_4", *(f"q{n}" for n in range(1, 12)))
INSTRUMENTS = {"a11-v2": "A-11 v2 (2023 and after)", "a11-v1": "A-11 v1 (2019–2022)",
               "custom": "Custom"}  # fmt: skip
LANGUAGES = {"en": "English", "es": "Spanish"}
# What the builder shows of a question of each type; the other types' keys go when the type
# changes (the schema refuses them), keys the builder does not know stay.
SHOWN_QUESTION = ("id", "type", "field", "prompt", "reprompt", "max_attempts")
BY_TYPE = {"rating": ("scale", "positive_from"), "drivers": ("rating", "options"),
           "choice": ("options",), "text": ("max_length",)}  # fmt: skip
SHOWN_TOP = ("id", "title", "instrument", "default_language", "languages", "messages",
             "questions", "version")  # fmt: skip
KEPT_WORDS = {
    "when": "its condition (when it is asked)",
    "labels": "its driver labels",
    "skip_words": "the extra skip words",
    "instructions": "the answering instructions per kind of interface",
}


def _yaml() -> YAML:
    y = YAML()  # round-trip: comments, order and quoting survive
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long line
    y.indent(mapping=2, sequence=4, offset=2)
    return y


class Unreadable(Exception):
    """The text cannot be opened in the builder (not YAML, or not a flow's shape)."""


def load(text: str) -> CommentedMap:
    """A flow's text as a round-trip tree; Unreadable when it is not a mapping of YAML, or
    would cost too much to build (``parse_yaml``'s bounds, checked by libyaml first: the
    round-trip parser is pure Python and took seconds on hostile nesting)."""
    _, refused = parse_yaml(text, "builder")
    if refused:
        where = f" at {refused[0].path}" if refused[0].path else ""
        raise Unreadable(f"{refused[0].message}{where}")
    try:
        data = _yaml().load(text)
    except (YAMLError, RecursionError, ValueError) as exc:
        raise Unreadable(f"it is not valid YAML ({type(exc).__name__})") from None
    if not isinstance(data, CommentedMap):
        raise Unreadable("it is not a mapping of names to values")
    return data


def dump(data: CommentedMap) -> str:
    out = io.StringIO()
    try:
        _yaml().dump(data, out)
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise Unreadable(f"it cannot be written back ({type(exc).__name__})") from None
    return out.getvalue()


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _texts(value: Any, languages: list[str]) -> dict[str, str]:
    """A text node's template per language (empty where it has none)."""
    node = _map(value)
    return {lang: str(node.get(lang, "") or "") for lang in languages}


@dataclass
class Form:
    """What the builder's page shows: the flow's fields, read from its tree."""

    text: str  # the YAML the fields stand for (posted back: the base of the next change)
    id: str
    title: str
    instrument: str
    default_language: str
    languages: list[str]
    version: str
    messages: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    kept: list[str] = field(default_factory=list)  # what the builder keeps without showing


def form_of(text: str) -> Form:
    """The builder's fields for a flow's text (Unreadable when it cannot be opened)."""
    data = load(text)
    raw_languages = data.get("languages")
    languages = [str(x) for x in raw_languages] if isinstance(raw_languages, list) else ["en"]
    messages = _map(data.get("messages"))
    kept = [KEPT_WORDS.get(k, f"'{k}'") for k in data if k not in SHOWN_TOP]
    kept += [f"the message '{k}'" for k in messages if k not in {m[0] for m in MESSAGES}]
    questions = []
    raw_questions = data.get("questions")
    for i, raw in enumerate(raw_questions if isinstance(raw_questions, list) else []):
        q = _map(raw)
        qtype = str(q.get("type", "text"))
        prompt = _map(q.get("prompt"))
        raw_options = q.get("options")
        options: list[Any] = raw_options if isinstance(raw_options, list) else []
        hidden = [k for k in q if k not in SHOWN_QUESTION and k not in BY_TYPE.get(qtype, ())]
        kept += [f"question {q.get('id', i + 1)}: {KEPT_WORDS.get(k, repr(k))}" for k in hidden]
        questions.append({
            "index": i, "id": str(q.get("id", "")), "type": qtype,
            "field": str(q.get("field", "") or ""), "scale": str(q.get("scale", "") or ""),
            "positive_from": q.get("positive_from", ""), "rating": str(q.get("rating", "") or ""),
            "prompt": _texts(prompt, languages),
            "positive": _texts(prompt.get("positive"), languages),
            "negative": _texts(prompt.get("negative"), languages),
            "drivers": [str(o) for o in options] if qtype == "drivers" else [],
            "options": [{"value": str(_map(o).get("value", "")),
                         "label": _texts(_map(o).get("label"), languages)}
                        for o in options] if qtype == "choice" else [],
            "reprompt": _texts(q.get("reprompt"), languages),
            "max_attempts": q.get("max_attempts", ""), "max_length": q.get("max_length", ""),
        })  # fmt: skip
    return Form(
        text=text,
        id=str(data.get("id", "")),
        title=str(data.get("title", "")),
        instrument=str(data.get("instrument", "custom")),
        default_language=str(data.get("default_language", languages[0] if languages else "en")),
        languages=languages,
        version=str(data.get("version", "") or ""),
        messages=[
            {
                "name": name,
                "label": label,
                "required": required,
                "texts": _texts(messages.get(name), languages),
            }
            for name, label, required in MESSAGES
            if required or name in messages or name == "reminder"
        ],
        questions=questions,
        kept=kept,
    )


Posted = Callable[[str], str]  # a form field's value ("" when absent)
PostedAll = Callable[[str], list[str]]  # every value of a repeated field


def apply(text: str, get: Posted, get_all: PostedAll, do: str = "") -> tuple[str, list[FlowError]]:
    """The flow's text with a posted form written into it (and ``do``: add, remove or move a
    question or a choice option), and the fields that could not be read (a number that is
    not one), each at its path. Everything the form does not show stays as it was."""
    data = load(text)
    errors: list[FlowError] = []
    for name in ("id", "title"):
        value = get(name).strip()
        if value or name in data:
            data[name] = value
    for name in ("instrument", "default_language"):
        if get(name):
            data[name] = get(name)
    chosen = [x for x in get_all("languages") if x] or ["en"]
    _set_list(data, "languages", chosen)
    version = get("version").strip()
    if version:
        data["version"] = version
    else:
        data.pop("version", None)
    messages = data.setdefault("messages", CommentedMap())
    if not isinstance(messages, CommentedMap):
        messages = data["messages"] = CommentedMap()
    for name, _, required in MESSAGES:
        texts = {lang: get(f"messages.{name}.{lang}") for lang in chosen}
        _set_text(messages, name, texts, chosen, keep_empty=required)
    raw = data.get("questions")
    before = list(raw) if isinstance(raw, list) else []
    questions: list[Any] = []
    count = _int(get("questions"), 0)
    for i in range(min(count, 50)):
        origin = _int(get(f"questions[{i}].origin"), -1)
        q = before[origin] if 0 <= origin < len(before) else CommentedMap()
        if not isinstance(q, CommentedMap):
            q = CommentedMap()
        errors += _question(q, f"questions[{i}]", get, get_all, chosen)
        questions.append(q)
    questions = _structure(questions, do, chosen)
    _set_list(data, "questions", questions)
    return dump(data), errors


def _question(q: CommentedMap, path: str, get: Posted, get_all: PostedAll,
              languages: list[str]) -> list[FlowError]:  # fmt: skip
    """Write one question's posted fields into its node."""
    errors: list[FlowError] = []
    qtype = get(f"{path}.type") or str(q.get("type", "text"))
    q["id"] = get(f"{path}.id").strip()
    q["type"] = qtype
    for other, keys in BY_TYPE.items():  # another type's fields go: the schema refuses them
        if other != qtype:
            for key in keys:
                if key not in BY_TYPE[qtype]:
                    q.pop(key, None)
    _set_scalar(q, "field", get(f"{path}.field"))
    prompt = q.get("prompt")
    if qtype == "drivers":
        if not isinstance(prompt, CommentedMap) or not {"positive", "negative"} & set(prompt):
            prompt = q["prompt"] = CommentedMap()
        for branch in ("positive", "negative"):
            texts = {lang: get(f"{path}.prompt.{branch}.{lang}") for lang in languages}
            _set_text(prompt, branch, texts, languages, keep_empty=True)
        q["rating"] = get(f"{path}.rating").strip()
        picked = [d for d in DRIVERS if d in get_all(f"{path}.options")]
        _set_list(q, "options", picked)
    else:
        if isinstance(prompt, CommentedMap) and {"positive", "negative"} & set(prompt):
            q.pop("prompt")
        texts = {lang: get(f"{path}.prompt.{lang}") for lang in languages}
        _set_text(q, "prompt", texts, languages, keep_empty=True)
    if qtype == "rating":
        q["scale"] = get(f"{path}.scale") or "thumbs"
        errors += _number(q, "positive_from", get(f"{path}.positive_from"), path)
    elif qtype == "choice":
        errors += _choices(q, path, get, languages)
    elif qtype == "text":
        errors += _number(q, "max_length", get(f"{path}.max_length"), path)
    texts = {lang: get(f"{path}.reprompt.{lang}") for lang in languages}
    _set_text(q, "reprompt", texts, languages, keep_empty=False)
    errors += _number(q, "max_attempts", get(f"{path}.max_attempts"), path)
    return errors


def _choices(q: CommentedMap, path: str, get: Posted, languages: list[str]) -> list[FlowError]:
    before = q.get("options") if isinstance(q.get("options"), list) else []
    options: list[Any] = []
    for j in range(min(_int(get(f"{path}.options"), 0), 50)):
        where = f"{path}.options[{j}]"
        option = before[j] if j < len(before) and isinstance(before[j], CommentedMap) else None
        option = option if option is not None else CommentedMap()
        option["value"] = get(f"{where}.value").strip()
        texts = {lang: get(f"{where}.label.{lang}") for lang in languages}
        _set_text(option, "label", texts, languages, keep_empty=True)
        options.append(option)
    _set_list(q, "options", options)
    return []


def _structure(questions: list[Any], do: str, languages: list[str]) -> list[Any]:
    """``do``: ``add:<type>``, ``remove:<i>``, ``up:<i>``, ``down:<i>``, ``option:<i>``
    (a choice gets another option), ``unoption:<i>:<j>``."""
    verb, _, rest = do.partition(":")
    index = _int(rest.split(":")[0], -1)
    if verb == "add" and rest in TYPES:
        questions.append(new_question(rest, questions, languages))
    elif verb == "remove" and 0 <= index < len(questions):
        del questions[index]
    elif verb in ("up", "down") and 0 <= index < len(questions):
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(questions):
            questions[index], questions[other] = questions[other], questions[index]
    elif verb == "option" and 0 <= index < len(questions):
        options = questions[index].setdefault("options", CommentedSeq())
        n = len(options) + 1
        options.append(
            CommentedMap(
                [
                    ("value", f"option_{n}"),
                    ("label", CommentedMap((lang, "") for lang in languages)),
                ]
            )
        )
    elif verb == "unoption" and 0 <= index < len(questions):
        j = _int(rest.partition(":")[2], -1)
        options = questions[index].get("options")
        if isinstance(options, list) and 0 <= j < len(options):
            del options[j]
    return questions


def new_question(qtype: str, questions: list[Any], languages: list[str]) -> CommentedMap:
    """A question of a type, with an id no other question has and empty texts."""
    taken = {str(_map(q).get("id")) for q in questions}
    n = len(questions) + 1
    while f"question_{n}" in taken:
        n += 1
    q = CommentedMap([("id", f"question_{n}"), ("type", qtype)])
    empty = CommentedMap((lang, "") for lang in languages)
    if qtype == "drivers":
        ratings = [str(_map(x).get("id")) for x in questions if _map(x).get("type") == "rating"]
        q["rating"] = ratings[0] if ratings else ""
        q["options"] = CommentedSeq(list(REQUIRED_DRIVERS))
        q["prompt"] = CommentedMap([("positive", empty), ("negative", CommentedMap(empty))])
    else:
        q["prompt"] = empty
    if qtype == "rating":
        q["scale"] = "thumbs"
    if qtype == "choice":
        q["options"] = CommentedSeq([
            CommentedMap([("value", f"option_{n}"), ("label", CommentedMap(empty))])
            for n in (1, 2)
        ])  # fmt: skip
    return q


def _int(raw: str, default: int) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        return default


def _number(q: CommentedMap, key: str, raw: str, path: str) -> list[FlowError]:
    """A whole number field: empty leaves it out (the built-in default)."""
    raw = raw.strip()
    if not raw:
        q.pop(key, None)
        return []
    try:
        q[key] = int(raw)
    except ValueError:
        q[key] = raw  # kept as typed, so the page shows it again
        return [FlowError("builder", f"{path}.{key}", "enter a whole number")]
    return []


def _set_scalar(node: CommentedMap, key: str, value: str) -> None:
    if value.strip():
        node[key] = value.strip()
    else:
        node.pop(key, None)


def _set_list(node: CommentedMap, key: str, values: list[Any]) -> None:
    """Replace a list's items in place (its layout — one line or many — and comments stay)."""
    current = node.get(key)
    if isinstance(current, CommentedSeq):
        current[:] = values
    else:
        node[key] = CommentedSeq(values)


def _set_text(node: CommentedMap, key: str, texts: Mapping[str, str], languages: list[str],
              *, keep_empty: bool) -> None:  # fmt: skip
    """A text per language: each given language set (quoting as before), a language left
    empty or no longer chosen taken out; the text goes when none is left unless it is one the
    flow needs (then the check says which translation is missing, at its field)."""
    current = node.get(key)
    if not isinstance(current, CommentedMap):
        current = CommentedMap()
    for lang in list(current):
        if lang not in languages or not texts.get(lang, "").strip():
            del current[lang]
    for lang in languages:
        value = texts.get(lang, "").replace("\r\n", "\n").strip()
        if value:
            before = current.get(lang)
            current[lang] = type(before)(value) if isinstance(before, str) else value
    if current or keep_empty:
        node[key] = current
    else:
        node.pop(key, None)


def sms(template: str, context: Mapping[str, str]) -> dict[str, Any]:
    """A template's SMS cost with its placeholders filled: encoding, segments, characters,
    and the characters that force UCS-2."""
    try:
        # A format spec ({agency:>99999}) could make any length: such a text is counted as
        # written, and the flow's checks refuse it.
        text = template if formatted(template) else render(template, context)
    except (ValueError, IndexError, KeyError, AttributeError):  # broken: counted as written
        text = template
    info = segment_info(text)
    return {"encoding": info.encoding, "segments": info.segments, "units": info.units,
            "non_gsm": non_gsm_characters(text) if info.encoding == "UCS-2" else ""}  # fmt: skip


def fill(context: Mapping[str, str], omb_notice: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Per language, what each placeholder becomes by text message (the OMB notice is the
    flow's own text in that language, ``{opt_out}`` the built-in words), for counting as one
    types."""
    out = {}
    for lang, notice in omb_notice.items():
        values = {name: str(context.get(name, "")) for name in PLACEHOLDERS}
        values[OPT_OUT] = DEFAULTS["text"][OPT_OUT].get(lang, "")
        values["omb_notice"] = render(notice, values) if context.get("omb_control_number") else ""
        out[lang] = values
    return out


DRIVER_CHOICES = [(d, DRIVER_LABELS["en"][d], d in REQUIRED_DRIVERS) for d in DRIVERS]
