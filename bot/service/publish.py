"""``feedback-bot publish``: the public report as a static site an agency can host as is."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.core import figures
from bot.core.public import DICTIONARY, dictionary_csv, public_csv_parts

TEMPLATES = Path(__file__).parent / "templates"
LABELS = {
    "language": "Language", "channel": "Channel", "trust_positive": "Trust",
    "response_rate": "Response rate", "completion_rate": "Completion rate",
    "first_reply_minutes_p50": "Minutes to the first answer (median)",
    "first_reply_minutes_p90": "Minutes to the first answer (9 in 10 within)",
    "completion_minutes_p50": "Minutes to finish (median)",
    "completion_minutes_p90": "Minutes to finish (9 in 10 within)",
    "reprompts_per_completed": "Questions asked again per finished survey",
    "intervals": "Intervals", "suppression": "Small groups", "nonresponse": "Non-response",
    "effort": "Effort", "quarter": "Quarters", "sampling": "Who is asked",
    "privacy": "Privacy",
}  # fmt: skip
FLAGS = {"lower_response": "answers less often than others",
         "higher_response": "answers more often than others"}  # fmt: skip


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals.update(
        pct=lambda v: figures.pct(v, "not shown"), ci=lambda c: figures.interval(c) or "-",
        value=figures.measure, dictionary=DICTIONARY,
        label=lambda key: LABELS.get(key, key.replace("_", " ").capitalize()),
        flag=lambda flag: FLAGS.get(flag, "") if flag else "",
        width=lambda v: 0 if v is None else round(100 * v, 1),
        minutes=lambda key, v: "not shown" if v is None else f"{v:g}",
    )  # fmt: skip
    return env


def _parts(public: Mapping[str, Any]) -> dict[str, Callable[[], Iterable[str]]]:
    """Each file of the site by name, as the parts of its text, made as they are written."""
    env = _environment()
    return {
        "index.html": lambda: env.get_template("public.html").generate(p=public),
        "data.csv": lambda: public_csv_parts(public),
        "data.json": lambda: (json.dumps(public, indent=2, ensure_ascii=False), "\n"),
        "dictionary.csv": lambda: (dictionary_csv(),),
    }


def render(public: Mapping[str, Any]) -> dict[str, str]:
    """The site's files by name: ``index.html``, ``data.csv``, ``data.json``,
    ``dictionary.csv``."""
    return {name: "".join(parts()) for name, parts in _parts(public).items()}


def write_site(public: Mapping[str, Any], out: Path) -> list[Path]:
    """Write the site into ``out`` (created if missing); the paths written. Each file is
    written as its parts are made (the page as its template renders, ``data.csv`` a few
    hundred rows at a time): no file is held whole (the files are ``render``'s)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, parts in _parts(public).items():
        path = out / name
        with path.open("w", encoding="utf-8") as f:
            f.writelines(parts())
        written.append(path)
    return written
