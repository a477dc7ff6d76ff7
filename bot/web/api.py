"""The v1 API: transactions in; services, reports, responses, audit and forgetting for admins.
Handlers only check the request and convert; the service layer acts."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.core import reports, trends
from bot.core.comments import comment_filter
from bot.core.errors import RetryableError
from bot.core.public import public_report
from bot.core.secret import Secret
from bot.core.sinks import ResponseStore
from bot.service import exports, intake, privacy
from bot.service.runtime import Runtime
from bot.service.themes import quarter_themes
from bot.web.context import RUNTIME, json_error
from bot.web.deadlines import stream
from bot.web.headers import header_bytes
from bot.web.middleware import route_of

ADMIN_ACTOR = "admin token"  # who the audit log names for a request with $ADMIN_TOKEN
DISPOSITIONS = ("completed", "partial", "expired", "opted_out", "undeliverable", "suppressed",
                "answering_machine")  # fmt: skip
SERVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RESPONSE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_BATCH = 1000
MAX_BODY = 4 * 1024 * 1024
log = logging.getLogger("bot.api")


def _authorised(request: web.Request, token: Secret) -> bool:
    expected = f"Bearer {token.reveal()}".encode()
    return bool(token) and hmac.compare_digest(
        header_bytes(request.headers, "Authorization"), expected
    )


def admin(request: web.Request) -> Runtime:
    """The runtime, for a request with the admin token (401 otherwise)."""
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.admin_token):
        raise _error(web.HTTPUnauthorized, "missing or wrong bearer token")
    return rt


def _store(rt: Runtime) -> ResponseStore:
    """The measures store (503 when there is none)."""
    if rt.store is None:
        raise _error(web.HTTPServiceUnavailable, "no measures store")
    return rt.store


def reader(rt: Runtime) -> ResponseStore:
    """Where reports and lists read: the replica (DATABASE_READ_URL), else the store (503
    when there is none)."""
    _store(rt)
    assert rt.reader is not None  # the store itself when no replica is set
    return rt.reader


def _error(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    return kind(text=json.dumps({"error": message}), content_type="application/json")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """A JSON body as Python values; ValueError (with why) for anything that is not strict
    JSON: bad syntax or encoding, NaN or Infinity, nesting deeper than the parser's stack."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None


