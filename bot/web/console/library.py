"""The console's library pages, for admins only: flows (versions, upload and edit with the
errors at their lines, preview with SMS costs, try it on the web chat page, activate, roll
back, diff) and services' run-time settings (edit, pause and resume, history, restore).
They convert forms to the calls the API makes (``bot.service.library.Live``)."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from bot.core.a11 import DRIVER_LABELS, DRIVERS, drivers_on_form
from bot.core.builder import DRIVER_CHOICES
from bot.core.channels import by_interface
from bot.core.errors import FlowError, brief
from bot.core.flow import Flow
from bot.core.goals import MEASURES
from bot.core.library import diff, lines_of
from bot.core.wording import DESCRIPTIONS, INTERFACES
from bot.service import intake
from bot.service.library import Live, Refused
from bot.service.runtime import Runtime
from bot.web.console import views
from bot.web.console.auth import PATH, Staff
from bot.web.console.pages import Wrap, form_of, see_other
from bot.web.library import preview_for

Render = Callable[..., web.Response]
NUMBERS = {"sample_rate": float, "delay_minutes": int, "reminder_hours": float,
           "expiry_hours": float}  # fmt: skip


def problems(found: Sequence[FlowError], text: str | None = None) -> list[dict[str, Any]]:
    """A refusal's errors, or a flow's warnings, for a page: each with its path, its message
    and, in a flow's text, its line and what that line says."""
    paths = [e.path for e in found]
    lines = text.splitlines() if text is not None else []
    at = lines_of(text, paths) if text is not None else [None] * len(paths)
    return [
        {"path": e.path, "message": e.message, "line": line,
         "shown": brief(lines[line - 1].strip(), 120) if line and line <= len(lines) else ""}
        for e, line in zip(found, at, strict=True)
    ]  # fmt: skip


async def warnings_of(flow: Flow | None, text: str) -> list[dict[str, Any]]:
    """A kept flow's warnings at their lines of its text (composed again, in a thread)."""
    if flow is None or not flow.warnings:
        return []
    return await asyncio.to_thread(problems, flow.warnings, text)


