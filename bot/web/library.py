"""The library's API for admins: flow versions (upload, list, preview, activate, roll back)
and services' run-time settings (change, history, restore). Handlers check the request and
convert; ``bot.service.library.Live`` acts, validates and audits."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.core.preview import preview_rows
from bot.core.sinks import FlowVersion
from bot.service.library import MAX_FLOW_TEXT, Live, Refused
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


def refused(exc: Refused) -> web.Response:
    """A refusal as JSON: why (422: every error, each at its path)."""
    message = "not valid" if exc.status == 422 else exc.errors[0].message
    return json_error(exc.status, message, errors=exc.problems())


def _id(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not FLOW_ID.match(value):
        raise web.HTTPNotFound(text='{"error": "no such id"}', content_type="application/json")
    return value


def version_json(v: FlowVersion, active: str | None) -> dict[str, Any]:
    return {"version": v.version, "created_at": v.created_at, "created_by": v.created_by,
            "active": v.version == active}  # fmt: skip


def context_for(rt: Runtime, flow_id: str) -> dict[str, str]:
    """What a preview fills the placeholders with: a service on the flow, else samples."""
    service = next((s for s in rt.services.values() if s.flow == flow_id), None)
    return service.context() if service else {}


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
        try:  # strict JSON (YAML would take NaN and duplicate keys)
            parse_json(raw)
        except ValueError as exc:
            return json_error(400, f"body is not valid JSON: {exc}")
    try:
        version, created = await live.put_flow(flow_id, text, ADMIN_ACTOR)
    except Refused as exc:
        return refused(exc)
    body = {"flow_id": flow_id, "version": version.version, "created": created}
    return web.json_response(body, status=201 if created else 200)


async def get_versions(request: web.Request) -> web.Response:
    rt, live = _live(request)
    flow_id = _id(request, "flow_id")
    try:
        versions = await live.versions(flow_id)
    except Refused as exc:
        return refused(exc)
    active = rt.flows[flow_id].version if flow_id in rt.flows else None
    return web.json_response({"flow_id": flow_id, "active": active,
                              "versions": [version_json(v, active) for v in versions]})  # fmt: skip


async def get_version(request: web.Request) -> web.Response:
    """One version: its text and every message as it will be seen, with its SMS cost."""
    rt, live = _live(request)
    flow_id = _id(request, "flow_id")
    try:
        version = await live.version(flow_id, request.match_info["version"])
    except Refused as exc:
        return refused(exc)
    flow = rt.versions.get((flow_id, version.version))
    active = rt.flows[flow_id].version if flow_id in rt.flows else None
    return web.json_response({
        "flow_id": flow_id, **version_json(version, active), "text": version.text,
        "preview": preview_rows(flow, context_for(rt, flow_id)) if flow else [],
    })  # fmt: skip


async def activate(request: web.Request) -> web.Response:
    _, live = _live(request)
    flow_id = _id(request, "flow_id")
    try:
        body = parse_json(await request.read())
    except ValueError as exc:
        return json_error(400, f"body is not valid JSON: {exc}")
    if not isinstance(body, dict) or not isinstance(body.get("version"), str):
        return json_error(400, 'expected {"version": "..."}')
    try:
        before = await live.activate(flow_id, body["version"][:64], ADMIN_ACTOR)
    except Refused as exc:
        return refused(exc)
    return web.json_response({"flow_id": flow_id, "active": body["version"], "before": before})


async def patch_service(request: web.Request) -> web.Response:
    _, live = _live(request)
    service_id = _id(request, "service_id")
    try:
        change = parse_json(await request.read())
    except ValueError as exc:
        return json_error(400, f"body is not valid JSON: {exc}")
    if not isinstance(change, dict) or not change:
        return json_error(400, "expected a JSON object of the settings to change")
    try:
        done = await live.change_service(service_id, change, ADMIN_ACTOR)
    except Refused as exc:
        return refused(exc)
    return web.json_response({"service_id": service_id, **done,
                              "settings": live.effective(service_id)})  # fmt: skip


async def get_settings(request: web.Request) -> web.Response:
    """A service's run-time settings as they now are, and its changes, newest first."""
    _, live = _live(request)
    service_id = _id(request, "service_id")
    try:
        history = await live.history(service_id)
    except Refused as exc:
        return refused(exc)
    return web.json_response({"service_id": service_id, "settings": live.effective(service_id),
                              "history": history})  # fmt: skip


async def restore(request: web.Request) -> web.Response:
    _, live = _live(request)
    service_id = _id(request, "service_id")
    try:
        body = parse_json(await request.read())
    except ValueError as exc:
        return json_error(400, f"body is not valid JSON: {exc}")
    change = body.get("change") if isinstance(body, dict) else None
    if not isinstance(change, int) or isinstance(change, bool) or not 0 < change < 2**31:
        return json_error(400, 'expected {"change": <an audit entry id>}')
    try:
        done = await live.restore(service_id, change, ADMIN_ACTOR)
    except Refused as exc:
        return refused(exc)
    return web.json_response({"service_id": service_id, **done,
                              "settings": live.effective(service_id)})  # fmt: skip


ROUTES = [
    web.get("/v1/flows", get_flows),
    web.put("/v1/flows/{flow_id}", put_flow),
    web.get("/v1/flows/{flow_id}/versions", get_versions),
    web.get("/v1/flows/{flow_id}/versions/{version}", get_version),
    web.post("/v1/flows/{flow_id}/activate", activate),
    web.patch("/v1/services/{service_id}", patch_service),
    web.get("/v1/services/{service_id}/settings", get_settings),
    web.post("/v1/services/{service_id}/restore", restore),
]
