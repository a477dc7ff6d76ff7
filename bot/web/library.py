"""The library's API for admins: flow versions (upload, list, preview, activate, roll back)
and services' run-time settings (change, history, restore). Handlers check the request and
convert; ``bot.service.library.Live`` acts, validates and audits."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.core.catalog import Service
from bot.core.flow import Flow
from bot.core.preview import preview_rows
from bot.core.sinks import FlowVersion
from bot.service.library import MAX_FLOW_TEXT, Live, Refused, located
from bot.service.runtime import Runtime
from bot.web.api import ADMIN_ACTOR, SERVICE_ID, admin, parse_json
from bot.web.context import json_error

FLOW_ID = SERVICE_ID  # the flow schema's id pattern is the same


def _live(request: web.Request) -> tuple[Runtime, Live]:
    rt = admin(request)
    if rt.library is None:
        raise web.HTTPServiceUnavailable(
            text='{"error": "flows and services are the files\'s alone here"}',
            content_type="application/json",
        )
    return rt, rt.library


Handler = Callable[[web.Request], Awaitable[web.Response]]


def answered(handler: Handler) -> Handler:
    """A handler whose ``Refused`` is answered as JSON: why (422: every error at its path)."""

    @functools.wraps(handler)
    async def run(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except Refused as exc:
            message = "not valid" if exc.status == 422 else exc.errors[0].message
            return json_error(exc.status, message, errors=exc.problems())

    return run


async def json_body(request: web.Request) -> Any:
    """The request's strict JSON body (400 otherwise)."""
    try:
        return parse_json(await request.read())
    except ValueError as exc:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"body is not valid JSON: {exc}"}),
                                 content_type="application/json") from None  # fmt: skip


def _id(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not FLOW_ID.match(value):
        raise web.HTTPNotFound(text='{"error": "no such id"}', content_type="application/json")
    return value


def _active(rt: Runtime, flow_id: str) -> str | None:
    return rt.flows[flow_id].version if flow_id in rt.flows else None


def _changed(live: Live, service_id: str, done: dict[str, Any]) -> web.Response:
    """A change's answer: before, after, and the settings as they now are."""
    return web.json_response({"service_id": service_id, **done,
                              "settings": live.effective(service_id)})  # fmt: skip


def version_json(v: FlowVersion, active: str | None) -> dict[str, Any]:
    return {"version": v.version, "created_at": v.created_at, "created_by": v.created_by,
            "active": v.version == active}  # fmt: skip


def preview_for(rt: Runtime, flow: Flow, service: Service | None = None) -> list[dict[str, Any]]:
    """A version's messages as a service sends them (``service``, else the first on its
    flow): its names and trust-question subject, and only the drivers its catalog entry
    offers. Sample names and every driver when no service is named or on the flow."""
    if service is None:
        on = sorted((s for s in rt.services.values() if s.flow == flow.id), key=lambda s: s.id)
        service = on[0] if on else None
    if service is None:
        return preview_rows(flow)
    return preview_rows(flow, service.context(), service.drivers)


async def get_flows(request: web.Request) -> web.Response:
    rt, _ = _live(request)
    flows = []
    for flow_id, flow in sorted(rt.flows.items()):
        flows.append({
            "id": flow_id, "title": flow.title, "instrument": flow.instrument,
            "languages": list(flow.languages), "active_version": flow.version,
            "services": sorted(s.id for s in rt.services.values() if s.flow == flow_id),
        })  # fmt: skip
    return web.json_response({"flows": flows})


async def put_flow(request: web.Request) -> web.Response:
    _, live = _live(request)
    flow_id = _id(request, "flow_id")
    if request.content_length is not None and request.content_length > MAX_FLOW_TEXT:
        return json_error(413, f"body over {MAX_FLOW_TEXT} bytes")
    raw = await request.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return json_error(400, "body is not UTF-8")
    if request.content_type == "application/json":
        await json_body(request)  # strict JSON (as YAML, NaN and repeated keys would pass)
    version, created, flow = await live.put_flow(flow_id, text, ADMIN_ACTOR)
    body = {"flow_id": flow_id, "version": version.version, "created": created,
            "warnings": located(flow.warnings)}  # fmt: skip
    return web.json_response(body, status=201 if created else 200)


async def get_versions(request: web.Request) -> web.Response:
    rt, live = _live(request)
    flow_id = _id(request, "flow_id")
    versions = await live.versions(flow_id)
    active = _active(rt, flow_id)
    return web.json_response({"flow_id": flow_id, "active": active,
                              "versions": [version_json(v, active) for v in versions]})  # fmt: skip


async def get_version(request: web.Request) -> web.Response:
    """One version: its text and every message as it will be seen, with its SMS cost."""
    rt, live = _live(request)
    flow_id = _id(request, "flow_id")
    version = await live.version(flow_id, request.match_info["version"])
    flow = rt.versions.get((flow_id, version.version))
    return web.json_response({
        "flow_id": flow_id, **version_json(version, _active(rt, flow_id)), "text": version.text,
        "warnings": located(flow.warnings) if flow else [],
        "preview": preview_for(rt, flow) if flow else [],
    })  # fmt: skip


async def activate(request: web.Request) -> web.Response:
    _, live = _live(request)
    flow_id = _id(request, "flow_id")
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("version"), str):
        return json_error(400, 'expected {"version": "..."}')
    before = await live.activate(flow_id, body["version"][:64], ADMIN_ACTOR)
    return web.json_response({"flow_id": flow_id, "active": body["version"], "before": before})


async def patch_service(request: web.Request) -> web.Response:
    _, live = _live(request)
    service_id = _id(request, "service_id")
    change = await json_body(request)
    if not isinstance(change, dict) or not change:
        return json_error(400, "expected a JSON object of the settings to change")
    done = await live.change_service(service_id, change, ADMIN_ACTOR)
    return _changed(live, service_id, done)


async def get_settings(request: web.Request) -> web.Response:
    """A service's run-time settings as they now are, and its changes, newest first."""
    _, live = _live(request)
    service_id = _id(request, "service_id")
    history = await live.history(service_id)
    return web.json_response({"service_id": service_id, "settings": live.effective(service_id),
                              "history": history})  # fmt: skip


async def restore(request: web.Request) -> web.Response:
    _, live = _live(request)
    service_id = _id(request, "service_id")
    body = await json_body(request)
    change = body.get("change") if isinstance(body, dict) else None
    if not isinstance(change, int) or isinstance(change, bool) or not 0 < change < 2**31:
        return json_error(400, 'expected {"change": <an audit entry id>}')
    done = await live.restore(service_id, change, ADMIN_ACTOR)
    return _changed(live, service_id, done)


ROUTES = [
    web.get("/v1/flows", answered(get_flows)),
    web.put("/v1/flows/{flow_id}", answered(put_flow)),
    web.get("/v1/flows/{flow_id}/versions", answered(get_versions)),
    web.get("/v1/flows/{flow_id}/versions/{version}", answered(get_version)),
    web.post("/v1/flows/{flow_id}/activate", answered(activate)),
    web.patch("/v1/services/{service_id}", answered(patch_service)),
    web.get("/v1/services/{service_id}/settings", answered(get_settings)),
    web.post("/v1/services/{service_id}/restore", answered(restore)),
]
