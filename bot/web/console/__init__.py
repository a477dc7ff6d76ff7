"""The admin console at ``/admin``: server-rendered pages for the CX office (overview, a
service, comments, cases, reports, delivery), signed in with a token or the agency's OpenID Connect
provider. A viewer reads; only an admin changes anything (403 otherwise), every change with
the session's CSRF token from our own origin, and written to the audit log with the name."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler as RequestHandler
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.core import cases, reports
from bot.core.public import public_report
from bot.core.records import is_ref
from bot.core.text import is_clean
from bot.service import alerts, exports
from bot.service.publish import Site
from bot.service.publish import render as render_site
from bot.service.runtime import Runtime
from bot.settings import Settings
from bot.web.api import csv_download, text_parts
from bot.web.console import views
from bot.web.console.auth import (
    OIDC_COOKIE,
    OIDC_LEG_SECONDS,
    PATH,
    Oidc,
    OidcError,
    OidcUnavailable,
    Sessions,
    Staff,
    csrf_ok,
    same_origin,
    token_role,
)
from bot.web.console.builder import BuilderPages
from bot.web.console.comments import CommentPages
from bot.web.console.library import LibraryPages
from bot.web.console.pages import Handler, form_of, see_other
from bot.web.console.themes import ThemePages
from bot.web.context import RUNTIME
from bot.web.headers import client_address

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = {"console.css": "text/css", "builder.js": "text/javascript",
          "favicon.svg": "image/svg+xml"}  # fmt: skip
LOGO_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}
CLOSED = ("resolved", "dismissed")
RECENT = 50  # closed cases the cases page lists
REFUSALS = {  # what the console's page says of a refusal raised on the way to a handler
    400: "This request could not be read: a form or an address with characters the console "
    "cannot keep.",
    404: "There is no such page.",
    405: "This page does not take that kind of request.",
    413: "This form is too large.",
}
SIGN_IN_LIMIT = (10, 600)  # wrong tokens a client may give in 10 minutes


class Console:
    """The console's routes, its sessions and its sign-in."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.oidc = Oidc(settings) if settings.oidc_issuer else None
        self.sessions = Sessions(settings, self.oidc)
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"])
        )
        self.templates.globals.update(views.HELPERS)
        logo = settings.agency_logo
        self.logo = logo if logo is not None and logo.suffix.lower() in LOGO_TYPES else None
        self.templates.globals.update(
            logo="/admin/static/logo" if self.logo else None,
            gov=settings.official_site,  # the USWDS banner: an official website
            agency=settings.agency_name,
        )

    def routes(self) -> list[web.RouteDef]:
        page, change = self._page, self._change
        return [
            web.get(PATH, page(self.overview)),
            web.get(PATH + "/", page(self.overview)),
            web.get(PATH + "/services/{service}", page(self.service)),
            web.get(PATH + "/cases", page(self.cases)),
            web.post(PATH + "/cases/{case_id}/{action}", change(self.case_action)),
            web.get(PATH + "/reports", page(self.reports)),
            web.get(PATH + "/reports/{name}.csv", page(self.report_csv)),
            web.get(PATH + "/reports/public", page(self.public_preview)),
            web.get(PATH + "/delivery", page(self.delivery)),
            web.get(PATH + "/audit", self._admin_page(self.audit)),
            web.post(PATH + "/delivery/replay", change(self.replay)),
            web.get(PATH + "/sign-in", self.sign_in_page),
            web.post(PATH + "/sign-in", self.sign_in),
            web.post(PATH + "/sign-out", self.sign_out),
            web.get(PATH + "/oidc/start", self.oidc_start),
            web.get(PATH + "/oidc/callback", self.oidc_callback),
            web.get(PATH + "/static/{name}", self.static),
            # before the library's /services/{service}/{verb}, which would take /themes
            *ThemePages(self.render, self._admin_page, change).routes(),
            *LibraryPages(self.render, self._admin_page, change).routes(),
            *BuilderPages(self.render, self._admin_page, change).routes(),
            *CommentPages(self.render, page).routes(),
        ]

    # --- plumbing -----------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler: RequestHandler) -> web.StreamResponse:
        """Every request under ``/admin`` passes here first. A path or parameter that no store
        can keep (NUL and the other control characters, unpaired surrogates: PostgreSQL
        refuses them) is a 400 before any handler reads it; a refusal a handler raises (a
        form that is not one, no such route) is the console's own page, not a bare text."""
        if not request.path.startswith(PATH):
            return await handler(request)
        if not is_clean(request.path) or not all(
            is_clean(k) and is_clean(v) for k, v in request.query.items()
        ):
            return self.render("error.html", 400, message=REFUSALS[400])
        try:
            return await handler(request)
        except web.HTTPClientError as exc:
            message = REFUSALS.get(exc.status, exc.reason)
            page = self.render("error.html", exc.status, message=message)
            page.headers.update({k: v for k, v in exc.headers.items()
                                 if k in ("Allow", "Retry-After")})  # fmt: skip
            return page

    def render(
        self, name: str, status: int = 200, staff: Staff | None = None, **context: Any
    ) -> web.Response:
        html = self.templates.get_template(name).render(staff=staff, **context)
        response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
        response.headers.update(views.HEADERS)
        return response

    def _page(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A page for anyone signed in; the session is renewed (its idle clock restarts)."""

        async def run(request: web.Request) -> web.StreamResponse:
            rt = request.app[RUNTIME]
            try:
                staff = await self.sessions.read(request, rt)
            except OidcUnavailable:
                log.warning("console: the OpenID Connect provider could not be reached")
                return self.render("error.html", 503, message="The sign-in service is not "
                                   "answering, so your access could not be checked. Try "
                                   "again in a minute.")  # fmt: skip
            if staff is None:
                away = see_other(PATH + "/sign-in")
                await self.sessions.end(rt, away, None)  # the cookie names no session
                return away
            self._know(rt)
            self.templates.globals["this_quarter"] = reports.fiscal_quarter(
                rt.clock(), reports.DEFAULT_ZONE
            )
            response = await handler(request, rt, staff)
            self.sessions.renew_cookie(request, response)
            return response

        return run

    def _admin_page(
        self, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A page only an admin sees (flows and settings: a viewer is refused, 403)."""

        async def admins(request: web.Request, rt: Runtime, staff: Staff) -> web.StreamResponse:
            if not staff.admin:
                return self.render("error.html", 403, staff, message="Only an admin can see this.")
            return await handler(request, rt, staff)

        return self._page(admins)

    def _change(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A change: a page (signed in) that is an admin's, posted from our own pages with the
        session's CSRF token."""

        async def guarded(request: web.Request, rt: Runtime, staff: Staff) -> web.StreamResponse:
            form = await form_of(request)
            if not same_origin(request, self.settings.public_base_url) or not csrf_ok(
                staff, form.get("csrf")
            ):
                return self.render(
                    "error.html",
                    403,
                    staff,
                    message="This form has expired "
                    "or did not come from this console. Go back and try again.",
                )
            if not staff.admin:
                return self.render(
                    "error.html", 403, staff, message="Only an admin can change this."
                )
            return await handler(request, rt, staff)

        return self._page(guarded)

    def _know(self, rt: Runtime) -> None:
        """The agency the header and titles name: ``AGENCY_NAME``, else the catalog's agency
        when its services share one."""
        agencies = {s.agency for s in rt.services.values()}
        named = self.settings.agency_name or (agencies.pop() if len(agencies) == 1 else "")
        self.templates.globals["agency"] = named

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "logo" and self.logo is not None:
            response = web.FileResponse(self.logo, headers={
                "Content-Type": LOGO_TYPES[self.logo.suffix.lower()]})  # fmt: skip
            response.headers["Cache-Control"] = "public, max-age=3600"
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response
        if name not in STATIC:
            raise web.HTTPNotFound()
        response = web.FileResponse(HERE / "static" / name)
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    # --- sign-in ------------------------------------------------------------------------
    async def sign_in_page(self, request: web.Request) -> web.Response:
        self._know(request.app[RUNTIME])
        return self._sign_in_form(request)

    def _sign_in_form(
        self, request: web.Request, status: int = 200, error: str | None = None
    ) -> web.Response:
        """The sign-in page, with a fresh CSRF token bound to a short-lived cookie (there is
        no session yet to hold it)."""
        token = secrets.token_urlsafe(24)
        response = self.render("sign_in.html", status, error=error, csrf=token,
                               oidc=self.oidc is not None)  # fmt: skip
        self.sessions.start_sign_in(response, token)
        return response

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        rt: Runtime = request.app[RUNTIME]
        if not same_origin(request, self.settings.public_base_url):
            return self._sign_in_form(request, 403, error="Sign in from this console's own page.")
        # Wrong tokens are counted per client (its address as the trusted proxies report
        # it), and only wrong ones: people signing in behind one router lock no one out.
        settings = self.settings
        client = rt.person(client_address(request, settings.trusted_proxies,
                                          settings.forwarded_header))  # fmt: skip
        if await rt.state.counted("console-sign-in", client) >= SIGN_IN_LIMIT[0]:
            return self._sign_in_form(request, 429, error="Too many tries: wait ten minutes.")
        form = await form_of(request)
        if not self.sessions.sign_in_ok(request, form.get("csrf")):
            return self._sign_in_form(request, 403, error="This page had expired: sign in again.")
        token = form.get("token")
        role = token_role(self.settings, token) if token else None
        if role is None:
            await rt.state.count("console-sign-in", client, SIGN_IN_LIMIT[1])
            return self._sign_in_form(request, 401, error="That token is not right.")
        response = see_other(PATH)
        staff = await self.sessions.start(rt, response, f"{role} (token)", role, token=token)
        await self._audit_sign_in(rt, staff)
        return response

    async def _audit_sign_in(self, rt: Runtime, staff: Staff) -> None:
        if rt.store is not None:
            await rt.store.audit(staff.name, "console.sign-in", None, {"role": staff.role})

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        rt: Runtime = request.app[RUNTIME]
        staff = await self.sessions.read(request, rt, recheck=False)
        form = await form_of(request)
        if staff is not None and not csrf_ok(staff, form.get("csrf")):
            return self.render("error.html", 403, staff, message="This form has expired.")
        response = see_other(PATH + "/sign-in")
        await self.sessions.end(rt, response, staff)
        return response

    async def oidc_start(self, request: web.Request) -> web.StreamResponse:
        if self.oidc is None:
            raise web.HTTPNotFound()
        try:
            url, leg = await self.oidc.start()
        except OidcError:
            log.warning("console: the OpenID Connect provider could not be reached")
            return self._sign_in_form(
                request, 503, error="The sign-in service is not answering; try again soon."
            )
        response = see_other(url)
        self.sessions.start_oidc(response, leg)
        return response

    async def oidc_callback(self, request: web.Request) -> web.StreamResponse:
        if self.oidc is None:
            raise web.HTTPNotFound()
        rt: Runtime = request.app[RUNTIME]
        leg = self.sessions.oidc_leg(request)
        code, state = request.query.get("code"), request.query.get("state")
        if (
            leg is None
            or not code
            or not state
            or not secrets.compare_digest(
                state.encode("utf-8", "surrogateescape"), leg["state"].encode()
            )
            # each sign-in's state is used once: a callback replayed is refused here
            or not await rt.state.first_time("console-oidc-state", leg["state"], OIDC_LEG_SECONDS)
        ):
            return self._sign_in_form(
                request, 400, error="That sign-in did not start here, was used already, "
                "or took too long.",
            )  # fmt: skip
        try:
            grant = await self.oidc.finish(code, leg)
        except OidcUnavailable:
            log.warning("console: the OpenID Connect provider did not answer as expected")
            return self._sign_in_form(
                request, 503, error="The sign-in service did not answer as expected."
            )
        except OidcError as exc:
            return self._sign_in_form(request, 403, error=str(exc))
        response = see_other(PATH)
        staff = await self.sessions.start(rt, response, grant.name, grant.role, grant=grant)
        await self._audit_sign_in(rt, staff)
        response.del_cookie(OIDC_COOKIE, path=PATH)
        return response

    # --- pages --------------------------------------------------------------------------
    async def overview(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        quarter = views.quarter_of(request, rt)
        summaries = await views.summaries(
            rt.reader, rt.services, rt.flows, quarter, rt.settings.min_cell
        )
        open_cases = await rt.state.open_cases(limit=500)
        return self.render(
            "overview.html",
            staff=staff,
            lag=await views.lag(rt),
            quarter=quarter,
            rows=views.overview_rows(rt, summaries, open_cases),
            min_cell=rt.settings.min_cell,
        )

    async def service(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        service_id = request.match_info["service"]
        if service_id not in rt.services:
            return self.render("error.html", 404, staff, message="There is no such service.")
        quarter = views.quarter_of(request, rt)
        service = rt.services[service_id]
        report, comments = await views.service_page(rt, quarter, service_id, staff)
        row = next((r for r in report["scores"] if r["service_id"] == service_id), None)
        themes = await views.service_themes(rt, quarter, service_id)
        return self.render(
            "service.html",
            staff=staff,
            lag=await views.lag(rt),
            quarter=quarter,
            service=service,
            row=row,
            series=report["series"],
            comments=comments,
            themes=themes,
            link=comments is not None,
            min_cell=report["min_cell"],
            questions=views.question_words(rt.flows.get(service.flow), service),
        )

    async def cases(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        """The case inbox: open cases from Redis (new and claimed), recently closed ones
        from the store; filtered by service, status, age and the rule that opened them."""
        query = request.query
        status, service = query.get("status", ""), query.get("service", "")
        rule, older = query.get("rule", ""), views.AGES.get(query.get("age", ""))
        now = rt.clock()

        def wanted(case: dict[str, Any]) -> bool:
            return (
                (not service or case.get("service") == service)
                and (not rule or any(views.rule_of(r) == rule for r in case["reasons"]))
                and (older is None or now - views.opened(case) >= older)
            )

        chosen = [c for c in await rt.state.open_cases(limit=500)
                  if (not status or c["status"] == status) and wanted(dict(c))]  # fmt: skip
        closed: list[dict[str, Any]] = []
        for ended in CLOSED:  # recent closed cases, from the store (Redis keeps open ones)
            if rt.store is not None and status in ("", ended):
                found = await rt.store.recent_cases(service=service or None, status=ended)
                closed += [c for c in found if wanted(c)]
        closed.sort(key=lambda c: c.get("closed_at") or "", reverse=True)
        return self.render(
            "cases.html",
            closed=views.cases_as_read_by(staff, rt, closed[:RECENT]),
            staff=staff,
            cases=views.cases_as_read_by(staff, rt, chosen),
            wanted=status,
            service=service,
            rule=rule,
            age_filter=query.get("age", ""),
            services=sorted(rt.services.values(), key=lambda s: s.name),
            names={s.id: s.name for s in rt.services.values()},
            now=now,
            statuses=views.STATUSES,
            rules=views.RULES,
            ages=views.AGE_WORDS,
            slack=rt.notifier is not None,
            digest=rt.digest is not None,
            theme_words=lambda case: views.theme_words(rt, case),
        )

    async def case_action(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        action = request.match_info["action"]
        case_id = request.match_info["case_id"]
        found = [c for c in await rt.state.open_cases(limit=500) if c["case_id"] == case_id]
        if action not in cases.ACTIONS or not found or not is_ref(found[0].get("ref", "")):
            return self.render("error.html", 404, staff, message="That case is not open any more.")
        ref = found[0]["ref"]
        user = staff.name[:32]  # the case keeps who acted (the store's column is 32 wide)
        case, refusal = await alerts.apply(rt, ref, action, user, secrets.token_hex(8))
        if refusal is not None:
            return self.render("error.html", 409, staff, message=refusal)
        if case is not None:
            if rt.store is not None:
                await rt.store.write_case(cases.outcome(case))
                await rt.store.audit(staff.name, f"case.{action}", case_id, None)
            if rt.notifier is not None:  # Slack shows the case as it now is
                await rt.work.enqueue("case.refresh", {"ref": ref}, rt.state.shard_of_ref(ref))
        return see_other(PATH + "/cases")

    async def reports(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        quarter = views.quarter_of(request, rt)
        return self.render("reports.html", staff=staff, quarter=quarter, lag=await views.lag(rt),
                           store=rt.store is not None)  # fmt: skip

    async def report_csv(
        self, request: web.Request, rt: Runtime, staff: Staff
    ) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ("a11", "collection"):
            return self.render("error.html", 404, staff, message="There is no such report.")
        fiscal_year, quarter = views.quarter_of(request, rt)
        if rt.store is not None:
            await rt.store.audit(
                staff.name,
                "report",
                None,
                {
                    "fiscal_year": fiscal_year,
                    "quarter": quarter,
                    "format": "csv" if name == "a11" else "collection-csv",
                },
            )
        filename = f"a11-fy{fiscal_year}-q{quarter}{'' if name == 'a11' else '-collection'}.csv"
        if name == "a11" and rt.reader is not None:
            # Streamed a page at a time, each page as this person may read it.
            parts = exports.per_response_csv(
                rt.reader, rt.services, fiscal_year, quarter,
                shape=lambda found: views.uploads_as_read_by(staff, rt, found),
            )  # fmt: skip
            return await csv_download(request, filename, parts)
        if name == "a11":  # no store: the upload of no response
            return await csv_download(request, filename, text_parts(reports.upload_header()))
        report = await views.report(rt, (fiscal_year, quarter))
        text = reports.collection_csv(report["collection_detail"])
        return await csv_download(request, filename, text_parts(text))

    async def public_preview(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        report = await views.report(rt, views.quarter_of(request, rt))
        # (in a thread: it looks at the logo's file)
        site = await asyncio.to_thread(Site.of, self.settings, rt.services, rt.clock().date(),
                                       "/admin/static/logo")  # fmt: skip
        html = render_site(public_report(report, rt.services), site)["index.html"]
        response = web.Response(text=html, content_type="text/html", charset="utf-8")
        response.headers.update(views.HEADERS)
        return response

    async def audit(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        """Who changed what (admins only): the audit log, filtered by target, action and
        person, a page at a time, each change linked to where it can be seen."""
        query = request.query
        chosen = {k: query.get(k, "").strip()[:255] for k in ("target", "action", "actor")}
        before = query.get("before", "")
        older = int(before) if before.isdigit() and 0 < int(before) < 2**31 else None
        entries: list[dict[str, Any]] = []
        if rt.store is not None:  # (a NUL in a filter is refused before here: 400)
            entries = await rt.store.audit_entries(
                before=older, limit=views.AUDIT_PAGE + 1, target=chosen["target"] or None,
                action=chosen["action"] or None, actor=chosen["actor"] or None,
            )  # fmt: skip
        more = len(entries) > views.AUDIT_PAGE
        entries = entries[: views.AUDIT_PAGE]
        targets = sorted({*rt.services, *rt.flows})
        return self.render("audit.html", staff=staff, entries=entries, chosen=chosen,
                           actions=views.ACTIONS, targets=targets, older=older,
                           next_before=entries[-1]["id"] if more else None)  # fmt: skip

    async def delivery(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        queues = await views.queues(rt)
        return self.render("delivery.html", staff=staff, queues=queues)

    async def replay(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        form = await form_of(request)
        which = form.get("queue")
        queue = rt.outbox if which == "outbox" else rt.work if which == "work" else None
        if queue is None:
            return self.render("error.html", 400, staff, message="There is no such queue.")
        moved = await queue.replay()
        if rt.store is not None:
            await rt.store.audit(staff.name, "replay", str(which), {"moved": moved})
        return see_other(PATH + "/delivery")
