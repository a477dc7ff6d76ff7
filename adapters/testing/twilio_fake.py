"""A loopback stand-in for Twilio's Messages API (and a simulated caller for Voice), for the
demo, tests and benchmarks.

A real HTTP server on 127.0.0.1 that the real ``twilio`` client talks to. It records every
message, can be told to fail the way Twilio fails, and can send genuinely signed status
callbacks.
"""

from __future__ import annotations

import asyncio
import base64
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.core.segments import segment_info


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    created: datetime
    status: str = "queued"

    def resource(self, account_sid: str) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "direction": "outbound-api",
            "num_segments": str(segment_info(self.body).segments),
            "num_media": "0",
            "date_created": format_datetime(self.created),
            "date_updated": format_datetime(self.created),
            "date_sent": format_datetime(self.created),
            "error_code": None,
            "error_message": None,
            "price": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{self.sid}.json",
        }


@dataclass
class FakeTwilio:
    """The fake API. ``failures`` maps a number to (HTTP status, Twilio error code)."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-auth-token"
    messages: list[FakeMessage] = field(default_factory=list)
    failures: dict[str, tuple[int, int]] = field(default_factory=dict)
    fail_next: list[tuple[int, int]] = field(default_factory=list)
    delay: float = 0.0
    arrival_delay: float = 0.0  # the request takes this long to reach Twilio: no message before
    on_send: Callable[[FakeMessage], None] | None = None
    requests: int = 0
    _runner: web.AppRunner | None = None
    base_url: str = ""
    # Voice: the calls placed; per number, what its caller answers (a script), who answers
    # when machine detection is asked (AMD: "human" unless told), or the status of a call
    # never connected ("busy", "no-answer"). With ``post_to`` set (how the app under test is
    # reached from its public URL), each call is driven at once, its webhooks signed.
    calls: list[FakeCall] = field(default_factory=list)
    callers: dict[str, list[Answer]] = field(default_factory=dict)
    answered_by: dict[str, str] = field(default_factory=dict)
    unreached: dict[str, str] = field(default_factory=dict)
    post_to: Callable[[str], str] | None = None
    on_say: Callable[[str], None] | None = None
    _driving: set[asyncio.Task[None]] = field(default_factory=set)
    _session: aiohttp.ClientSession | None = None

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        prefix = "/2010-04-01/Accounts/{account}/Messages"
        app.router.add_post(prefix + ".json", self._create)
        app.router.add_get(prefix + ".json", self._list)
        app.router.add_get(prefix + "/{sid}.json", self._fetch)
        calls = "/2010-04-01/Accounts/{account}/Calls.json"
        app.router.add_post(calls, self._create_call)
        app.router.add_get(calls, self._list_calls)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", port))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        await self.settle()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def settle(self) -> None:
        """Wait for the calls being driven to end."""
        while self._driving:
            await asyncio.gather(*self._driving, return_exceptions=True)

    async def _create_call(self, request: web.Request) -> web.Response:
        self.requests += 1
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        form = await request.post()
        to, sender, url = (str(form.get(k, "")) for k in ("To", "From", "Url"))
        if not to or not sender or not url:
            return self._error(400, 21205, "To, From and Url are required")
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            return self._error(status, code, "scripted failure")
        callback = form.get("StatusCallback")
        detection = form.get("MachineDetection")
        placed = FakeCall(sid="CA" + secrets.token_hex(16), to=to, from_=sender, url=url,
                          status_callback=str(callback) if callback else None,
                          machine_detection=str(detection) if detection else None)  # fmt: skip
        self.calls.append(placed)
        if self.post_to is not None:
            task = asyncio.create_task(self._drive(placed, self.post_to))
            self._driving.add(task)
            task.add_done_callback(self._driving.discard)
        return web.json_response(self._call_resource(placed), status=201)

    async def _list_calls(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        to = request.query.get("To")
        found = [self._call_resource(c) for c in self.calls if not to or c.to == to]
        return web.json_response(
            {"calls": found, "page": 0, "page_size": 50, "next_page_uri": None, "uri": ""}
        )

    def _call_resource(self, placed: FakeCall) -> dict[str, Any]:
        return {"sid": placed.sid, "account_sid": self.account_sid, "to": placed.to,
                "from": placed.from_, "status": placed.status, "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{placed.sid}.json",
                }  # fmt: skip

    async def _drive(self, placed: FakeCall, post_to: Callable[[str], str]) -> None:
        """Twilio's side of a placed call: it rings; a person (or a machine) answers and the
        call follows the bot's TwiML; then the status callback says how it ended."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        unreached = self.unreached.get(placed.to)
        if unreached is None:
            if placed.machine_detection:
                placed.answered_by = self.answered_by.get(placed.to, "human")
            script = self.callers.get(placed.to, [])
            await converse(self._session, self.auth_token, placed, script, post_to,
                           self.account_sid, on_say=self.on_say)  # fmt: skip
        placed.status = unreached or "completed"
        await self.call_status(placed, placed.status, post_to)

    async def call_status(
        self, placed: FakeCall, status: str, post_to: Callable[[str], str]
    ) -> int:
        """POST a call's signed status callback, as Twilio does when it ends."""
        if not placed.status_callback:
            return 0
        if self._session is None:
            self._session = aiohttp.ClientSession()
        params = {"CallSid": placed.sid, "CallStatus": status, "AccountSid": self.account_sid,
                  "To": placed.to, "From": placed.from_}  # fmt: skip
        async with signed_post(self._session, self.auth_token, placed.status_callback, params,
                               post_to) as response:  # fmt: skip
            return int(response.status)

    def sent_to(self, number: str) -> list[FakeMessage]:
        return [m for m in self.messages if m.to.removeprefix("whatsapp:") == number]

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}" and (
            request.match_info["account"] == self.account_sid
        )

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        body = {"code": code, "message": message, "more_info": "", "status": status}
        return web.json_response(body, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.arrival_delay:  # still on its way: a lookup meanwhile finds nothing
            await asyncio.sleep(self.arrival_delay)
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        form = await request.post()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        sender = str(form.get("From") or form.get("MessagingServiceSid") or "")
        if not to or not sender:
            return self._error(400, 21604, "A 'To' and a 'From' are required")
        if self.fail_next:
            status, code = self.fail_next.pop(0)
            return self._error(status, code, "scripted failure")
        failure = self.failures.get(to.removeprefix("whatsapp:"))
        if failure is not None:
            return self._error(failure[0], failure[1], "scripted failure")
        callback = form.get("StatusCallback")
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            to=to,
            from_=sender,
            body=body,
            status_callback=str(callback) if callback else None,
            created=datetime.now(UTC),
        )
        self.messages.append(message)
        if self.on_send is not None:
            self.on_send(message)
        if self.delay:  # accepted, but the answer is slow (the caller may time out)
            await asyncio.sleep(self.delay)
        return web.json_response(message.resource(self.account_sid), status=201)

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        to = request.query.get("To")
        found = [m.resource(self.account_sid) for m in self.messages if not to or m.to == to]
        return web.json_response(
            {"messages": found, "page": 0, "page_size": 50, "next_page_uri": None, "uri": ""}
        )

    async def _fetch(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        for m in self.messages:
            if m.sid == request.match_info["sid"]:
                return web.json_response(m.resource(self.account_sid))
        return self._error(404, 20404, "not found")

    async def send_status(
        self,
        session: aiohttp.ClientSession,
        message: FakeMessage,
        status: str,
        *,
        error_code: int | None = None,
        post_to: str | None = None,
    ) -> int:
        """POST a signed status callback for ``message``, as Twilio would; returns the HTTP
        status. ``post_to`` is where to send it when the public URL is a proxy's."""
        if not message.status_callback:
            raise ValueError("message has no status callback")
        params = {
            "MessageSid": message.sid,
            "MessageStatus": status,
            "AccountSid": self.account_sid,
            "To": message.to,
            "From": message.from_,
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        message.status = status
        signature = RequestValidator(self.auth_token).compute_signature(
            message.status_callback, params
        )
        if post_to is not None and "?" in message.status_callback:
            post_to += "?" + message.status_callback.split("?", 1)[1]
        async with session.post(
            post_to or message.status_callback,
            data=params,
            headers={"X-Twilio-Signature": signature},
        ) as response:
            return response.status


# What a simulated caller does at a <Gather>: press keys ({"Digits": "1"}), speak
# ({"SpeechResult": "sí"}), say nothing ({}), or hang up (None).
Answer = dict[str, str] | None


@dataclass
class FakeCall:
    """A call the fake connects: the TwiML it was given, what the bot said (language, words)
    and each gather's attributes."""

    sid: str
    to: str
    from_: str
    url: str
    status_callback: str | None = None
    machine_detection: str | None = None
    answered_by: str | None = None
    status: str = "queued"
    said: list[tuple[str, str]] = field(default_factory=list)
    gathers: list[dict[str, str]] = field(default_factory=list)
    ended_by: str = ""  # "bot" (a <Hangup/>) or "caller" (the script ran out)
    # Transcriptions of its recordings, still to be posted: (callback URL, form).
    transcriptions: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def words(self) -> str:
        return " ".join(text for _, text in self.said)


def signed_post(
    session: aiohttp.ClientSession, auth_token: str, url: str, params: dict[str, str],
    post_to: Callable[[str], str],
) -> Any:  # fmt: skip
    """POST a form as Twilio does: signed over the public ``url`` (its query too), sent to
    ``post_to(url)`` (the app under test behind its public address)."""
    signature = RequestValidator(auth_token).compute_signature(url, params)
    return session.post(post_to(url), data=params, headers={"X-Twilio-Signature": signature})


async def converse(
    session: aiohttp.ClientSession, auth_token: str, call: FakeCall, script: list[Answer],
    post_to: Callable[[str], str], account_sid: str = "AC" + "0" * 32,
    timings: list[float] | None = None, pause: float = 0.0,
    on_say: Callable[[str], None] | None = None,
) -> FakeCall:  # fmt: skip
    """Follow a call's TwiML as Twilio does, from its URL: each <Say> is kept (and printed by
    the demo), each <Gather> answered from ``script`` and its action requested, signed; ends
    at a <Hangup/> or when the script runs out (the caller hangs up). Each request's seconds
    go to ``timings`` (the benchmark's); ``pause``: about how long the caller listens before
    answering (0.5 to 1.5 times it, at random); ``on_say`` hears each <Say> (``twilio-fake``
    prints them)."""
    url, params = call.url, _call_params(call, account_sid)
    if call.answered_by:
        params["AnsweredBy"] = call.answered_by
    answers = list(script)
    call.status = "in-progress"
    while True:
        started = time.perf_counter()
        async with signed_post(session, auth_token, url, params, post_to) as response:
            if response.status != 200:
                raise AssertionError(f"the bot answered {response.status}: {await response.text()}")
            twiml = await response.text()
        if timings is not None:
            timings.append(time.perf_counter() - started)
        root = ElementTree.fromstring(twiml)
        gather = record = None
        for verb in root:
            for say in verb.iter("Say"):  # said alone, or inside a <Gather>
                call.said.append((say.get("language", ""), say.text or ""))
                if on_say is not None:
                    on_say(say.text or "")
            if verb.tag == "Gather":
                gather = verb
                call.gathers.append(dict(verb.attrib))
            elif verb.tag == "Record":
                record = verb
                call.gathers.append(dict(verb.attrib))
            elif verb.tag == "Hangup":
                call.ended_by = "bot"
                return call
        if record is not None and answers and answers[0] is not None:
            # A recording: its length and the key that ended it now, its words later.
            said = dict(answers.pop(0) or {})
            words = said.pop("TranscriptionText", None)
            sid = "RE" + secrets.token_hex(16)
            if words is not None and record.get("transcribeCallback"):
                call.transcriptions.append((record.get("transcribeCallback", ""), {
                    "CallSid": call.sid, "RecordingSid": sid, "AccountSid": account_sid,
                    "TranscriptionStatus": said.pop("TranscriptionStatus", "completed"),
                    "TranscriptionText": words}))  # fmt: skip
            url = record.get("action", "")
            params = {**_call_params(call, account_sid), "RecordingSid": sid,
                      "RecordingUrl": f"https://api.twilio.com/recordings/{sid}",
                      "RecordingDuration": "0", "Digits": "#", **said}  # fmt: skip
            continue
        if gather is None or not answers:
            call.ended_by = "caller"
            return call
        answer = answers.pop(0)
        if pause:
            await asyncio.sleep(random.uniform(0.5 * pause, 1.5 * pause))
        if answer is None:
            call.ended_by = "caller"
            return call
        url = gather.get("action", "")
        params = {**_call_params(call, account_sid), **answer}


async def transcribe(
    session: aiohttp.ClientSession, auth_token: str, call: FakeCall,
    post_to: Callable[[str], str],
) -> list[int]:  # fmt: skip
    """POST each of a call's transcriptions, signed, as Twilio does once it has them (after
    the call); returns the HTTP statuses."""
    statuses = []
    while call.transcriptions:
        url, params = call.transcriptions.pop(0)
        async with signed_post(session, auth_token, url, params, post_to) as response:
            statuses.append(int(response.status))
    return statuses


def _call_params(call: FakeCall, account_sid: str) -> dict[str, str]:
    return {"CallSid": call.sid, "AccountSid": account_sid, "From": call.from_, "To": call.to,
            "CallStatus": call.status, "Direction": "inbound"}  # fmt: skip


def caller_script(text: str) -> list[Answer]:
    """A simulated caller's answers from one line (``twilio-fake --caller``), comma-separated:
    keys (``1``, ``13``, ``#``, ``*``, ``9``), ``say:`` and words spoken, ``-`` silence,
    ``hangup``."""
    script: list[Answer] = []
    for part in (p.strip() for p in text.split(",")):
        if part == "hangup":
            script.append(None)
        elif part == "-":
            script.append({})
        elif part.startswith("say:"):
            script.append({"SpeechResult": part.removeprefix("say:").strip()})
        elif part and all(c in "0123456789*#" for c in part):
            script.append({"Digits": part.removesuffix("#") if len(part) > 1 else part})
        else:
            raise ValueError(f"not a key, say:words, - or hangup: {part!r}")
    return script


def new_call(to: str, from_: str, url: str) -> FakeCall:
    """A call (its sid Twilio's shape) to the survey at ``url``, as a transfer makes one."""
    return FakeCall(sid="CA" + secrets.token_hex(16), to=to, from_=from_, url=url)
