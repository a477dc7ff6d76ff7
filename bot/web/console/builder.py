"""The survey builder's pages (admins only): a flow in forms, kept as the YAML the editor
shows (``bot.core.builder`` converts both ways). Every posted form is written into the flow's
text and checked exactly as ``flows check`` checks a file; every error is shown at its field,
all at once. No script is needed: adding, removing or moving a question is a button that
posts the form; with script, segment counts follow typing and placeholders insert at the
cursor."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from bot.core import builder
from bot.core.errors import FlowError
from bot.core.library import read_flow_text
from bot.core.preview import SAMPLE_CONTEXT
from bot.service.library import MAX_FLOW_TEXT, Live, Refused
from bot.service.runtime import Runtime
from bot.web.console.auth import PATH, Staff
from bot.web.console.pages import Wrap, see_other

Render = Callable[..., web.Response]
FLOW_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
TEMPLATES = {  # what a new flow starts from: a built-in flow's active text, or a skeleton
    "a11-v2-thumbs": "A-11 v2, trust as thumbs up or down",
    "a11-v2-scale": "A-11 v2, trust on a scale of 1 to 5",
    "a11-v1": "A-11 v1, the 2019–2022 five-point items",
    "custom": "Custom: one question to start from",
}
CUSTOM = """\
id: {id}
title: {title}
instrument: custom
default_language: en
languages: [en, es]
messages:
  intro:
    en: "{{agency}}: a question about {{service}}. {{opt_out}} {{omb_notice}}"
    es: "{{agency}}: una pregunta sobre {{service}}. {{opt_out}} {{omb_notice}}"
  omb_notice:
    en: "OMB {{omb_control_number}}"
    es: "OMB {{omb_control_number}}"
  closing:
    en: "Thank you!"
    es: "¡Gracias!"
  closed:
    en: "This survey has closed. Thank you for your time."
    es: "La encuesta ha cerrado. Gracias por su tiempo."
questions:
  - id: question_1
    type: text
    prompt:
      en: "What could we do better?"
      es: "¿Qué podríamos mejorar?"
