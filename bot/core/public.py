"""What an agency publishes (pure): the figures of a quarterly report that are safe to show
the public — no free text, no identifier, no suppressed cell — with their methods and a data
dictionary. ``feedback-bot publish`` writes them as a static site; ``GET /v1/reports/a11?
format=public`` answers the same JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.core.catalog import Service
from bot.core.csvfile import csv_text
from bot.core.measures import methods

SCHEMA = "a11-feedback-bot/public-report/v1"
PARTICIPATION = ("dimension", "group", "respondents", "response_rate", "response_rate_ci",
                 "trust_positive", "trust_positive_ci", "flag")  # fmt: skip
EFFORT = ("first_reply_minutes_p50", "first_reply_minutes_p90", "completion_minutes_p50",
          "completion_minutes_p90", "reprompts_per_completed")  # fmt: skip

# The long-format CSV: one published figure per row.
CSV_COLUMNS: tuple[str, ...] = (
    "fiscal_year", "quarter", "service_id", "service_name", "agency", "measure", "dimension",
    "group", "value", "ci_low", "ci_high", "target", "status",
)  # fmt: skip

DICTIONARY: tuple[tuple[str, str], ...] = (
    ("fiscal_year", "Federal fiscal year (FY 2027 runs from October 2026 to September 2027)."),
    ("quarter", "Fiscal quarter, 1-4 (Q1 is October-December)."),
    ("service_id", "The agency's short name for the service."),
    ("service_name", "The service people used."),
    ("agency", "The agency that provides it."),
    ("measure", "What the row measures: respondents, trust_positive, response_rate, "
     "driver_positive_<driver> or driver_negative_<driver> (the share of people on that side "
     "of the trust question who chose the driver), an effort measure (first_reply_minutes_p50, "
     "first_reply_minutes_p90, completion_minutes_p50, completion_minutes_p90, "
     "reprompts_per_completed), question_reached / question_answered (people who reached or "
     "answered a question, the question in group), or goal_<measure>."),
    ("dimension", "The breakdown: all (the whole service), language, channel, or an attribute "
     "the agency reports by (for example region); question for the question rows."),
    ("group", "The group within the breakdown (all for the whole service)."),
    ("value", "The figure: a share from 0 to 1, a count, or minutes."),
    ("ci_low", "Lower end of the 95% Wilson interval of a share (empty for counts and times)."),
    ("ci_high", "Upper end of the 95% Wilson interval of a share."),
    ("target", "For a goal row: the agency's target."),
    ("status", "For a goal row: met, not met, not yet measurable (too few respondents), or "
     "not started; for a breakdown row: lower_response or higher_response when the group's "
     "response rate differs from everyone else's by more than its interval allows."),
)  # fmt: skip


# The trust item is written in the first person ("This interaction increased my trust in
# ..."); the headline reports what people said of themselves, so it speaks of them.
_PERSON = {"i": "they", "me": "them", "my": "their", "mine": "theirs", "myself": "themselves",
           "i'm": "they're", "i’m": "they’re", "am": "are", "was": "were"}  # fmt: skip
_WORD = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?")


def third_person(statement: str) -> str:
    """A first-person statement said of the people who made it, without its full stop:
    ``This interaction increased my trust in X.`` -> ``this interaction increased their trust
    in X``. ``am``/``was`` change only after ``I``."""
    text = statement.strip().rstrip(".!").strip()
    out: list[str] = []
    last = 0
    previous = ""
    for match in _WORD.finditer(text):
        word = match.group()
        lower = word.lower()
        swap = _PERSON.get(lower) if lower not in ("am", "was") or previous == "i" else None
        out.append(text[last : match.start()] + (swap if swap else word))
        last, previous = match.end(), lower
    out.append(text[last:])
    joined = "".join(out)
    if joined[:1].isupper() and not joined[1:2].isupper():
        joined = joined[:1].lower() + joined[1:]  # the sentence goes on after "53% said"
    return joined


def headline(share: float | None, question: str, survey_type: str) -> str | None:
    """The trust figure in plain words with the question's meaning: ``53% said this
    interaction increased their trust in X.`` (``agreed that`` on an agreement scale). A
    question asked as a question ("Do you trust ...?") is quoted instead."""
    if share is None:
        return None
    percent = f"{round(100 * share)}%"
    if not question:
        return f"{percent} gave a positive answer to the trust question."
    if question.rstrip().endswith("?"):
        return f"{percent} answered yes to “{question.strip()}”"
    verb = "said" if survey_type == "thumbs_up_down" else "agreed that"
    return f"{percent} {verb} {third_person(question)}."


def _shown(value: Any, enough: bool) -> Any:
    return value if enough else None


def public_report(report: Mapping[str, Any], services: Mapping[str, Service]) -> dict[str, Any]:
    """The publishable part of a quarterly report (``bot.core.reports.report_of``)."""
    min_cell = int(report["min_cell"])
    questions: dict[str, tuple[str, str]] = {}
    for detail in report.get("collection_detail", ()):
        if detail["trust_question_text"]:
            questions.setdefault(
                detail["service_id"], (detail["trust_question_text"], detail["survey_type"])
            )
    out_services = []
    for row in report["scores"]:
        service = services.get(row["service_id"])
        question, scale = questions.get(row["service_id"], ("", "likert_scale"))
        enough = row["respondents"] >= min_cell
        branches = row["branch_respondents"]
        effort = row["effort"]
        timed = effort["completed"] >= min_cell and enough
        out_services.append(
            {
                "service_id": row["service_id"],
                "service_name": service.name if service else row["service_id"],
                "agency": service.agency if service else "",
                "contact": service.contact if service else "",
                "trust_question": question,
                "headline": headline(_shown(_share(row), enough), question, scale),
                "channels": list(service.channels) if service else [],
                "sample_rate": service.sample_rate if service else 1.0,
                "respondents": _shown(row["respondents"], enough),
                "suppressed": not enough,
                "trust_positive": _shown(_share(row), enough),
                "trust_positive_ci": _shown(row["trust_positive_ci"], enough),
                "response_rate": _shown(row["response_rate"], enough),
                "response_rate_ci": _shown(row["response_rate_ci"], enough),
                # A flow that asks no drivers (A-11 v1) has none on either side: no sides.
                "drivers": {
                    branch: shares if enough and branches[branch] >= min_cell else None
                    for branch, shares in row["drivers"].items()
                }
                if any(v is not None for sh in row["drivers"].values() if sh for v in sh.values())
                else {},
                # A hidden group stays as a row that says so (its figures null): a reader
                # sees the group exists and why its figures are not there. A service
                # hidden as a whole lists no groups.
                "participation": [
                    {**{k: p[k] for k in PARTICIPATION}, "hidden": p["hidden"]}
                    for p in row["participation"]
                    if p["dimension"] != "all" and enough
                ],
                "effort": {
                    **{m: _shown(effort[m], timed) for m in EFFORT},
                    "questions": [q for q in effort["questions"] if q["reached"] >= min_cell],
                },
                "goals": [
                    {k: g[k] for k in ("measure", "target", "value", "ci", "status", "history")}
                    for g in row["goals"]
                ],
                "trend": _trend(row.get("series")),
            }
        )
    return {
        "schema": SCHEMA,
        "fiscal_year": report["fiscal_year"],
        "quarter": report["quarter"],
        "min_cell": min_cell,
        "methods": {
            **methods(min_cell),
            "quarter": report["quarter_cut"]["by"]
            + " ("
            + (", ".join(report["quarter_cut"]["time_zones"]) or "no responses")
            + ").",
            "sampling": "People are invited right after they finish a transaction, by text "
            "message or on the agency's web page; where a service's sample rate is below 1 a "
            "random share of transactions is invited. Nobody is invited more than once in 30 "
            "days, and answering is voluntary.",
            "privacy": "No comment, name, number or other identifier is published, and no "
            "figure about fewer than " + str(min_cell) + " respondents.",
        },
        "services": out_services,
    }


def _trend(series: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    """Trust over the last eight quarters (``bot.core.trends``), oldest first: each quarter's
    share and interval, or null with a note where it was suppressed or had no responses."""
    return list(series["lines"]["trust_positive"]) if series else None


def _share(row: Mapping[str, Any]) -> float | None:
    value = row["percent_positive"]
    return None if value is None else round(value / 100, 4)


def public_rows(public: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The public report as long-format rows (``CSV_COLUMNS``), only figures that are shown."""
    rows: list[dict[str, Any]] = []
    for s in public["services"]:
        base = {"fiscal_year": public["fiscal_year"], "quarter": public["quarter"],
                "service_id": s["service_id"], "service_name": s["service_name"],
                "agency": s["agency"]}  # fmt: skip

        def add(measure: str, value: Any, dimension: str = "all", group: str = "all",
                ci: Any = None, target: Any = None, status: Any = None,
                base: dict[str, Any] = base) -> None:  # fmt: skip
            if value is None and target is None:
                return
            rows.append({**base, "measure": measure, "dimension": dimension, "group": group,
                         "value": value, "ci_low": ci[0] if ci else None,
                         "ci_high": ci[1] if ci else None, "target": target,
                         "status": status})  # fmt: skip

        add("respondents", s["respondents"])
        add("trust_positive", s["trust_positive"], ci=s["trust_positive_ci"])
        add("response_rate", s["response_rate"], ci=s["response_rate_ci"])
        for branch, shares in s["drivers"].items():
            for driver, value in (shares or {}).items():
                add(f"driver_{branch}_{driver}", value)
        for p in s["participation"]:
            add("respondents", p["respondents"], p["dimension"], p["group"])
            add("response_rate", p["response_rate"], p["dimension"], p["group"],
                p["response_rate_ci"], status=p["flag"])  # fmt: skip
            add("trust_positive", p["trust_positive"], p["dimension"], p["group"],
                p["trust_positive_ci"])  # fmt: skip
        for measure, value in s["effort"].items():
            if measure != "questions":
                add(measure, value)
        for q in s["effort"]["questions"]:
            add("question_reached", q["reached"], "question", q["id"])
            add("question_answered", q["answered"], "question", q["id"])
        for g in s["goals"]:
            add(f"goal_{g['measure']}", g["value"], ci=g["ci"], target=g["target"],
                status=g["status"])  # fmt: skip
    return rows


def public_csv(public: Mapping[str, Any]) -> str:
    """``data.csv``: the published figures, one per row, empty cells for none."""
    return csv_text(CSV_COLUMNS, ([row[c] for c in CSV_COLUMNS] for row in public_rows(public)))


def dictionary_csv() -> str:
    """``dictionary.csv``: every column of ``data.csv`` and what it means."""
    return csv_text(("column", "meaning"), DICTIONARY)
