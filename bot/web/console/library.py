"""The console's library pages, for admins only: flows (versions, upload and edit with the
errors at their lines, preview with SMS costs, try it on the web chat page, activate, roll
back, diff) and services' run-time settings (edit, pause and resume, history, restore).
They convert forms to the calls the API makes (``bot.service.library.Live``)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import yaml
from aiohttp import web

from bot.core.channels import by_interface
from bot.core.errors import brief
from bot.core.library import diff, lines_of
from bot.core.preview import preview_rows
from bot.core.wording import DESCRIPTIONS, INTERFACES
from bot.core.yamltext import parse_yaml
from bot.service import intake
from bot.service.library import Live, Refused
from bot.service.runtime import Runtime
from bot.web.console.auth import PATH, Staff
from bot.web.console.pages import Wrap, form_of, see_other

Render = Callable[..., web.Response]
NUMBERS = {"sample_rate": float, "delay_minutes": int, "reminder_hours": float,
           "expiry_hours": float}  # fmt: skip
MAPPINGS = ("alerts", "goals")
MAX_MAPPING_TEXT = 16 * 1024  # a few lines each; more is a mistake or an attack


def problems(exc: Refused, text: str | None = None) -> list[dict[str, Any]]:
    """A refusal's errors for a page: each with its path, its message and, in a flow's
    text, its line and what that line says."""
    paths = [e.path for e in exc.errors]
    lines = text.splitlines() if text is not None else []
    found = lines_of(text, paths) if text is not None else [None] * len(paths)
    return [
        {"path": e.path, "message": e.message, "line": line,
         "shown": brief(lines[line - 1].strip(), 120) if line and line <= len(lines) else ""}
        for e, line in zip(exc.errors, found, strict=True)
    ]  # fmt: skip


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
            web.post(flow + "/activate", change(self.activate)),
            web.get(flow + "/diff", page(self.diff)),
            web.get(flow + "/versions/{version}", page(self.version)),
            web.post(flow + "/versions/{version}/try", change(self.try_it)),
            web.get(service + "/settings", page(self.settings)),
            web.post(service + "/settings", change(self.save_settings)),
            web.post(service + "/restore", change(self.restore)),
            web.post(service + "/{verb}", change(self.pause)),  # pause, resume
        ]

    def _live(self, rt: Runtime) -> Live:
        if rt.library is None:
            raise web.HTTPServiceUnavailable(text="flows and services are the files' alone here")
        return rt.library

    def _refused(self, staff: Staff, exc: Refused) -> web.Response:
        return self.render("error.html", exc.status, staff, message=exc.errors[0].message,
                           errors=problems(exc) if exc.status == 422 else [])  # fmt: skip

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
        if text is None:
            chosen = next((v for v in versions if v.version == (start or active)), versions[-1])
            text = chosen.text
        return self.render(
            "flow.html", status, staff, flow_id=flow_id, versions=list(reversed(versions)),
            active=active, text=text, errors=errors or [],
            order=[v.version for v in versions],
        )  # fmt: skip

    async def upload(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        live = self._live(rt)
        form = await form_of(request)
        text = form.get("text", "").replace("\r\n", "\n")
        new = "flow_id" not in request.match_info
        flow_id = form.get("flow_id", "").strip() if new else request.match_info["flow_id"]
        try:
            version, _ = await live.put_flow(flow_id, text, staff.name)
        except Refused as exc:
            errors = await asyncio.to_thread(problems, exc, text)  # parses the text again
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
        service = next((s for s in rt.services.values() if s.flow == flow_id), None)
        rows = preview_rows(flow, service.context() if service else None) if flow else []
        languages = list(flow.languages) if flow else []
        channels = by_interface(rt.kinds)
        interfaces = [(i, DESCRIPTIONS[i], ", ".join(channels.get(i, ()))) for i in INTERFACES]
        return self.render(
            "version.html", staff=staff, version=version, flow=flow, languages=languages,
            rows=rows, active=rt.flows[flow_id].version if flow_id in rt.flows else None,
            webchat="webchat" in rt.outbound, interfaces=interfaces,
        )  # fmt: skip

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
        for name in MAPPINGS:  # shown as YAML, edited as YAML
            if not isinstance(values.get(name), str):
                value = values.get(name)
                values[name] = yaml.safe_dump(value, sort_keys=False).strip() if value else ""
        return self.render(
            "settings.html", status, staff, service=rt.services[service_id], values=values,
            errors=errors or {}, history=history, channels=sorted(rt.kinds),
            flows=sorted(rt.flows), paused=current["paused"],
        )  # fmt: skip

    async def save_settings(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        service_id = request.match_info["service"]
        live = self._live(rt)
        try:
            current = live.effective(service_id)
        except Refused as exc:
            return self._refused(staff, exc)
        form = await request.post()
        change, errors = _settings_change(form, current)
        if not errors and change:
            try:
                await live.change_service(service_id, change, staff.name)
            except Refused as exc:
                errors = {e.path.split(".")[0].split("[")[0]: e.message for e in exc.errors}
        if errors:
            shown: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
            shown["channels"] = form.getall("channels") if "channels" in form else []
            shown["paused"] = form.get("paused") == "on"
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


def _settings_change(form: Any, current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings a posted form changes (what differs from ``current``), and the fields it
    gave that cannot be read, each with why."""
    channels = form.getall("channels") if "channels" in form else []
    given: dict[str, Any] = {"paused": form.get("paused") == "on",
                             "channels": [c for c in channels if isinstance(c, str)]}  # fmt: skip
    errors: dict[str, str] = {}
    for name, kind in NUMBERS.items():
        raw = form.get(name, "")
        try:
            value = kind(raw) if isinstance(raw, str) and raw.strip() else None
        except ValueError:
            errors[name] = "Enter a number." if kind is float else "Enter a whole number."
            continue
        if isinstance(value, float) and not math.isfinite(value):
            errors[name] = "Enter a number."
            continue
        given[name] = value
    flow = form.get("flow", "")
    given["flow"] = flow if isinstance(flow, str) and flow else None
    dimensions = form.get("reporting_dimensions", "")
    if isinstance(dimensions, str):
        given["reporting_dimensions"] = [d.strip() for d in dimensions.split(",") if d.strip()]
    for name in MAPPINGS:
        raw = form.get(name, "")
        if not isinstance(raw, str) or not raw.strip():
            given[name] = None
            continue
        if len(raw) > MAX_MAPPING_TEXT:
            errors[name] = f"At most {MAX_MAPPING_TEXT:,} characters."
            continue
        value, unread = parse_yaml(raw, name)
        if unread:
            where = f" at {unread[0].path}" if unread[0].path else ""
            errors[name] = f"This cannot be read{where}: {unread[0].message}."
            continue
        if not isinstance(value, dict):
            errors[name] = "Give the settings as name: value lines."
            continue
        given[name] = value
    change = {k: v for k, v in given.items() if k not in errors and v != current.get(k)}
    return change, errors