async def post_transactions(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if not _authorised(request, rt.settings.api_token):
        return json_error(401, "missing or wrong bearer token")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return json_error(413, f"body over {MAX_BODY} bytes")
    try:
        payload = parse_json(await request.read())
    except ValueError as exc:
        return json_error(400, f"body is not valid JSON: {exc}")
    batch = isinstance(payload, dict) and "transactions" in payload
    items = payload["transactions"] if batch else [payload]
    if not isinstance(payload, dict) or not isinstance(items, list):
        return json_error(400, 'expected a JSON object or {"transactions": [...]}')
    if not items:
        return json_error(400, "no transactions")
    if len(items) > MAX_BATCH:
        return json_error(413, f"at most {MAX_BATCH} transactions per request")
    results, invalid = await intake.accept(rt, items)
    status = 422 if invalid else 202
    body: Any = {"results": results} if batch else results[0]
    return web.json_response(body, status=status)


async def get_services(request: web.Request) -> web.Response:
    rt = admin(request)
    now = rt.clock()
    services = []
    for s in rt.services.values():
        flow = rt.flows[s.flow]
        services.append(
            {
                "id": s.id,
                "name": s.name,
                "agency": s.agency,
                "channels": list(s.channels),
                "flow": {"id": flow.id, "version": flow.version, "languages": list(flow.languages)},
                "omb_control_number": s.omb_control_number,
                "omb_expires": s.omb_expires.isoformat() if s.omb_expires else None,
                "active": not s.paused and not s.omb_expired(now),
            }
        )
    return web.json_response({"services": services})


async def get_report(request: web.Request) -> web.StreamResponse:
    rt = admin(request)
    query = request.query
    try:
        fiscal_year = int(query["fiscal_year"])
        quarter = int(query["quarter"])
        reports.quarter_bounds(fiscal_year, quarter, "UTC")
    except (KeyError, ValueError):
        return json_error(400, "fiscal_year (2000-2200) and quarter (1-4) are required")
    service = query.get("service")
    if service is not None and service not in rt.services:
        return json_error(404, f"unknown service {service!r}")
    store = _store(rt)
    form = query.get("format", "json")
    if form not in ("json", "csv", "collection-csv", "public"):
        return json_error(400, "format must be json, csv, collection-csv or public")
    details = {"fiscal_year": fiscal_year, "quarter": quarter, "format": form}
    kind = "" if form == "csv" else "-collection"
    name = f"a11-fy{fiscal_year}-q{quarter}{kind}{'-' + service if service else ''}.csv"
    if form == "csv":  # streamed as the store reads it: no report is built
        await store.audit(ADMIN_ACTOR, "report", service, details)
        parts = exports.per_response_csv(reader(rt), rt.services, fiscal_year, quarter, service)
        return await csv_download(request, name, parts)
    # The JSON gives the per-response CSV's row count and address, not the CSV (``format=csv``
    # streams it): at national volume it would be tens of megabytes held and encoded here.
    report = await trends.build(
        reader(rt), rt.services, rt.flows, fiscal_year, quarter, service, rt.settings.min_cell
    )
    await store.audit(ADMIN_ACTOR, "report", service, details)
    if form == "collection-csv":
        return await csv_download(request, name, text_parts(reports.collection_csv(
            report["collection_detail"])))  # fmt: skip
    if form == "public":  # themes are for staff: never published
        return web.json_response(public_report(report, rt.services))
    chosen = [service] if service is not None else sorted(rt.services)
    report["themes"] = await quarter_themes(
        reader(rt), rt.services, fiscal_year, quarter, chosen, rt.settings.min_cell
    )
    return web.json_response(report)


async def text_parts(*texts: str) -> AsyncIterator[str]:
    """Texts as the parts of a download (a file made whole before it is sent)."""
    for text in texts:
        yield text


async def csv_download(
    request: web.Request, name: str, parts: AsyncIterator[str]
) -> web.StreamResponse:
    """A CSV file sent as its parts come (chunked: no length is known before the last row),
    named ``name`` (ours: no quote in it). The first part is read before anything is sent, so
    a store that cannot answer is still a 503; one that fails later ends the connection
    without the chunked body's end, which a client reads as a broken download, never as a
    shorter file."""
    first = await anext(parts, "")
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
    await stream(request, response)
    await response.write(first.encode())
    try:
        async for part in parts:
            await response.write(part.encode())
    except RetryableError as exc:
        log.error("download cut short route=%s error=%s", route_of(request), type(exc).__name__)
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response


async def delete_person(request: web.Request) -> web.Response:
    """Forget a person (``feedback-bot forget``)."""
    rt = admin(request)
    try:
        counts = await privacy.forget(rt, request.match_info["address"], ADMIN_ACTOR)
    except ValueError as exc:
        return json_error(400, str(exc))
    return web.json_response(counts)


async def get_audit(request: web.Request) -> web.Response:
    store = _store(admin(request))
    try:
        limit = min(int(request.query.get("limit", "100")), 1000)
        before = int(request.query["before"]) if "before" in request.query else None
    except ValueError:
        return json_error(400, "limit and before are whole numbers")
    if limit < 1 or (before is not None and not 0 < before < 2**31):  # an INTEGER column
        return json_error(400, "limit and before must be positive")
    narrow = {k: request.query[k] for k in ("target", "action") if k in request.query}
    if any(len(v) > 255 or "\x00" in v for v in narrow.values()):
        return json_error(400, "target and action are at most 255 characters")
    entries = await store.audit_entries(before=before, limit=limit, **narrow)
    following = entries[-1]["id"] if len(entries) == limit else None
    return web.json_response({"entries": entries, "before": following})


async def get_responses(request: web.Request) -> web.Response:
    store = reader(admin(request))
    query = request.query
    try:
        limit = min(int(query.get("limit", "100")), 1000)
        since = query_time(query["from"]) if "from" in query else None
        until = query_time(query["to"]) if "to" in query else None
        after = decode_cursor(query["cursor"]) if "cursor" in query else None
    except (ValueError, KeyError, binascii.Error):
        return json_error(400, "invalid limit, from, to or cursor (times: ISO 8601 with an offset)")
    if limit < 1:
        return json_error(400, "limit must be positive")
    if query.get("disposition", DISPOSITIONS[0]) not in DISPOSITIONS:
        return json_error(400, f"disposition must be one of {', '.join(DISPOSITIONS)}")
    if "service" in query and not SERVICE_ID.match(query["service"]):
        return json_error(400, "service must be a service id")
    records = await store.responses(
        service=query.get("service"),
        since=since,
        until=until,
        disposition=query.get("disposition"),
        after=after,
        limit=limit,
    )
    body: dict[str, Any] = {"responses": records, "next_cursor": None}
    if len(records) == limit:
        last = records[-1]
        body["next_cursor"] = encode_cursor(last["timestamps"]["ended"], last["response_id"])
    return web.json_response(body)


MAX_COMMENTS = 500  # a page of comments at most


def comment_page(query: Mapping[str, str]) -> tuple[tuple[str, str] | None, int]:
    """The paging of a comments request: its ``cursor`` and ``limit`` (default 50); ValueError
    when either is not one."""
    try:
        after = decode_cursor(query["cursor"]) if "cursor" in query else None
        limit = int(query.get("limit", "50"))
    except (ValueError, binascii.Error):
        raise ValueError("limit (1-500) and cursor (the next_cursor given)") from None
    if not 1 <= limit <= MAX_COMMENTS:
        raise ValueError("limit (1-500) and cursor (the next_cursor given)")
    return after, limit


async def get_comments(request: web.Request) -> web.Response:
    """Redacted comments, newest first, narrowed by ``comment_filter``'s parameters."""
    rt = admin(request)
    store = reader(rt)
    try:
        where = comment_filter(request.query, rt.services)
        after, limit = comment_page(request.query)
    except ValueError as exc:
        return json_error(400, str(exc))
    found = await store.comments(where, after=after, limit=limit)
    following = encode_cursor(found[-1]["date"], found[-1]["response_id"]) if (
        len(found) == limit) else None  # fmt: skip
    return web.json_response({"comments": found, "next_cursor": following})


def encode_cursor(ended: str, response_id: str) -> str:
    return base64.urlsafe_b64encode(f"{ended}|{response_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(ended time, response id) from a paging cursor; ValueError when it is not one of ours."""
    raw = base64.urlsafe_b64decode(cursor.encode("ascii", "strict"))
    ended, _, response_id = raw.decode("utf-8").partition("|")
    query_time(ended)
    if not RESPONSE_ID.match(response_id):
        raise ValueError("bad cursor")
    return ended, response_id


def query_time(value: str) -> datetime:
    """A time given in a query: ISO 8601 with an offset, in years 1900-2200 (so that it
    converts to UTC and compares without overflowing); ValueError otherwise."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or not 1900 <= moment.year <= 2200:
        raise ValueError("a time with an offset, years 1900-2200")
    return moment


ROUTES = [
    web.post("/v1/transactions", post_transactions),
    web.get("/v1/services", get_services),
    web.get("/v1/reports/a11", get_report),
    web.get("/v1/responses", get_responses),
    web.delete("/v1/people/{address}", delete_person),
    web.get("/v1/audit", get_audit),
    web.get("/v1/comments", get_comments),
]
