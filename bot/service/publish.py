"""``feedback-bot publish``: the public report as a static site an agency can host as is.

The page is written for a member of the public or a journalist with two minutes: who
publishes it and for which period, each service's trust figure in the question's own words,
what went well and what did not, who took part (a hidden group is a row that says why), the
effort it took, and the goals in one table. Everything is in the one HTML file (styles
inline, no script, no font), so it loads at once on a phone and can be hosted anywhere.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from bot.core import charts, figures
from bot.core.a11 import DRIVER_LABELS
from bot.core.catalog import Service
from bot.core.public import DICTIONARY, dictionary_csv, public_csv
from bot.settings import Settings

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
# Group names in words: a reader does not know "es" or "sms".
GROUPS = {
    "language": {"en": "English", "es": "Spanish", "zh": "Chinese", "vi": "Vietnamese",
                 "ko": "Korean", "tl": "Tagalog", "fr": "French", "ht": "Haitian Creole",
                 "ar": "Arabic", "ru": "Russian", "pt": "Portuguese"},
    "channel": {"sms": "Text message", "whatsapp": "WhatsApp", "slack": "Slack",
                "webchat": "Web chat", "voice": "Phone call"},
}  # fmt: skip
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
LOGO_SUFFIXES = (".png", ".svg", ".jpg")


@dataclass(frozen=True)
class Site:
    """Who publishes the site and how it presents itself (not figures: those are the public
    report). ``logo`` is the file copied beside ``index.html``; ``logo_href`` where the page
    finds it (the console's preview serves the same file at its own address)."""

    agency: str = ""
    contact: str = ""
    official: bool = False  # the USWDS ".gov" banner
    published: date | None = None
    logo: Path | None = None
    logo_href: str | None = None

    @classmethod
    def of(
        cls, settings: Settings, services: Mapping[str, Service], published: date,
        logo_href: str | None = None,
    ) -> Site:  # fmt: skip
        """The site as the settings describe it: ``AGENCY_NAME`` (else the catalog's agency
        when its services share one), ``AGENCY_LOGO``, ``PUBLIC_CONTACT``, and the banner
        when ``PUBLIC_BASE_URL`` is a .gov or .mil host, as the console does."""
        agencies = {s.agency for s in services.values()}
        logo = settings.agency_logo
        if logo is not None and (logo.suffix.lower() not in LOGO_SUFFIXES or not logo.is_file()):
            logo = None
        return cls(
            agency=settings.agency_name or (agencies.pop() if len(agencies) == 1 else ""),
            contact=settings.public_contact,
            official=settings.official_site,
            published=published,
            logo=logo,
            logo_href=(logo_href or "logo" + logo.suffix.lower()) if logo else None,
        )


def period(fiscal_year: int, quarter: int) -> str:
    """A fiscal quarter's months in words: FY 2027 Q1 -> ``October to December 2026``."""
    first = (9 + 3 * (quarter - 1)) % 12  # Q1 starts in October of the year before
    year = fiscal_year - 1 if quarter == 1 else fiscal_year
    return f"{MONTHS[first]} to {MONTHS[first + 2]} {year}"


def day(value: date | None) -> str:
    """A date as a reader writes it: ``December 6, 2026``."""
    return "" if value is None else f"{MONTHS[value.month - 1]} {value.day}, {value.year}"


def contact_html(text: str) -> Markup:
    """A contact as the page shows it: an email address or a web address is a link."""
    value = text.strip()
    if value.startswith(("https://", "http://")):
        return Markup('<a href="{0}">{0}</a>').format(value)
    if "@" in value and " " not in value:
        return Markup('<a href="mailto:{0}">{0}</a>').format(value)
    return escape(value)


def group_name(dimension: str, group: str) -> str:
    """A group in words: ``Spanish``, ``Text message``; an agency's own groups as given."""
    if group == "other":
        return "Other"
    return GROUPS.get(dimension, {}).get(group, group)


def breakdowns(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """A service's participation rows by breakdown, in the report's order."""
    return [(d, list(rs)) for d, rs in itertools.groupby(rows, key=lambda r: r["dimension"])]


def all_hidden(rows: list[Mapping[str, Any]], min_cell: int) -> str | None:
    """Why a breakdown shows no group, when it shows none."""
    if not rows or any(r["hidden"] is None for r in rows):
        return None
    if all(r["hidden"] == "small" for r in rows):
        return (f"Fewer than {min_cell} people answered in each group, so no group's "
                "figures are shown.")  # fmt: skip
    return (f"One group had fewer than {min_cell} people answering; the other is hidden too, "
            "so that the small group's figures cannot be worked out from the total.")  # fmt: skip


BRANCHES = (
    ("positive", "What went well", "of those whose trust answer was positive"),
    ("negative", "What did not go well", "of those whose trust answer was not positive"),
)


def driver_tables(drivers: Mapping[str, Mapping[str, float | None] | None]) -> list[Any]:
    """The drivers' tables a service shows: per side of the trust answer its title, column
    and the offered drivers largest first (None: too few people on that side to show). A
    driver the service does not offer (null) has no row; a flow that asks none (A-11 v1: no
    sides), no table."""
    tables = []
    for branch, title, column in BRANCHES:
        if branch not in drivers:
            continue
        shares = drivers[branch]
        rows = None
        if shares is not None:
            offered = [(d, v) for d, v in shares.items() if v is not None]
            rows = sorted(offered, key=lambda item: (-item[1], item[0]))
        tables.append((branch, title, column, rows))
    return tables


def hidden_note(row: Mapping[str, Any], min_cell: int) -> str:
    """What a hidden group's row says instead of its figures."""
    if row["hidden"] == "complement":
        return ("not shown, so that a smaller group's figures cannot be worked out from "
                "the total")  # fmt: skip
    return f"fewer than {min_cell} people answered — not shown"


def render(public: Mapping[str, Any], site: Site | None = None) -> dict[str, str]:
    """The site's text files by name: ``index.html``, ``data.csv``, ``data.json``,
    ``dictionary.csv`` (``write_site`` adds the logo)."""
    site = site or Site()
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.globals.update(
        pct=lambda v: figures.pct(v, "not shown"), ci=lambda c: figures.interval(c) or "-",
        value=figures.measure, dictionary=DICTIONARY,
        label=lambda key: LABELS.get(key, key.replace("_", " ").capitalize()),
        flag=lambda flag: FLAGS.get(flag, "") if flag else "",
        width=lambda v: 0 if v is None else round(100 * v, 1),
        minutes=lambda key, v: "not shown" if v is None else f"{v:g}",
        driver=lambda d: DRIVER_LABELS["en"].get(d, d.replace("_", " ").capitalize()),
        group_name=group_name, breakdowns=breakdowns, all_hidden=all_hidden,
        hidden_note=hidden_note, contact=contact_html, driver_tables=driver_tables,
        trend_figure=lambda *a: Markup(charts.trend_figure(*a)),
    )  # fmt: skip
    data = {**public, "published": site.published.isoformat() if site.published else None}
    return {
        "index.html": env.get_template("public.html").render(
            p=public,
            site=site,
            period=period(public["fiscal_year"], public["quarter"]),
            published=day(site.published),
        ),
        "data.csv": public_csv(public),
        "data.json": json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        "dictionary.csv": dictionary_csv(),
    }


def write_site(public: Mapping[str, Any], out: Path, site: Site | None = None) -> list[Path]:
    """Write the site into ``out`` (created if missing), with the agency's logo when it has
    one; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render(public, site).items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if site is not None and site.logo is not None and site.logo_href:
        path = out / site.logo_href
        shutil.copyfile(site.logo, path)
        written.append(path)
    return written
