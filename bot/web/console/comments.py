"""The console's Comments page: the quarter's redacted comments, newest first, found by words
(English and Spanish), service, sentiment, language, channel and theme, a page at a time, and
a CSV
of every comment the filters select, streamed a thousand at a time. Admins read every
service's comments; a viewer only those of services whose catalog entry sets
``comments_for_viewers`` (as the service page decides)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.core.comments import Comment, comment_filter
from bot.core.csvfile import csv_lines
from bot.service.runtime import Runtime
from bot.web.api import comment_page, encode_cursor, reader
from bot.web.console import views
from bot.web.console.auth import PATH, Staff
from bot.web.console.pages import Wrap
from bot.web.deadlines import stream

Render = Callable[..., web.Response]
PAGE = 50  # comments a page shows
FILTERS = ("service", "fiscal_year", "quarter", "q", "sentiment", "language", "channel", "theme")
CSV_COLUMNS = ("date", "service", "language", "channel", "sentiment", "branch", "drivers",
               "themes", "comment")  # fmt: skip
ADMINS_ONLY = "Comments of this service are shown to admins only."


def readable(staff: Staff, rt: Runtime) -> frozenset[str] | None:
    """The services whose comments ``staff`` may read (None: every one)."""
    if staff.admin:
        return None
    return frozenset(s.id for s in rt.services.values() if staff.reads_comments(s))


def theme_choices(rt: Runtime, allowed: frozenset[str] | None) -> list[tuple[str, str]]:
    """The themes a filter offers: every theme of the services shown, (id, English label),
    in the taxonomies' order (the default one's first)."""
    found: dict[str, str] = {}
    for service in rt.services.values():
        if allowed is None or service.id in allowed:
            for theme in service.themes.themes:
                found.setdefault(theme.id, theme.label("en"))
    return list(found.items())


def theme_labels(rt: Runtime) -> dict[tuple[str, str], str]:
    """(service, theme id) -> the theme's English label in the service's taxonomy."""
    return {(s.id, t.id): t.label("en") for s in rt.services.values() for t in s.themes.themes}


def csv_rows(found: list[Comment]) -> str:
    """Comments as CSV lines (through the core's writer: a comment a spreadsheet would take
    for a formula is neutralised there)."""
    return csv_lines(
        [c["date"], c["service"], c["language"], c["channel"], c["sentiment"] or "",
         c["drivers"]["branch"] or "", " ".join(c["drivers"]["chosen"]), " ".join(c["themes"]),
         c["text"]]
        for c in found
    )  # fmt: skip


class CommentPages:
    """Routes and handlers; ``page`` wraps a page for anyone signed in."""

    def __init__(self, render: Render, page: Wrap) -> None:
        self.render, self.page = render, page

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(PATH + "/comments", self.page(self.comments)),
            web.get(PATH + "/comments.csv", self.page(self.download)),
        ]

    def _chosen(self, request: web.Request, rt: Runtime) -> tuple[dict[str, str], tuple[int, int]]:
        """The filters as asked (the quarter shown by default) and the quarter."""
        quarter = views.quarter_of(request, rt)
        asked = {k: request.query[k] for k in FILTERS if request.query.get(k)}
        asked.update(fiscal_year=str(quarter[0]), quarter=str(quarter[1]))
        return asked, quarter

    async def comments(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        asked, quarter = self._chosen(request, rt)
        allowed = readable(staff, rt)
        context: dict[str, Any] = {
            "asked": asked, "quarter": quarter, "allowed": allowed,
            "services": sorted((s for s in rt.services.values()
                                if allowed is None or s.id in allowed), key=lambda s: s.name),
            "channels": sorted(rt.kinds), "languages": sorted(
                {language for flow in rt.flows.values() for language in flow.languages}),
            "sentiments": ("positive", "neutral", "negative", "unscored"),
            "themes": theme_choices(rt, allowed), "theme_labels": theme_labels(rt),
            "found": [], "older": None, "newest": None, "error": None,
            "lag": await views.lag(rt),
        }  # fmt: skip
        if allowed is not None and not allowed:
            return self.render("comments.html", staff=staff, **context)
        try:
            where = comment_filter(asked, rt.services, allowed)
            after, _ = comment_page(request.query)
        except PermissionError:
            context["error"] = ADMINS_ONLY
            return self.render("comments.html", 403, staff, **context)
        except ValueError as exc:
            context["error"] = f"Check {exc}."
            return self.render("comments.html", 400, staff, **context)
        found = await reader(rt).comments(where, after=after, limit=PAGE)
        if len(found) == PAGE:
            cursor = encode_cursor(found[-1]["date"], found[-1]["response_id"])
            context["older"] = f"{PATH}/comments?{urlencode({**asked, 'cursor': cursor})}"
        if after is not None:
            context["newest"] = f"{PATH}/comments?{urlencode(asked)}"
        context.update(found=found, download=f"{PATH}/comments.csv?{urlencode(asked)}")
        return self.render("comments.html", staff=staff, **context)

    async def download(self, request: web.Request, rt: Runtime, staff: Staff) -> web.StreamResponse:
        asked, quarter = self._chosen(request, rt)
        allowed = readable(staff, rt)
        try:
            where = comment_filter(asked, rt.services, allowed)
        except PermissionError:
            return self.render("error.html", 403, staff, message=ADMINS_ONLY)
        except ValueError as exc:
            return self.render("error.html", 400, staff, message=f"Check {exc}.")
        if allowed is not None and not allowed:
            return self.render("error.html", 403, staff,
                               message="Comments are shown to admins only.")  # fmt: skip
        comments = reader(rt)  # 503 without a store
        assert rt.store is not None
        await rt.store.audit(staff.name, "comments.csv", asked.get("service"), dict(asked))
        of = f"-{asked['service']}" if "service" in asked else ""  # a catalog id: safe
        name = f"comments-fy{quarter[0]}-q{quarter[1]}{of}.csv"
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
        await stream(request, response)
        await response.write((",".join(CSV_COLUMNS) + "\n").encode())
        async for found in comments.comment_batches(where):  # memory stays a batch
            await response.write(csv_rows(found).encode())
        await response.write_eof()
        return response