class LibraryPages:
    """Routes and handlers; ``page`` wraps a page for admins, ``change`` a posted change."""

    def __init__(self, render: Render, page: Wrap, change: Wrap) -> None:
        self.render, self.page, self.change = render, page, change

    def routes(self) -> list[web.RouteDef]:
        page, change = self.page, self.change
        flow = PATH + "/flows/{flow_id}"
        service = PATH + "/services/{service}"
        return [
            web.get(PATH + "/flows", page(self.flows)),
            web.post(PATH + "/flows", change(self.upload)),
            web.get(flow, page(self.flow)),
            web.post(flow, change(self.upload)),
            web.get(flow + "/activate", page(self.confirm_activate)),
            web.post(flow + "/activate", change(self.activate)),
            web.get(flow + "/diff", page(self.diff)),
            web.get(flow + "/versions/{version}", page(self.version)),
            web.post(flow + "/versions/{version}/try", change(self.try_it)),
            web.get(service + "/settings", page(self.settings)),
            web.post(service + "/settings", change(self.save_settings)),
            web.post(service + "/restore", change(self.restore)),
            web.get(service + "/{verb}", page(self.confirm_pause)),  # pause, resume
            web.post(service + "/{verb}", change(self.pause)),
        ]

    def _live(self, rt: Runtime) -> Live:
        if rt.library is None:
            raise web.HTTPServiceUnavailable(text="flows and services are the files' alone here")
        return rt.library

    def _refused(self, staff: Staff, exc: Refused) -> web.Response:
        return self.render("error.html", exc.status, staff, message=exc.errors[0].message,
                           errors=problems(exc.errors) if exc.status == 422 else [])  # fmt: skip

    # --- flows ----------------------------------------------------------------------------
    async def flows(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        return await self._flows(rt, staff)

    async def _flows(
        self, rt: Runtime, staff: Staff, *, status: int = 200, flow_id: str = "", text: str = "",
        errors: list[dict[str, Any]] | None = None,
    ) -> web.Response:  # fmt: skip
        counts: dict[str, int] = {}
        for v in await self._live(rt).store.flow_versions():
            counts[v.flow_id] = counts.get(v.flow_id, 0) + 1
        rows = [
            {"flow": f, "versions": counts.get(f.id, 0),
             "services": sorted(s.id for s in rt.services.values() if s.flow == f.id)}
            for f in sorted(rt.flows.values(), key=lambda f: f.id)
        ]  # fmt: skip
        return self.render("flows.html", status, staff, rows=rows, flow_id=flow_id, text=text,
                           errors=errors or [])  # fmt: skip

    async def flow(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        flow_id = request.match_info["flow_id"]
        return await self._flow(rt, staff, flow_id, request.query.get("from"))

    async def _flow(
        self, rt: Runtime, staff: Staff, flow_id: str, start: str | None = None, *,
        status: int = 200, text: str | None = None, errors: list[dict[str, Any]] | None = None,
    ) -> web.Response:  # fmt: skip
        live = self._live(rt)
        try:
            versions = await live.versions(flow_id)
        except Refused as exc:
            return self._refused(staff, exc)
        active = rt.flows[flow_id].version if flow_id in rt.flows else None
        warnings: list[dict[str, Any]] = []
        if text is None:  # a kept version's text, with its warnings
            chosen = next((v for v in versions if v.version == (start or active)), versions[-1])
            text = chosen.text
            warnings = await warnings_of(rt.versions.get((flow_id, chosen.version)), text)
        return self.render(
            "flow.html", status, staff, flow_id=flow_id, versions=list(reversed(versions)),
            active=active, text=text, errors=errors or [], warnings=warnings,
            order=[v.version for v in versions],
        )  # fmt: skip

    async def upload(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        live = self._live(rt)
        form = await form_of(request)
        text = form.get("text", "").replace("\r\n", "\n")
        new = "flow_id" not in request.match_info
        flow_id = form.get("flow_id", "").strip() if new else request.match_info["flow_id"]
        try:
            version, _, _ = await live.put_flow(flow_id, text, staff.name)
        except Refused as exc:
            errors = await asyncio.to_thread(problems, exc.errors, text)  # parses it again
            if new:
                return await self._flows(rt, staff, status=exc.status, flow_id=flow_id,
                                         text=text, errors=errors)  # fmt: skip
            return await self._flow(rt, staff, flow_id, status=exc.status, text=text,
                                    errors=errors)  # fmt: skip
        return see_other(f"{PATH}/flows/{flow_id}/versions/{version.version}")

    async def version(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        flow_id, name = request.match_info["flow_id"], request.match_info["version"]
        try:
            version = await self._live(rt).version(flow_id, name)
        except Refused as exc:
            return self._refused(staff, exc)
        flow = rt.versions.get((flow_id, name))
        # The services on the flow first; any other too, to see what it would send.
        on = sorted(rt.services.values(), key=lambda s: (s.flow != flow_id, s.name))
        service = next((s for s in on if s.id == request.query.get("service")),
                       on[0] if on else None)  # fmt: skip
        rows = preview_for(rt, flow, service) if flow else []
        languages = list(flow.languages) if flow else []
        drivers = next((q for q in flow.questions if q.type == "drivers"), None) if flow else None
        channels = by_interface(rt.kinds)
        interfaces = [(i, DESCRIPTIONS[i], ", ".join(channels.get(i, ()))) for i in INTERFACES]
        return self.render(
            "version.html", staff=staff, version=version, flow=flow, languages=languages,
            rows=rows, active=rt.flows[flow_id].version if flow_id in rt.flows else None,
            webchat="webchat" in rt.outbound, services=on, service=service, flow_id=flow_id,
            offered=[DRIVER_LABELS["en"].get(o.value, o.value)
                     for o in drivers_on_form(drivers, service.drivers if service else None)]
            if drivers else [], interfaces=interfaces,
            warnings=await warnings_of(flow, version.text),
        )  # fmt: skip

    async def confirm_activate(
        self, request: web.Request, rt: Runtime, staff: Staff
    ) -> web.Response:
        """What activating (or rolling back to) a version changes, before it is done: the
        difference from the active version, the services on the flow, the surveys open."""
        flow_id = request.match_info["flow_id"]
        live = self._live(rt)
        try:
            versions = await live.versions(flow_id)
            chosen = await live.version(flow_id, request.query.get("version", "")[:64])
        except Refused as exc:
            return self._refused(staff, exc)
        active = next((v for v in versions if flow_id in rt.flows
                       and v.version == rt.flows[flow_id].version), None)  # fmt: skip
        order = [v.version for v in versions]
        rollback = active is not None and order.index(chosen.version) < order.index(active.version)
        opened = await rt.state.open_counts()
        on = sorted((s for s in rt.services.values() if s.flow == flow_id), key=lambda s: s.name)
        open_by_version: dict[str, int] = {}
        for (flow, version, _), n in opened.items():
            if flow == flow_id:
                open_by_version[version] = open_by_version.get(version, 0) + n
        return self.render(
            "confirm_activate.html", staff=staff, flow_id=flow_id, chosen=chosen, active=active,
            rollback=rollback, lines=diff(active, chosen) if active else [], services=on,
            open_by_version=open_by_version,
        )  # fmt: skip

    async def confirm_pause(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        """What pausing or resuming a service changes, before it is done."""
        service_id, verb = request.match_info["service"], request.match_info["verb"]
        if verb not in ("pause", "resume") or service_id not in rt.services:
            return self.render("error.html", 404, staff, message="There is no such page.")
        opened = await rt.state.open_counts()
        count = sum(n for (_, _, service), n in opened.items() if service == service_id)
        return self.render("confirm_pause.html", staff=staff, service=rt.services[service_id],
                           verb=verb, open_count=count)  # fmt: skip

    async def activate(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        flow_id = request.match_info["flow_id"]
        version = (await form_of(request)).get("version", "")[:64]
        try:
            await self._live(rt).activate(flow_id, version, staff.name)
        except Refused as exc:
            return self._refused(staff, exc)
        return see_other(f"{PATH}/flows/{flow_id}")

    async def diff(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        flow_id = request.match_info["flow_id"]
        live = self._live(rt)
        try:
            before = await live.version(flow_id, request.query.get("from", ""))
            after = await live.version(flow_id, request.query.get("to", ""))
        except Refused as exc:
            return self._refused(staff, exc)
        return self.render("diff.html", staff=staff, before=before, after=after,
                           lines=diff(before, after))  # fmt: skip

    async def try_it(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        flow_id, name = request.match_info["flow_id"], request.match_info["version"]
        flow = rt.versions.get((flow_id, name))
        language = (await form_of(request)).get("language", "")
        if flow is None or language not in flow.languages:
            return self.render("error.html", 404, staff, message="There is no such version.")
        if "webchat" not in rt.outbound:
            return self.render("error.html", 409, staff, message="Trying a flow needs the web "
                               "chat channel: add webchat to CHANNELS.")  # fmt: skip
        service = next((s for s in rt.services.values() if s.flow == flow_id), None)
        service = service or next(iter(rt.services.values()))
        token = await intake.trial(rt, flow, service, language)
        return see_other(f"/s/{token}")

    # --- services ---------------------------------------------------------------------------
    async def settings(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        return await self._settings(rt, staff, request.match_info["service"])

    async def _settings(
        self, rt: Runtime, staff: Staff, service_id: str, *, status: int = 200,
        shown: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
    ) -> web.Response:  # fmt: skip
        live = self._live(rt)
        try:
            history = await live.history(service_id)
            current = live.effective(service_id)
        except Refused as exc:
            return self._refused(staff, exc)
        values = {**current, **(shown or {})}
        return self.render(
            "settings.html", status, staff, service=rt.services[service_id], values=values,
            errors=errors or {}, history=history, channels=list(rt.settings.channels),
            flows=sorted(rt.flows), paused=current["paused"], drivers=DRIVER_CHOICES,
            goal_words=views.GOAL_WORDS, slack=bool(rt.settings.slack_bot_token),
            not_enabled=[c for c in current.get("channels") or []
                         if c not in rt.settings.channels],
        )  # fmt: skip

    async def save_settings(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        service_id = request.match_info["service"]
        live = self._live(rt)
        try:
            current = live.effective(service_id)
        except Refused as exc:
            return self._refused(staff, exc)
        form = await request.post()
        change, errors = _settings_change(form, current, list(rt.settings.channels))
        if not errors and change:
            try:
                await live.change_service(service_id, change, staff.name)
            except Refused as exc:  # each at its field: alerts.drivers, goals.since, flow
                errors = {re.sub(r"\[\d+\]$", "", e.path): e.message for e in exc.errors}
        if errors:
            shown: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
            shown["channels"] = form.getall("channels", [])
            shown["alerts"] = {
                "trust_negative": form.get("alerts.trust_negative") == "on",
                "drivers": form.getall("alerts.drivers", []),
                **{k: form.get(f"alerts.{k}", "") for k in (*ALERT_NUMBERS, *ALERT_TEXTS)},
            }
            shown["goals"] = {m: form.get(f"goals.{m}", "") for m in (*MEASURES, "since")}
            return await self._settings(rt, staff, service_id, status=422, shown=shown,
                                        errors=errors)  # fmt: skip
        return see_other(f"{PATH}/services/{service_id}/settings")

    async def pause(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        service_id, verb = request.match_info["service"], request.match_info["verb"]
        if verb not in ("pause", "resume"):
            return self.render("error.html", 404, staff, message="There is no such page.")
        try:
            await self._live(rt).change_service(
                service_id, {"paused": verb == "pause"}, staff.name, action=verb
            )
        except Refused as exc:
            return self._refused(staff, exc)
        return see_other(f"{PATH}/services/{service_id}/settings")

    async def restore(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        service_id = request.match_info["service"]
        change = (await form_of(request)).get("change", "")
        if not change.isdigit() or len(change) > 10:
            return self.render("error.html", 400, staff, message="There is no such change.")
        try:
            await self._live(rt).restore(service_id, int(change), staff.name)
        except Refused as exc:
            return self._refused(staff, exc)
        return see_other(f"{PATH}/services/{service_id}/settings")


ALERT_NUMBERS = {"polarity_at_most": float, "escalate_after_minutes": float}
ALERT_TEXTS = ("channel", "escalate_to")


def _number(raw: Any, kind: type, name: str, errors: dict[str, str]) -> Any:
    """A posted number (None when empty); an error at ``name`` when it is not one."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        value = kind(raw.strip())
    except ValueError:
        errors[name] = "Enter a number." if kind is float else "Enter a whole number."
        return None
    if isinstance(value, float) and not math.isfinite(value):
        errors[name] = "Enter a number."
        return None
    return value


def _settings_change(
    form: Any, current: dict[str, Any], enabled: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings a posted form changes (what differs from ``current``), and the fields it
    gave that cannot be read, each with why (named as the page names its fields). Channels
    this deployment does not enable are not on the form: a service keeps those it lists."""
    chosen = [c for c in form.getall("channels", []) if isinstance(c, str) and c in enabled]
    kept = [c for c in current.get("channels") or [] if c not in enabled]
    given: dict[str, Any] = {"channels": [*chosen, *kept]}
    errors: dict[str, str] = {}
    for name, kind in NUMBERS.items():
        value = _number(form.get(name, ""), kind, name, errors)
        if name not in errors:
            given[name] = value
    flow = form.get("flow", "")
    given["flow"] = flow if isinstance(flow, str) and flow else None
    dimensions = form.get("reporting_dimensions", "")
    if isinstance(dimensions, str):
        given["reporting_dimensions"] = [d.strip() for d in dimensions.split(",") if d.strip()]
    alerts: dict[str, Any] = {"trust_negative": form.get("alerts.trust_negative") == "on"}
    for key, kind in ALERT_NUMBERS.items():
        value = _number(form.get(f"alerts.{key}", ""), kind, f"alerts.{key}", errors)
        if value is not None:
            alerts[key] = value
    ticked = set(form.getall("alerts.drivers", []))
    before = [d for d in (current.get("alerts") or {}).get("drivers", []) if d in ticked]
    drivers = before + [d for d in DRIVERS if d in ticked and d not in before]  # order kept
    if drivers:
        alerts["drivers"] = drivers
    for key in ALERT_TEXTS:
        raw = form.get(f"alerts.{key}", "")
        if isinstance(raw, str) and raw.strip():
            alerts[key] = raw.strip()
    if not any(e.startswith("alerts.") for e in errors):
        # No rules (only crisis language alerts) reads back as nothing ticked: no change.
        unset = not current.get("alerts") and alerts == {"trust_negative": False}
        given["alerts"] = None if unset else alerts
    goals: dict[str, Any] = {}
    for measure in MEASURES:
        value = _number(form.get(f"goals.{measure}", ""), float, f"goals.{measure}", errors)
        if value is not None:
            goals[measure] = value
    since = form.get("goals.since", "")
    if goals and isinstance(since, str) and since.strip():
        goals["since"] = since.strip()
    if not any(e.startswith("goals.") for e in errors):
        given["goals"] = goals or None
    change = {k: v for k, v in given.items() if k not in errors and v != current.get(k)}
    return change, errors
