"""GSA Touchpoints as a sink: each response (its trust item answered) becomes a submission of
its service's A-11 v2 form, as if the person had filled the form on the agency's page.

The form's definition is read from Touchpoints' API at start-up and checked against the
service's flow (``bot.core.touchpoints.map_form``): a mismatch stops start-up. Touchpoints has
no idempotency key, so an attempt is noted in the store before each post and the submission's
id once it is taken: a response with an id is never posted again, and after an attempt whose
outcome is unknown (a timeout) the submission is looked up through the API (by the response id
it carries and its answers) before posting again. 4xx answers are permanent (the record is
dead-lettered with Touchpoints' message); 429, 5xx and timeouts are retried.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from bot.core.catalog import Service
from bot.core.flow import Flow
from bot.core.payload import dig
from bot.core.response import is_respondent
from bot.core.secret import Secret
from bot.core.sinks import ForwardLog, ResponseRecord, SinkError
from bot.core.touchpoints import Form, FormMap, map_form, parse_form, same_submission, submission

log = logging.getLogger("bot.touchpoints")
NAME = "touchpoints"
PAGE_SIZE = 500


class TouchpointsError(Exception):
    """Touchpoints could not be asked (unreachable, or it refused the API key)."""


class TouchpointsSink:
    """Forwards responses to the Touchpoints forms the catalog names (``touchpoints_form``)."""

    name = NAME

    def __init__(
        self,
        url: str,
        api_url: str,
        api_key: Secret,
        public_base_url: str,
        services: Mapping[str, Service],
        flows: Mapping[str, Flow],
        log_: ForwardLog | None,
        *,
        clock: Callable[[], datetime] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.public_base_url = public_base_url.rstrip("/")
        self.services = {k: s for k, s in services.items() if s.touchpoints_form}
        self.flows = flows
        self.forwards = log_
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.timeout = timeout
        self.maps: dict[str, FormMap] = {}
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"TouchpointsSink({self.url!r}, forms={len(self.services)})"

    def use(self, services: Mapping[str, Service], flows: Mapping[str, Flow]) -> None:
        """The catalog and flows as they now are (an admin changed them at run time): each
        form is read and mapped again before its next submission."""
        self.services = {k: s for k, s in services.items() if s.touchpoints_form}
        self.flows = flows
        self.maps.clear()

    async def open(self) -> None:
        """Open the connection pool."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def start(self) -> None:
        """Open the connection pool; read and check every form (``check``). Problems with a
        form stop start-up (``ValueError``, one line each); an unreachable Touchpoints does
        not — the forms are read again before the first submission."""
        await self.open()
        try:
            problems = await self.check()
        except TouchpointsError as exc:
            log.warning("touchpoints: forms not checked at start-up, checked before the first "
                        "submission: %s", exc)  # fmt: skip
            return
        if problems:
            await self.close()
            raise ValueError("\n".join(problems))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def check(self) -> list[str]:
        """Read each service's form and check it against its flow; the problems, one line
        each (none: every form is mapped). TouchpointsError when Touchpoints cannot be asked."""
        problems: list[str] = []
        for service in self.services.values():
            assert service.touchpoints_form is not None
            try:
                form = await self.form(service.touchpoints_form)
            except LookupError as exc:
                problems.append(f"service {service.id}: {exc}")
                continue
            mapped, found = map_form(service, self.flows[service.flow], form, self.public_base_url)
            problems += found
            if mapped is not None:
                self.maps[service.id] = mapped
        return problems

    async def form(self, short_uuid: str) -> Form:
        """A form's definition from the API; LookupError when Touchpoints has no such form."""
        status, body = await self._api(f"/forms/{short_uuid}")
        if status == 404:
            raise LookupError(
                f"Touchpoints has no form {short_uuid} (or the API key cannot see it)"
            )
        try:
            return parse_form(body)
        except ValueError as exc:
            raise TouchpointsError(f"form {short_uuid}: {exc}") from None

    async def _api(self, path: str, params: Mapping[str, str] | None = None) -> tuple[int, Any]:
        assert self._session is not None, "start() first"
        headers = {"X-Api-Key": self.api_key.reveal(), "Accept": "application/json"}
        try:
            async with self._session.get(self.api_url + path, params=params, headers=headers) as r:
                if r.status in (401, 403):
                    raise TouchpointsError(f"the API refused TOUCHPOINTS_API_KEY ({r.status})")
                if r.status >= 500 or r.status == 429:
                    raise TouchpointsError(f"the API answered {r.status}")
                return r.status, await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            raise TouchpointsError(f"{self.api_url} unreachable: {type(exc).__name__}") from None

    async def write(self, record: ResponseRecord) -> None:
        service = self.services.get(record["service_id"])
        if service is None or not is_respondent(record):
            return  # no form for this service, or not a response in the OMB sense
        assert self.forwards is not None, "a sink that writes needs its forward log"
        form = await self._map(service)
        response_id = record["response_id"]
        fields = submission(record, form, self.public_base_url)
        before = await self.forwards.forward(response_id, NAME)
        if before is not None and before.remote_id:
            return  # Touchpoints took it already
        if before is not None:
            found = await self._find(form, fields, before.attempted_at)
            if found:
                await self.forwards.forwarded(response_id, NAME, found, self.clock())
                return
        await self.forwards.forward_attempted(response_id, NAME, self.clock())
        remote_id = await self._post(form, fields)
        await self.forwards.forwarded(response_id, NAME, remote_id, self.clock())

    async def _map(self, service: Service) -> FormMap:
        if service.id not in self.maps:
            try:
                problems = await self.check()
            except TouchpointsError as exc:
                raise SinkError(f"touchpoints: {exc}", retryable=True) from None
            if service.id not in self.maps:
                raise SinkError("touchpoints: " + "; ".join(problems), retryable=False)
        return self.maps[service.id]

    async def _post(self, form: FormMap, fields: dict[str, str]) -> str:
        assert self._session is not None, "start() first"
        url = f"{self.url}/touchpoints/{form.short_uuid}/submissions.json"
        headers = {"Referer": self.public_base_url, "Accept": "application/json"}
        try:
            async with self._session.post(url, json={"submission": fields}, headers=headers) as r:
                text = await r.text()
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            # It may have been taken: the next try looks it up before posting again.
            raise SinkError(
                f"touchpoints: no answer ({type(exc).__name__})", retryable=True
            ) from None
        if status == 429 or status >= 500:
            raise SinkError(f"touchpoints answered {status}", retryable=True)
        body = _json(text)
        if status >= 400:
            messages = body.get("messages") if isinstance(body, dict) else None
            raise SinkError(f"touchpoints refused the submission ({status}): "
                            f"{json.dumps(messages or text[:300])}", retryable=False)  # fmt: skip
        remote_id = dig(body, "submission", "id")
        if not isinstance(remote_id, str) or not remote_id:
            raise SinkError(
                f"touchpoints answered {status} without a submission id", retryable=True
            )
        return remote_id

    async def _find(self, form: FormMap, fields: Mapping[str, str], since: datetime) -> str | None:
        """The id of a submission already made of these fields (an attempt whose answer was
        lost), looked up among the form's responses since the attempt."""
        params = {
            "start_date": (since - timedelta(days=1)).date().isoformat(),
            "end_date": (self.clock() + timedelta(days=1)).date().isoformat(),
            "page[size]": str(PAGE_SIZE),
        }
        page = 1
        while True:
            try:
                status, body = await self._api(
                    f"/forms/{form.short_uuid}/responses", {**params, "page[number]": str(page)}
                )
            except TouchpointsError as exc:
                raise SinkError(f"touchpoints: cannot look up an earlier attempt: {exc}",
                                retryable=True) from None  # fmt: skip
            if status != 200:
                raise SinkError(f"touchpoints: looking up an earlier attempt answered {status}",
                                retryable=True)  # fmt: skip
            for item in body.get("data") or ():
                attributes = item.get("attributes") or {}
                if same_submission(attributes, fields):
                    return str(attributes.get("uuid") or item.get("id"))
            if page >= int(dig(body, "meta", "total_pages") or 1):
                return None
            page += 1


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
