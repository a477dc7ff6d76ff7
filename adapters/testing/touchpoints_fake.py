"""A loopback stand-in for GSA Touchpoints, built from its code (github GSA/touchpoints).

A real HTTP server on 127.0.0.1. Its public submission endpoint follows
``SubmissionsController#create`` (spam field, referer allow-list, permitted fields, 201 with
the submission's uuid, 422 with ``messages``) and ``Submission#validate_answers`` (required
questions, checkbox and radio values); its API follows ``Api::V1::FormsController`` (the
``X-Api-Key`` header, ``/forms/{short_uuid}`` and ``/forms/{short_uuid}/responses``) with the
shapes of Touchpoints' ``public/api/v1/openapi.yml``. It can be told to fail as a service does:
an outage, and a submission taken whose answer never comes back.
"""

from __future__ import annotations

import asyncio
import math
import socket
import uuid as uuids
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from bot.core.a11 import DRIVERS

META_FIELDS = ("language", "location_code", "referer", "hostname", "page", "query_string",
               "fba_directive")  # fmt: skip
ANSWERS = tuple(f"answer_{n:02d}" for n in range(1, 31))


@dataclass
class Question:
    answer_field: str
    question_type: str
    text: str
    is_required: bool = False
    options: tuple[str, ...] = ()  # option values (checkbox, radio_buttons)


@dataclass
class FakeForm:
    short_uuid: str
    questions: list[Question]
    whitelist: list[str] = field(default_factory=list)
    kind: str = "a11_v2"
    id: int = 1
    name: str = "Version 2 of the A-11 Form"


def a11_v2_form(short_uuid: str, *, scale: str = "thumbs", whitelist: tuple[str, ...] = (),
                required_comment: bool = False) -> FakeForm:  # fmt: skip
    """An A-11 v2 form shaped like Touchpoints' seed (``db/seeds/forms/a11_v2.rb``), with the
    driver values ``Form#to_a11_v2_csv`` reads; ``scale="five_point"`` is the 1-5 variant."""
    trust = (
        Question("answer_01", "big_thumbs_up_down_buttons", "I trust the agency...", True,
                 ("1", "0"))
        if scale == "thumbs"
        else Question("answer_01", "radio_buttons", "I trust the agency...", True,
                      ("1", "2", "3", "4", "5"))
    )  # fmt: skip
    return FakeForm(
        short_uuid,
        [
            trust,
            Question("answer_02", "checkbox", "What went well?", False, DRIVERS),
            Question("answer_03", "checkbox", "What didn't go so well?", False, DRIVERS),
            Question("answer_04", "textarea", "Additional Comments", required_comment),
        ],
        list(whitelist),
    )


@dataclass
class Submission:
    id: int
    uuid: str
    form: str
    fields: dict[str, str]
    created_at: datetime
    user_agent: str


