"""Twilio SMS and WhatsApp: outbound through the official async client, inbound webhooks.

Holds no survey logic: it verifies and converts, then calls the core's handlers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
from datetime import datetime
from urllib.parse import quote, unquote_to_bytes
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from multidict import MultiDict
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from adapters.twilio.errors import classify, error_kind
from bot.core.channels import Core, DeliveryStatus, Inbound, Job, Prompt, Sent
from bot.core.records import is_ref
from bot.core.transactions import WHATSAPP_USER
from bot.settings import Settings
from bot.web.headers import header_bytes, read_body

log = logging.getLogger("adapters.twilio")


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ERROR_CODE = re.compile(r"[0-9]{1,6}")


class TwilioChannel:
    """The ``sms`` and ``whatsapp`` channels."""

    channels: tuple[str, ...] = ("sms", "whatsapp")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.validator = RequestValidator(settings.twilio_auth_token.reveal())
        # The key schedule once, not per webhook.
        self._mac = hmac.new(settings.twilio_auth_token.reveal().encode(), digestmod=hashlib.sha1)
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    def __repr__(self) -> str:
        return f"TwilioChannel(account={self.settings.twilio_account_sid!r})"

    async def start(self) -> None:
        # The async HTTP client must be made inside the running loop; no max_retries, which
        # could send a message twice.
        self._http = AsyncTwilioHttpClient()
        client = Client(
            self.settings.twilio_account_sid,
            self.settings.twilio_auth_token.reveal(),
            http_client=self._http,
        )
        client.api.base_url = self.settings.twilio_api_base_url.rstrip("/")
        self._client = client

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("TwilioChannel.start() was not awaited")
        return self._client

    def _addresses(self, channel: str, to: str) -> tuple[str, str | None]:
        sender = self.settings.twilio_from_number or None
        if channel == "whatsapp":
            return f"whatsapp:{to}", f"whatsapp:{sender}" if sender else None
        return to, sender

    async def send(
        self, channel: str, to: str, text: str, prompt: Prompt | None = None,
        *, tag: str | None = None,
    ) -> Sent:  # fmt: skip
        # A text message carries its options in the text itself: ``prompt`` is for chat.
        recipient, sender = self._addresses(channel, to)
        # The tag (a survey's reference: hashes, no address) comes back in the callback's URL,
        # so no record of the message is kept to find its survey again.
        callback = f"{self.settings.public_base_url}/webhooks/twilio/status"
        kwargs: dict[str, str] = {
            "to": recipient,
            "body": text,
            "status_callback": f"{callback}?s={quote(tag, safe='/')}" if tag else callback,
        }
        if self.settings.twilio_messaging_service_sid:
            kwargs["messaging_service_sid"] = self.settings.twilio_messaging_service_sid
        elif sender:
            kwargs["from_"] = sender
        try:
            message = await asyncio.wait_for(
                self.client.messages.create_async(**kwargs),
                timeout=self.settings.twilio_send_timeout,
            )
        except (TwilioRestException, TimeoutError, aiohttp.ClientError) as exc:
            raise classify(exc) from None
        return Sent(str(message.sid), str(message.status or "queued"))

    async def find_sent(self, channel: str, to: str, text: str, since: datetime) -> Sent | None:
        recipient, _ = self._addresses(channel, to)
        try:
            messages = await asyncio.wait_for(
                self.client.messages.list_async(to=recipient, date_sent_after=since, limit=50),
                timeout=self.settings.twilio_send_timeout,
            )
        except (TwilioRestException, TimeoutError, aiohttp.ClientError) as exc:
            raise classify(exc) from None
        for message in messages:
            if message.body == text:
                return Sent(str(message.sid), str(message.status or "queued"))
        return None

    def jobs(self) -> dict[str, Job]:
        """None: Twilio answers inline, and its status callbacks act at once."""
        return {}

    def routes(self, core: Core) -> list[web.RouteDef]:
        """The webhook routes, bound to the core's handlers."""

        async def messages(request: web.Request) -> web.Response:
            form = await self.verified_form(request)
            sid, sender = form.get("MessageSid"), form.get("From")
            if not sid or not sender:
                raise _bad_request("MessageSid and From are required")
            channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
            address = sender.removeprefix("whatsapp:")
            if not _is_address(channel, address):
                raise _bad_request("From is not an E.164 phone number or a WhatsApp user id")
            reply = await core.message(Inbound(channel, address, form.get("Body", ""), sid))
            return web.Response(text=twiml(list(reply.messages)), content_type="application/xml")

        async def status(request: web.Request) -> web.Response:
            form = await self.verified_form(request)
            sid, value = form.get("MessageSid"), form.get("MessageStatus")
            if not sid or not value:
                raise _bad_request("MessageSid and MessageStatus are required")
            raw_code = form.get("ErrorCode") or ""
            # Twilio's codes are five digits; anything else is no code ("²".isdigit() is true,
            # and int() refuses thousands of digits).
            code = int(raw_code) if _ERROR_CODE.fullmatch(raw_code) else None
            to = form.get("To") or ""
            channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
            address = to.removeprefix("whatsapp:")
            tag = request.query.get("s")
            report = DeliveryStatus(
                sid, value, channel, address if _is_address(channel, address) else None,
                error_kind(code) if code is not None else None, code,
                tag if tag and is_ref(tag) else None,
            )  # fmt: skip
            await core.status(report)
            return web.Response(status=204)

        return [
            web.post("/webhooks/twilio/messages", messages),
            web.post("/webhooks/twilio/status", status),
        ]

    async def verified_form(self, request: web.Request) -> MultiDict[str]:
        """A webhook's form, once Twilio's signature over the public URL holds (403 before
        anything else is read; 400 for a body that is not a form)."""
        body = await read_body(request, self.settings.webhook_body_limit)
        # Nothing is believed, nor answered beyond 403, before the signature holds: a body that
        # does not parse, or a signature that is not ASCII, cannot carry Twilio's signature.
        signature = header_bytes(request.headers, "X-Twilio-Signature")
        try:
            pairs = form_pairs(body.decode("utf-8")) if signature.isascii() else None
        except (UnicodeDecodeError, ValueError):
            pairs = None
        # Signed over the public URL Twilio called, not what we see behind a proxy.
        url = self.settings.public_base_url + request.raw_path
        if not signature or pairs is None or not self._signed(url, pairs, signature.decode()):
            log.warning("twilio webhook refused: bad or missing signature path=%s", request.path)
            raise web.HTTPForbidden(
                text='{"error": "invalid Twilio signature"}', content_type="application/json"
            )
        if request.content_type != "application/x-www-form-urlencoded":
            raise _bad_request("expected application/x-www-form-urlencoded")
        return MultiDict(pairs)

    def signature(self, url: str, pairs: list[tuple[str, str]]) -> str:
        """Twilio's signature of a form posted to ``url`` (as ``RequestValidator`` computes it):
        HMAC-SHA1 over the URL and then each name and value, names sorted, each name's distinct
        values sorted."""
        signed = url + "".join(name + value for name, value in sorted(set(pairs)))
        mac = self._mac.copy()
        mac.update(signed.encode())
        return base64.b64encode(mac.digest()).decode()

    def _signed(self, url: str, pairs: list[tuple[str, str]], signature: str) -> bool:
        # One HMAC over the URL as configured settles nearly every request; the validator
        # also tries the URL with the default port added or removed, as Twilio may sign it.
        if hmac.compare_digest(self.signature(url, pairs).encode(), signature.encode()):
            return True
        return bool(self.validator.validate(url, MultiDict(pairs), signature))