"""


def anchors(form: builder.Form) -> set[str]:
    """Every place on the builder's page an error can be shown at (the fields' paths)."""
    out = {"id", "title", "instrument", "default_language", "languages", "version"}
    for m in form.messages:
        out.add(f"messages.{m['name']}")
        out.update(f"messages.{m['name']}.{lang}" for lang in form.languages)
    for q in form.questions:
        p = f"questions[{q['index']}]"
        out.update({p, f"{p}.prompt", f"{p}.reprompt", f"{p}.options"})
        out.update(f"{p}.{k}" for k in ("id", "type", "field", "scale", "positive_from",
                                         "rating", "max_attempts", "max_length"))  # fmt: skip
        for lang in form.languages:
            out.update({f"{p}.prompt.{lang}", f"{p}.reprompt.{lang}"})
            for branch in ("positive", "negative"):
                out.update({f"{p}.prompt.{branch}", f"{p}.prompt.{branch}.{lang}"})
        for j, _ in enumerate(q["options"]):
            out.update({f"{p}.options[{j}]", f"{p}.options[{j}].value",
                        f"{p}.options[{j}].label"})  # fmt: skip
            out.update(f"{p}.options[{j}].label.{lang}" for lang in form.languages)
    return out


def place(errors: list[FlowError], form: builder.Form) -> dict[str, list[str]]:
    """Each error at the nearest field or group the page shows (``""``: the page's top)."""
    shown = anchors(form)
    placed: dict[str, list[str]] = {}
    for error in errors:
        path = error.path
        while path and path not in shown:
            path = _LAST.sub("", path) if _LAST.search(path) else ""
        placed.setdefault(path, []).append(error.message)
    return placed


_LAST = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")  # a path's last step: ``.name`` or ``[3]``


class BuilderPages:
    """Routes and handlers of the builder; ``page`` wraps an admin's page, ``change`` a
    posted change."""

    def __init__(self, render: Render, page: Wrap, change: Wrap) -> None:
        self.render, self.page, self.change = render, page, change

    def routes(self) -> list[web.RouteDef]:
        flow = PATH + "/flows/{flow_id}/builder"
        return [
            web.get(PATH + "/builder", self.page(self.start)),
            web.post(PATH + "/builder", self.change(self.post)),
            web.get(flow, self.page(self.open)),
            web.post(flow, self.change(self.post)),
        ]

    def _live(self, rt: Runtime) -> Live:
        if rt.library is None:
            raise web.HTTPServiceUnavailable(text="flows and services are the files' alone here")
        return rt.library

    async def start(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        """A new flow: its id, title and what it starts from; then the builder."""
        live = self._live(rt)
        query = request.query
        chosen = {k: query.get(k, "").strip() for k in ("id", "title", "start")}
        errors: dict[str, str] = {}
        if "id" in query:
            if not FLOW_ID.match(chosen["id"]):
                errors["id"] = ("Use 2 to 63 lower-case letters, digits and hyphens, "
                                "starting with a letter or digit.")  # fmt: skip
            elif await live.store.flow_versions(chosen["id"]):
                errors["id"] = "A flow with this id exists: open it from the Flows page."
            if not chosen["title"]:
                errors["title"] = "Give the flow a title."
            if chosen["start"] not in TEMPLATES or (
                chosen["start"] != "custom" and chosen["start"] not in rt.flows
            ):
                errors["start"] = "Choose what the flow starts from."
            if not errors:
                text = await self._template(rt, chosen["start"], chosen["id"], chosen["title"])
                return await self._builder(rt, staff, None, text)
        starts = {k: v for k, v in TEMPLATES.items() if k == "custom" or k in rt.flows}
        return self.render("builder_start.html", 422 if errors else 200, staff,
                           chosen=chosen, errors=errors, starts=starts)  # fmt: skip

    async def _template(self, rt: Runtime, start: str, flow_id: str, title: str) -> str:
        if start == "custom":
            return CUSTOM.format(id=flow_id, title=json.dumps(title, ensure_ascii=False))
        kept = await self._live(rt).version(start, rt.flows[start].version)
        data = builder.load(kept.text)
        data["id"], data["title"] = flow_id, title
        data.pop("version", None)
        return builder.dump(data)

    async def open(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        """An existing flow in the builder: its active version, or ``?from=`` a version."""
        flow_id = request.match_info["flow_id"]
        live = self._live(rt)
        try:
            versions = await live.versions(flow_id)
        except Refused as exc:
            return self.render("error.html", exc.status, staff, message=exc.errors[0].message)
        active = rt.flows[flow_id].version if flow_id in rt.flows else None
        wanted = request.query.get("from") or active
        chosen = next((v for v in versions if v.version == wanted), versions[-1])
        return await self._builder(rt, staff, flow_id, chosen.text, start=chosen.version)

    async def post(self, request: web.Request, rt: Runtime, staff: Staff) -> web.Response:
        live = self._live(rt)
        flow_id = request.match_info.get("flow_id")
        posted = await request.post()

        def get(name: str) -> str:
            value = posted.get(name, "")
            return value if isinstance(value, str) else ""

        def get_all(name: str) -> list[str]:
            return [v for v in posted.getall(name, []) if isinstance(v, str)]

        base = get("base").replace("\r\n", "\n")
        if len(base.encode("utf-8", "surrogatepass")) > MAX_FLOW_TEXT:
            return self.render("error.html", 413, staff, message="This flow is too long.")
        do = get("do")
        new = flow_id is None
        flow_id = get("id").strip() if flow_id is None else flow_id
        structural = do not in ("save", "check")
        try:
            text, errors = await asyncio.to_thread(
                builder.apply, base, get, get_all, do if structural else ""
            )
        except builder.Unreadable as exc:
            return self.render("error.html", 422, staff,
                               message=f"This flow cannot be opened in the builder: {exc}. "
                               "Use the YAML editor.")  # fmt: skip
        if structural:  # a question added, removed or moved: the form again, nothing judged
            return await self._builder(rt, staff, None if new else flow_id, text)
        if new and (not FLOW_ID.match(flow_id) or await live.store.flow_versions(flow_id)):
            why = ("A flow with this id exists: open it from the Flows page."
                   if FLOW_ID.match(flow_id)
                   else "Use lower-case letters, digits and hyphens.")  # fmt: skip
            errors.append(FlowError("builder", "id", why))
        if do == "save" and not errors:
            try:
                version, *_ = await live.put_flow(flow_id, text, staff.name)
            except Refused as exc:
                errors = exc.errors
            else:
                return see_other(f"{PATH}/flows/{flow_id}/versions/{version.version}")
        else:  # checked, not kept: every error of the builder's fields and of the flow's checks
            _, found = await asyncio.to_thread(read_flow_text, text, flow_id, f"flow {flow_id}")
            errors += [e for e in found if e.path not in {x.path for x in errors}]
        return await self._builder(rt, staff, None if new else flow_id, text, errors=errors,
                                   checked=True)  # fmt: skip

    async def _builder(
        self, rt: Runtime, staff: Staff, flow_id: str | None, text: str, *,
        errors: list[FlowError] | None = None, checked: bool = False, start: str | None = None,
    ) -> web.Response:  # fmt: skip
        try:
            form = await asyncio.to_thread(builder.form_of, text)
        except builder.Unreadable as exc:
            return self.render("error.html", 422, staff,
                               message=f"This flow cannot be opened in the builder: {exc}. "
                               "Use the YAML editor.")  # fmt: skip
        errors = errors or []
        services = sorted((s for s in rt.services.values() if s.flow == (flow_id or form.id)),
                          key=lambda s: s.name)  # fmt: skip
        context = (
            services[0].context()
            if services
            else {**SAMPLE_CONTEXT, "provider": SAMPLE_CONTEXT["agency"]}
        )
        notice: dict[str, str] = next(
            (m["texts"] for m in form.messages if m["name"] == "omb_notice"), {}
        )
        filled = builder.fill({**SAMPLE_CONTEXT, **context}, notice)
        return self.render(
            "builder.html", 422 if errors else 200, staff, form=form, flow_id=flow_id,
            errors=errors, placed=place(errors, form), checked=checked, start=start,
            filled=filled, fill_json=json.dumps(filled, ensure_ascii=False),
            sms=lambda template, lang: builder.sms(template, filled.get(lang, {})),
            counted_for=services[0].name if services else "sample names",
            types=builder.TYPES, fields=builder.FIELDS, instruments=builder.INSTRUMENTS,
            drivers=builder.DRIVER_CHOICES, placeholders=builder.PLACEHOLDER_LIST,
            language_names=names(form.languages),
        )  # fmt: skip


def names(languages: list[str]) -> Mapping[str, str]:
    """Each language's name for people (its code where the builder knows no name)."""
    known: dict[str, Any] = {**builder.LANGUAGES}
    return {**{lang: known.get(lang, lang) for lang in languages}, **known}