@dataclass
class FakeTouchpoints:
    """Forms, their submissions, and the failures to play."""

    api_key: str = "tp-api-key"
    forms: dict[str, FakeForm] = field(default_factory=dict)
    submissions: list[Submission] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)  # every submission request
    outage: int = 0  # answer this many submission requests 503
    lose_answers: int = 0  # take this many submissions, then hang until the client gives up
    api_outage: bool = False
    port: int = 0
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    def add(self, form: FakeForm) -> FakeForm:
        form.id = len(self.forms) + 1
        self.forms[form.short_uuid] = form
        return form

    def of(self, short_uuid: str) -> list[Submission]:
        return [s for s in self.submissions if s.form == short_uuid]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/touchpoints/{id}/submissions.json", self._submit)
        app.router.add_get("/api/v1/forms/{id}", self._form)
        app.router.add_get("/api/v1/forms/{id}/responses", self._responses)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # the public submission endpoint (SubmissionsController#create)
    async def _submit(self, request: web.Request) -> web.StreamResponse:
        form = self.forms.get(request.match_info["id"])
        if form is None:
            return web.Response(status=404, text="no form")  # ActiveRecord::RecordNotFound
        if request.content_type == "application/json":
            body = await request.json()
            raw = body.get("submission") if isinstance(body, dict) else None
        else:
            data = await request.post()
            raw = {k[11:-1]: str(v) for k, v in data.items()
                   if k.startswith("submission[") and k.endswith("]")}  # fmt: skip
        if not isinstance(raw, dict):
            return web.json_response({"status": 400, "error": "param is missing or the value is "
                                      "empty: submission"}, status=400)  # fmt: skip
        self.posts.append({"fields": dict(raw), "referer": request.headers.get("Referer")})
        if self.outage > 0:
            self.outage -= 1
            return web.Response(status=503, text="Service Unavailable")
        if raw.get("fba_directive"):
            return web.Response(status=200)  # spam: dropped without a word
        referer = request.headers.get("Referer") or raw.get("referer")
        if referer and not self._allowed(form, referer, request):
            return _unprocessable({"submission": ["unauthorized host"]})
        permitted = {q.answer_field for q in form.questions} | set(META_FIELDS)
        fields = {k: str(v) for k, v in raw.items() if k in permitted and v not in (None, "")}
        errors = self._validate(form, fields)
        if errors:
            return _unprocessable(errors)
        record = Submission(len(self.submissions) + 1, str(uuids.uuid4()), form.short_uuid,
                            fields, datetime.now(UTC),
                            request.headers.get("User-Agent", ""))  # fmt: skip
        self.submissions.append(record)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            await self._stopping.wait()  # taken, but the answer never comes back
        answers = {a: fields.get(a) for a in ANSWERS}
        return web.json_response(
            {"submission": {"id": record.uuid, **answers,
                            "form": {"id": str(uuids.uuid5(uuids.NAMESPACE_URL, form.short_uuid)),
                                     "name": form.name, "organization_name": "Example Agency",
                                     "success_text_heading": "Success",
                                     "success_text": "Thank you."}}},
            status=201,
        )  # fmt: skip

    def _allowed(self, form: FakeForm, referer: str, request: web.Request) -> bool:
        # allowed_submission_referer?: an allow-listed prefix, the app's own URL, or its host
        prefixes = [*form.whitelist, self.base_url + "/"]
        if any(referer.startswith(p) for p in prefixes if p):
            return True
        return referer.split("/")[2:3] == [request.host] if "://" in referer else False

    def _validate(self, form: FakeForm, fields: dict[str, str]) -> dict[str, list[str]]:
        # Submission#validate_answers, with the newer per-type checks enforced
        errors: dict[str, list[str]] = {}
        for q in form.questions:
            answer = fields.get(q.answer_field)
            if answer is None:
                if q.is_required:
                    errors.setdefault(q.answer_field, []).append("is required")
                continue
            if q.question_type == "checkbox":
                invalid = [v for v in answer.split(",") if v not in q.options]
                if invalid:
                    errors.setdefault("question", []).append(
                        f"{q.answer_field} contains invalid values: {', '.join(invalid)}"
                    )
            elif (q.question_type == "radio_buttons"
                  and q.options and answer not in q.options):  # fmt: skip
                errors.setdefault("question", []).append(
                    f"{q.answer_field} contains invalid values"
                )
        return errors

    # the API (Api::V1::FormsController)
    def _key_refused(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("X-Api-Key") or request.query.get("API_KEY")
        if not key:
            return web.json_response({"error": {"message": "Invalid request. No ?API_KEY= was "
                                                "passed in."}}, status=400)  # fmt: skip
        if key != self.api_key:
            return web.json_response({"error": {"message": "The API_KEY is not valid."}},
                                     status=401)  # fmt: skip
        if self.api_outage:
            return web.Response(status=503, text="Service Unavailable")
        return None

    async def _form(self, request: web.Request) -> web.Response:
        if refused := self._key_refused(request):
            return refused
        form = self.forms.get(request.match_info["id"])
        if form is None:
            return _not_found(request.match_info["id"])
        return web.json_response({"data": self.form_resource(form), "links": {}})

    async def _responses(self, request: web.Request) -> web.Response:
        if refused := self._key_refused(request):
            return refused
        form = self.forms.get(request.match_info["id"])
        if form is None:
            return _not_found(request.match_info["id"])
        q = request.query
        try:
            number = int(q.get("page[number]") or 1) or 1
            size = int(q.get("page[size]") or 500) or 500
            start = date.fromisoformat(q["start_date"]) if "start_date" in q else None
            end = date.fromisoformat(q["end_date"]) if "end_date" in q else None
        except ValueError:
            why = "invalid date format, should be 'YYYY-MM-DD'"
            return web.json_response({"error": {"message": why, "status": 400}}, status=400)
        if size > 5000:
            return web.json_response({"error": {"message": "max page size is 5000",
                                                "status": 400}}, status=400)  # fmt: skip
        rows = [s for s in self.of(form.short_uuid)
                if (start is None or s.created_at.date() >= start)
                and (end is None or s.created_at.date() <= end)]  # fmt: skip
        page = rows[(number - 1) * size : number * size]
        return web.json_response({
            "data": [self.submission_resource(s) for s in page],
            "meta": {"current_page": number, "page_size": size,
                     "total_pages": max(1, math.ceil(len(rows) / size)),
                     "total_count": len(rows)},
            "links": {"self": None},
        })  # fmt: skip

    def form_resource(self, form: FakeForm) -> dict[str, Any]:
        """A ``FormResource`` (Touchpoints' openapi.yml)."""
        stamp = "2026-10-01T12:00:00.000Z"
        whitelist: dict[str, str | None] = {f"whitelist_url_{n}": None for n in range(1, 10)}
        for n, url in enumerate(form.whitelist[1:10], 1):
            whitelist[f"whitelist_url_{n}"] = url
        attributes: dict[str, Any] = {
            "name": form.name, "title": "", "instructions": "", "disclaimer_text": "",
            "kind": form.kind, "notes": None, "status": None, "created_at": stamp,
            "updated_at": stamp, "whitelist_url": form.whitelist[0] if form.whitelist else "",
            **whitelist, "whitelist_test_url": "", "header_logo_display": "banner",
            "success_text_heading": "Success", "success_text": "Thank you.",
            "modal_button_text": "Click here to leave feedback", "early_submission": True,
            "template": False, "uuid": str(uuids.uuid5(uuids.NAMESPACE_URL, form.short_uuid)),
            "short_uuid": form.short_uuid, "organization_id": 1, "user_id": 1,
            "audience": "public", "omb_approval_number": "1234-5678",
            "expiration_date": None, "medium": None, "federal_register_url": None,
            "anticipated_delivery_count": None, "service_name": None,
            "data_submission_comment": None, "survey_instrument_reference": None,
            "agency_poc_email": None, "agency_poc_name": None, "department": None,
            "bureau": None, "notification_emails": None, "start_date": None,
            "end_date": None, "aasm_state": "published", "delivery_method": "modal",
            "load_css": True, "survey_form_activations": 0,
            "response_count": len(self.of(form.short_uuid)),
            "last_response_created_at": None,
            "logo": {"url": None, "thumb": {"url": None}, "card": {"url": None},
                     "tag": {"url": None}, "logo_square": {"url": None}},
            "time_zone": "Eastern Time (US & Canada)", "tag_list": [],
        }  # fmt: skip
        questions = [
            {"id": n, "form_id": form.id, "text": q.text, "question_type": q.question_type,
             "answer_field": q.answer_field, "position": n, "is_required": q.is_required,
             "form_section_id": form.id, "character_limit": None, "placeholder_text": None,
             "help_text": None, "created_at": stamp, "updated_at": stamp}
            for n, q in enumerate(form.questions, 1)
        ]  # fmt: skip
        return {"id": str(form.id), "type": "forms", "attributes": attributes,
                "relationships": {"questions": {"data": questions},
                                  "service": {"data": None}}}  # fmt: skip

    def submission_resource(self, s: Submission) -> dict[str, Any]:
        """A ``SubmissionResource`` (Touchpoints' openapi.yml)."""
        stamp = s.created_at.isoformat().replace("+00:00", "Z")
        attributes: dict[str, Any] = {
            "user_id": None, "created_at": stamp, "updated_at": stamp,
            "referer": s.fields.get("referer", ""), "hostname": s.fields.get("hostname"),
            "page": s.fields.get("page", ""), "query_string": s.fields.get("query_string"),
            "user_agent": s.user_agent, **{a: s.fields.get(a) for a in ANSWERS},
            "ip_address": "", "location_code": s.fields.get("location_code", ""),
            "flagged": False, "archived": False, "deleted": False, "deleted_at": None,
            "aasm_state": "received", "language": s.fields.get("language", ""),
            "uuid": s.uuid, "tags": [],
        }  # fmt: skip
        return {"id": str(s.id), "type": "submissions", "attributes": attributes}


def _unprocessable(messages: dict[str, list[str]]) -> web.Response:
    return web.json_response({"status": "unprocessable_content", "messages": messages},
                             status=422)  # fmt: skip


def _not_found(short_uuid: str) -> web.Response:
    return web.json_response(
        {"error": {"message": f"no form with Short UUID of {short_uuid}", "status": 404}},
        status=404,
    )