def form_pairs(text: str) -> list[tuple[str, str]]:
    """The fields of an ``application/x-www-form-urlencoded`` body, in order, read as
    ``urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True)`` reads them
    (an empty body has none); ValueError when a field has no ``=``."""
    if not text:
        return []
    pairs = []
    for field in text.split("&"):
        name, equals, value = field.partition("=")
        if not equals:
            raise ValueError("form field without '='")
        # Inline, not a call per name and value: most of a webhook's fields need no decoding.
        if "+" in name or "%" in name:
            name = _unquote_plus(name)
        if "+" in value or "%" in value:
            value = _unquote_plus(value)
        pairs.append((name, value))
    return pairs


def _unquote_plus(text: str) -> str:
    # Decoding the escapes together with the literal text equals urllib's run-by-run decoding
    # here: the body was valid UTF-8.
    text = text.replace("+", " ")
    return unquote_to_bytes(text).decode("utf-8", "replace") if "%" in text else text


def _is_address(channel: str, address: str) -> bool:
    """A phone number in E.164 (what Twilio sends), or on WhatsApp a business-scoped user id."""
    return bool(E164.match(address) or (channel == "whatsapp" and WHATSAPP_USER.match(address)))


def twiml(messages: list[str]) -> str:
    """A TwiML messaging response with one <Message> per text."""
    body = "".join(f"<Message>{escape(text)}</Message>" for text in messages)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f'{{"error": "{message}"}}', content_type="application/json")
