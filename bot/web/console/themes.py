"""The console's Themes page (admins): a service's own themes as a form — an id, a label and
phrases per language of its flow, or a default theme's id with phrases added to it — and
whether the default themes apply too. "Preview" checks the form as saving would and shows
what each theme matches among the service's latest comments (and any sample comments typed
in), beside what the themes in force match; "Save" keeps it as a run-time setting of the
service (checked as the catalog is, audited as ``service.themes``, undone from the settings
page's history). Comments already stored keep the themes they were tagged with."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.core.comments import THEME
from bot.core.errors import FlowError
from bot.core.sinks import CommentFilter
from bot.core.themes import Taxonomy, parse_themes, preview
from bot.core.themes_default import DEFAULT
from bot.service.library import Live, Refused
from bot.service.runtime import Runtime
from bot.web.console.auth import PATH, Staff
from bot.web.console.pages import Wrap, form_of, see_other

Render = Callable[..., web.Response]
ROWS = 40  # the service's own themes a form takes
BLANK = 2  # empty rows offered for new themes
SAMPLES = 200  # the service's latest comments a preview matches
TYPED = 50  # sample comments an admin may type in, one a line
SHOWN = 5  # matches a preview shows per theme
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass
class Form:
    """A posted themes form: the catalog entries it makes, the form row of each, and what
    it could not read (field name -> why)."""

    entries: list[dict[str, Any]]
    rows: list[int]
    default_themes: bool
    samples: list[str]
    errors: dict[str, str]


def rows_of(themes: Sequence[Mapping[str, Any]], languages: Sequence[str]) -> list[dict[str, Any]]:
    """The form's rows for a service's ``themes`` (as the catalog writes them), and blank
    ones for new themes."""
    rows = []
    for entry in themes:
        labels, phrases = entry.get("label") or {}, entry.get("phrases") or {}
        rows.append({"id": str(entry.get("id", "")),
                     "label": {lang: str(labels.get(lang, "")) for lang in languages},
                     "phrases": {lang: "\n".join(map(str, phrases.get(lang, [])))
                                 for lang in languages}})  # fmt: skip
    blank = {
        "id": "",
        "label": dict.fromkeys(languages, ""),
        "phrases": dict.fromkeys(languages, ""),
    }
    return [*rows, *(dict(blank) for _ in range(BLANK))][: max(ROWS, len(rows))]


def read_form(form: Mapping[str, str], languages: Sequence[str]) -> Form:
    """The entries a posted form makes (a row with nothing in it, or ticked to be removed,
    makes none)."""
    entries: list[dict[str, Any]] = []
    rows: list[int] = []
    errors: dict[str, str] = {}
    for n in range(ROWS):
        at = f"themes.{n}"
        theme_id = form.get(f"{at}.id", "").strip()
        labels = {
            lang: v for lang in languages if (v := form.get(f"{at}.label.{lang}", "").strip())
        }
        phrases = {}
        for lang in languages:
            lines = form.get(f"{at}.phrases.{lang}", "").splitlines()
            if kept := [p.strip() for p in lines if p.strip()]:
                phrases[lang] = kept
        if form.get(f"{at}.remove") or not (theme_id or labels or phrases):
            continue
        if not THEME.fullmatch(theme_id):
            errors[f"{at}.id"] = ("Give an id of 2 to 40 lower-case letters, digits and _, "
                                  "starting with a letter (such as parking).")  # fmt: skip
        entry: dict[str, Any] = {"id": theme_id, "phrases": phrases}
        if labels:
            entry["label"] = labels
        entries.append(entry)
        rows.append(n)
    typed = [line.strip() for line in form.get("samples", "").splitlines() if line.strip()]
    if len(typed) > TYPED or any(len(line) > 500 for line in typed):
        errors["samples"] = f"At most {TYPED} sample comments, each at most 500 characters."
    return Form(entries, rows, form.get("default_themes") == "on", typed[:TYPED], errors)


def field_of(error: FlowError, rows: Sequence[int]) -> str:
    """The form field a checked entry's error belongs to: ``themes[2].phrases.en[1]`` is the
    phrases box of the form row the third entry came from."""
    parts = _INDEX.sub(r".\1", error.path).split(".")
    if parts[0] != "themes" or len(parts) < 2 or not parts[1].isdigit():
        return "themes"
    entry = int(parts[1])
    at = f"themes.{rows[entry] if entry < len(rows) else 0}"
    rest = [p for p in parts[2:] if not p.isdigit()]
    if rest[:1] == ["label"]:
        return f"{at}.label.{rest[1]}" if len(rest) > 1 else f"{at}.label"
    if rest[:1] == ["phrases"]:
        return f"{at}.phrases.{rest[1]}" if len(rest) > 1 else f"{at}.phrases"
    return f"{at}.id"


class ThemePages:
    """Routes and handlers; ``admin_page`` wraps a page for admins, ``change`` a posted form."""

    def __init__(self, render: Render, admin_page: Wrap, change: Wrap) -> None:
        self.render, self.admin_page, self.change = render, admin_page, change

    def routes(self) -> list[web.RouteDef]:
        path = PATH + "/services/{service}/themes"
        return [web.get(path, self.admin_page(self.page)), web.post(path, self.change(self.post))]

    def _live(self, rt: Runtime) -> Live:
        if rt.library is None:
            raise web.HTTPServiceUnavailable(text="services are the files' alone here")
        return rt.library

    def _languages(self, rt: Runtime, service_id: str) -> list[str]:
        flow = rt.flows.get(rt.services[service_id].flow)
        return list(flow.languages) if flow else ["en"]

    async def page(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        service_id = request.match_info["service"]
        if service_id not in rt.services:
            return self.render("error.html", 404, staff, message="There is no such service.")
        current = self._live(rt).effective(service_id)
        languages = self._languages(rt, service_id)
        return self._show(rt, staff, service_id, rows_of(current.get("themes") or [], languages),
                          current.get("default_themes") is not False, "")  # fmt: skip

    def _show(
        self, rt: Runtime, staff: Staff, service_id: str, rows: list[dict[str, Any]],
        default_themes: bool, samples: str, *, status: int = 200,
        errors: dict[str, str] | None = None, matched: list[dict[str, Any]] | None = None,
        unmatched: tuple[int, int] | None = None,
    ) -> web.Response:  # fmt: skip
        return self.render(
            "themes.html", status, staff, service=rt.services[service_id], rows=rows,
            languages=self._languages(rt, service_id), default_themes=default_themes,
            defaults=DEFAULT.themes, samples=samples, errors=errors or {}, matched=matched,
            unmatched=unmatched, limits={"rows": ROWS, "samples": SAMPLES, "typed": TYPED},
        )  # fmt: skip

    async def post(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        service_id = request.match_info["service"]
        if service_id not in rt.services:
            return self.render("error.html", 404, staff, message="There is no such service.")
        live = self._live(rt)
        raw = await form_of(request)
        languages = self._languages(rt, service_id)
        form = read_form(raw, languages)
        change = {"themes": form.entries, "default_themes": form.default_themes}
        errors = dict(form.errors)
        saving = raw.get("action") == "save"
        if not errors:
            try:
                if saving:
                    await live.change_service(service_id, change, staff.name, action="themes")
                    return see_other(f"{PATH}/services/{service_id}/themes")
                await live.check_service(service_id, change)
            except Refused as exc:
                if exc.status != 422:
                    return self.render("error.html", exc.status, staff,
                                       message=exc.errors[0].message)  # fmt: skip
                for error in exc.errors:
                    errors.setdefault(field_of(error, form.rows), error.message)
        # The rows as typed, each where it was (the errors name rows by their place)
        posted = [n for n in range(ROWS) if f"themes.{n}.id" in raw]
        shown = [_row_as_typed(raw, n, languages) for n in range(max(posted, default=-1) + 1)]
        shown += rows_of([], languages)[: BLANK if not shown or shown[-1]["id"] else 1]
        if errors:
            return self._show(rt, staff, service_id, shown, form.default_themes,
                              raw.get("samples", ""), status=422, errors=errors)  # fmt: skip
        taxonomy, _ = parse_themes(form.entries, DEFAULT if form.default_themes else None,
                                   languages, "console", "themes")  # fmt: skip
        matched, unmatched = await self._preview(rt, service_id, taxonomy, form.samples, languages)
        return self._show(rt, staff, service_id, shown, form.default_themes,
                          raw.get("samples", ""), matched=matched, unmatched=unmatched)  # fmt: skip

    async def _preview(
        self, rt: Runtime, service_id: str, taxonomy: Taxonomy, typed: list[str],
        languages: list[str],
    ) -> tuple[list[dict[str, Any]], tuple[int, int]]:  # fmt: skip
        """Per theme (the form's taxonomy, then any theme in force it drops), the samples it
        matches and how many the themes in force match; and (unmatched, samples)."""
        samples: list[tuple[str, str]] = [(text, languages[0]) for text in typed]
        if rt.reader is not None:
            latest = await rt.reader.comments(CommentFilter(services=(service_id,)),
                                              limit=SAMPLES)  # fmt: skip
            samples += [(c["text"], c["language"]) for c in latest]
        in_force = rt.services[service_id].themes
        after = _matches(taxonomy, samples)
        before = _matches(in_force, samples)
        hit = {i for found in after.values() for i, _ in found}
        out = []
        for theme in (
            *taxonomy.themes,
            *(t for t in in_force.themes if taxonomy.get(t.id) is None),
        ):
            found = after.get(theme.id, [])
            out.append({
                "id": theme.id, "label": theme.label("en"), "count": len(found),
                "before": len(before.get(theme.id, [])),
                "kept": taxonomy.get(theme.id) is not None,
                "examples": [(samples[i][0], phrase) for i, phrase in found[:SHOWN]],
            })  # fmt: skip
        return out, (len(samples) - len(hit), len(samples))


def _matches(
    taxonomy: Taxonomy, samples: list[tuple[str, str]]
) -> dict[str, list[tuple[int, str]]]:
    """Per theme, the (index, phrase) of the samples it matches, each in its own language."""
    out: dict[str, list[tuple[int, str]]] = {}
    for language in sorted({lang for _, lang in samples}):
        indexes = [i for i, (_, lang) in enumerate(samples) if lang == language]
        found = preview(taxonomy, [samples[i][0] for i in indexes], language)
        for theme, matches in found.items():
            out.setdefault(theme, []).extend((indexes[m.comment], m.phrase) for m in matches)
    return {theme: sorted(found) for theme, found in out.items()}


def _row_as_typed(form: Mapping[str, str], n: int, languages: Sequence[str]) -> dict[str, Any]:
    at = f"themes.{n}"
    return {
        "id": form.get(f"{at}.id", ""),
        "label": {lang: form.get(f"{at}.label.{lang}", "") for lang in languages},
        "phrases": {lang: form.get(f"{at}.phrases.{lang}", "") for lang in languages},
        "remove": bool(form.get(f"{at}.remove")),
    }
