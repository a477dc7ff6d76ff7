"""``feedback-bot publish``: the public report as a static site an agency can host as is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.core import charts, figures
from bot.core.public import DICTIONARY, dictionary_csv, public_csv

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


def render(public: Mapping[str, Any]) -> dict[str, str]:
    """The site's files by name: ``index.html``, ``data.csv``, ``data.json``,
    ``dictionary.csv``."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals.update(
        pct=lambda v: figures.pct(v, "not shown"), ci=lambda c: figures.interval(c) or "-",
        value=figures.measure, dictionary=DICTIONARY,
        label=lambda key: LABELS.get(key, key.replace("_", " ").capitalize()),
        flag=lambda flag: FLAGS.get(flag, "") if flag else "",
        width=lambda v: 0 if v is None else round(100 * v, 1),
        minutes=lambda key, v: "not shown" if v is None else f"{v:g}",
        trend_figure=lambda *a: Markup(charts.trend_figure(*a)),
    )  # fmt: skip
    return {
        "index.html": env.get_template("public.html").render(p=public),
        "data.csv": public_csv(public),
        "data.json": json.dumps(public, indent=2, ensure_ascii=False) + "\n",
        "dictionary.csv": dictionary_csv(),
    }


def write_site(public: Mapping[str, Any], out: Path) -> list[Path]:
    """Write the site into ``out`` (created if missing); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(public).items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
