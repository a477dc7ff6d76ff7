"""The web chat adapter: the survey's page at ``/s/<token>`` (plain forms that work without
script, made live over a WebSocket when script runs), and ``/webchat.js``, the widget an
agency page embeds.

It only converts: a page's post or a socket's message becomes ``Core.answer``, and the
``ChatView`` the core answers is rendered (Jinja2, one template for the page and the socket).
Every answer is checked: a token of the right shape, a CSRF token bound to the survey's link,
the request's ``Origin`` (posts and the socket), and a rate limit per link and per client
(its address past the proxies ``TRUSTED_PROXIES`` names). A link and a client may hold only
so many sockets open at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.core.channels import ChatView, Core, Job, Prompt, Sent
from bot.settings import Settings
from bot.web.deadlines import DEADLINES
from bot.web.headers import client_address

log = logging.getLogger("bot.webchat")
HERE = Path(__file__).parent
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
MAX_FORM = 16 * 1024
# Answers a link may take in a window, and requests a client address may make: a person
# answers a handful of questions; a script trying links is stopped.
PER_LINK = (60, 600)  # (count, seconds)
PER_CLIENT = (300, 600)
# Sockets open at once on one link (a person's page, a second tab, a reload whose old socket
# is still closing); per client address it is WEBCHAT_SOCKETS_PER_CLIENT (an office or a
# carrier's NAT puts many people behind one address). Counted in each process: a socket
# lives in one, and a process that stops takes its sockets and its counts with it.
SOCKETS_PER_LINK = 5

WORDS = {
    "en": {
        "survey": "Customer feedback survey", "skip": "Skip to the question",
        "conversation": "Conversation", "bot": "Survey", "you": "You", "send": "Send",
        "your_answer": "Your answer", "skip_question": "Skip this question",
        "skip_word": "skip", "type_instead": "Or type your answer",
        "other_language": "Español", "other_language_word": "español",
        "other_language_code": "es", "done": "You can close this page.",
        "opt_out": "Don't ask me again",
        "trial": "This is a test opened from the admin console: nothing you answer is recorded, "
                 "reported or sent to anyone.",
        "scale": ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
                  "Strongly agree"),
    },
    "es": {
        "survey": "Encuesta de opinión", "skip": "Ir a la pregunta",
        "conversation": "Conversación", "bot": "Encuesta", "you": "Usted", "send": "Enviar",
        "your_answer": "Su respuesta", "skip_question": "Omitir esta pregunta",
        "skip_word": "omitir", "type_instead": "O escriba su respuesta",
        "other_language": "English", "other_language_word": "english",
        "other_language_code": "en", "done": "Puede cerrar esta página.",
        "opt_out": "No me pregunte de nuevo",
        "trial": "Esta es una prueba abierta desde la consola de administración: nada de lo "
                 "que responda se guarda, se informa ni se envía a nadie.",
        "scale": ("Totalmente en desacuerdo", "En desacuerdo", "Ni de acuerdo ni en desacuerdo",
                  "De acuerdo", "Totalmente de acuerdo"),
    },
}  # fmt: skip


def rating_label(prompt: Prompt, value: str, label: str, words: dict[str, Any]) -> str:
    """A 1-5 rating button's words: the point with its meaning (the thumbs' are the words
    "Yes" and "No" the core gives, drawn beside an icon by the template)."""
    if prompt.scale == "five_point" and value.isdigit() and 1 <= int(value) <= 5:
        return f"{value} – {words['scale'][int(value) - 1]}"
    return label


class WebChatChannel:
    """The ``webchat`` channel: nothing is sent (the person opens the link); its routes serve
    the survey's page."""

    channels = ("webchat",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        public = urlsplit(settings.public_base_url)
        self.origin = f"{public.scheme}://{public.netloc}"
        self._csrf_key = hashlib.sha256(
            b"webchat-csrf|" + settings.pseudonym_key.reveal().encode()
        ).digest()
        self.assets: dict[str, bytes] = {}
        self.sockets: Counter[tuple[str, str]] = Counter()  # open now, by link and by client
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        socket = ("wss://" if public.scheme == "https" else "ws://") + public.netloc
        ancestors = " ".join(["'self'", *settings.webchat_allowed_origins])
        self.headers = {
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                f"connect-src 'self' {socket}; form-action 'self'; base-uri 'none'; "
                f"frame-ancestors {ancestors}"
            ),
            "X-Content-Type-Options": "nosniff",
            # The link's token never leaves in a Referer (and, unlike no-referrer, a form's
            # post still carries its true Origin, which is checked).
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        }

    def __repr__(self) -> str:
        return f"WebChatChannel(origin={self.origin!r})"

    async def start(self) -> None:
        # Assets and templates are read once, off the event loop, and served from memory.
        def load() -> dict[str, bytes]:
            for name in ("page.html", "top.html", "conversation.html", "missing.html"):
                self.templates.get_template(name)
            return {p.name: p.read_bytes() for p in (HERE / "static").iterdir()}

        self.assets = await asyncio.to_thread(load)

    async def close(self) -> None:
        return None

    async def send(
        self, channel: str, to: str, text: str, prompt: Prompt | None = None,
        *, tag: str | None = None,
    ) -> Sent:  # fmt: skip
        # Nothing goes out: the person opens the link, and the page shows the survey as it is.
        return Sent(f"webchat-{secrets.token_hex(8)}", "delivered")

    async def find_sent(self, channel: str, to: str, text: str, since: Any) -> Sent | None:
        return None

    def jobs(self) -> dict[str, Job]:
        return {}

    def csrf(self, token: str) -> str:
        """The CSRF token of a link's forms: bound to the link, made with the bot's key."""
        return hmac.new(self._csrf_key, token.encode(), "sha256").hexdigest()[:32]

    def render(self, name: str, view: ChatView, token: str) -> str:
        words = WORDS.get(view.language, WORDS["en"])
        template = self.templates.get_template(name)
        return template.render(
            view=view, token=token, csrf=self.csrf(token), nonce=secrets.token_hex(8),
            t=words, title=title(view),
            rating_label=lambda p, v, label: rating_label(p, v, label, words),
        )  # fmt: skip

    def routes(self, core: Core) -> list[web.RouteDef]:
        """The survey's page and socket, the widget, and their styles and script."""

        def page(view: ChatView | None, token: str, status: int = 200) -> web.Response:
            if view is None:
                html = self.templates.get_template("missing.html").render()
                return web.Response(text=html, status=404, content_type="text/html",
                                    headers=self.headers)  # fmt: skip
            return web.Response(text=self.render("page.html", view, token), status=status,
                                content_type="text/html", headers=self.headers)  # fmt: skip

        async def show(request: web.Request) -> web.StreamResponse:
            token = request.match_info["token"]
            if not TOKEN.match(token):
                return page(None, token)
            if await self._limited(core, request, token):
                return _too_many(self.headers)
            return page(await core.view(token), token)

        async def post(request: web.Request) -> web.StreamResponse:
            token = request.match_info["token"]
            if not TOKEN.match(token):
                return page(None, token)
            if request.content_length is not None and request.content_length > MAX_FORM:
                return web.Response(status=413, text="form too large")
            if not self._same_origin(request):
                return web.Response(status=403, text="cross-site form refused")
            if await self._limited(core, request, token):
                return _too_many(self.headers)
            try:
                form = await request.post()
            except (ValueError, UnicodeDecodeError):
                return web.Response(status=400, text="not a form")
            fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
            choices = [str(v) for v in form.getall("choice", []) if isinstance(v, str)]
            answered = await self._answer(core, token, fields, choices)
            if isinstance(answered, web.Response):
                return answered
            if answered is None:
                return page(None, token)
            if answered.state == "ended" or answered.note:
                return page(answered, token)  # said once, here: the thank-you, or why not
            # Post, redirect, get: a reload does not post again, and the new page opens at
            # its question (the fragment is not sent to the server or logged).
            raise web.HTTPSeeOther(f"/s/{token}#question", headers=self.headers)

        async def socket(request: web.Request) -> web.StreamResponse:
            token = request.match_info["token"]
            if not TOKEN.match(token):
                return web.Response(status=404)
            if not self._same_origin(request, required=True):
                return web.Response(status=403, text="cross-site socket refused")
            held = (("link", token), ("client", self._client(request)))
            caps = (SOCKETS_PER_LINK, self.settings.webchat_sockets_per_client)
            if any(self.sockets[k] >= cap for k, cap in zip(held, caps, strict=True)):
                return _too_many(self.headers)  # the page goes on with plain forms
            self.sockets.update(held)
            try:
                return await self._converse(core, request, token)
            finally:
                self.sockets.subtract(held)
                for key in held:
                    if self.sockets[key] <= 0:
                        del self.sockets[key]

        async def asset(request: web.Request) -> web.StreamResponse:
            name = request.match_info["name"]
            if name not in self.assets or name == "webchat.js":
                return web.Response(status=404)
            return _asset(name, self.assets[name])

        async def widget(request: web.Request) -> web.StreamResponse:
            return _asset("webchat.js", self.assets["webchat.js"])

        # Any text up to the next slash is a token to look at (a plain {token} refuses braces,
        # and aiohttp's own 404 would be text, not the survey's page).
        link = "/s/{token:[^/]+}"
        return [
            web.get(link, show),
            web.post(link, post),
            web.get(link + "/ws", socket),
            web.get("/static/{name}", asset),
            web.get("/webchat.js", widget),
        ]

    async def _converse(
        self, core: Core, request: web.Request, token: str
    ) -> web.WebSocketResponse:
        """A socket's life: each message answered, until the page closes it or the server
        stops (then it is closed as going away, its message in hand answered first: the page
        opens another socket, to the next process, when it next needs one)."""
        # No compression: the answers are small, and deflate costs CPU on every message.
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FORM, compress=False)
        await ws.prepare(request)
        async for message in request.app[DEADLINES].messages(ws):
            if message.type != WSMsgType.TEXT:
                continue
            try:
                async with asyncio.timeout(self.settings.request_deadline):
                    reply = await self._socket_reply(core, request, token, message.data)
            except Exception as exc:  # a dependency down: this answer fails, the socket lives
                log.warning("webchat answer failed: %s", type(exc).__name__)
                reply = {"error": "temporarily unavailable, try again"}
            await ws.send_json(reply)
        return ws

    async def _socket_reply(
        self, core: Core, request: web.Request, token: str, raw: str
    ) -> dict[str, Any]:
        """What the socket answers to one message: the conversation redrawn, or an error."""
        if await self._limited(core, request, token):
            return {"error": "too many answers, wait a few minutes"}
        try:
            data = json.loads(raw)
            fields = {k: str(data.get(k) or "") for k in ("csrf", "question", "nonce", "answer",
                                                          "text")}  # fmt: skip
            choices = [str(c) for c in data.get("choice") or []][:20]
        except (ValueError, AttributeError, TypeError):
            return {"error": "not an answer"}
        answered = await self._answer(core, token, fields, choices)
        if isinstance(answered, web.Response) or answered is None:
            return {"error": "not taken"}
        said = [t.text for t in answered.turns if t.who == "bot"][-1:]
        if answered.state == "open":
            said = [answered.note or "", answered.question]
        # The whole page follows a change of language: its header, title and lang too.
        return {"html": self.render("conversation.html", answered, token),
                "said": " ".join(s for s in said if s), "state": answered.state,
                "language": answered.language, "title": title(answered),
                "top": self.render("top.html", answered, token)}  # fmt: skip

    async def _limited(self, core: Core, request: web.Request, token: str) -> bool:
        """Over the rate limit for this link or this client."""
        return not (
            await core.allow("webchat-link", token, *PER_LINK)
            and await core.allow("webchat-client", self._client(request), *PER_CLIENT)
        )

    def _client(self, request: web.Request) -> str:
        """The client's address, past the proxies the deployment trusts."""
        settings = self.settings
        return client_address(request, settings.trusted_proxies, settings.forwarded_header)

    async def _answer(
        self, core: Core, token: str, fields: dict[str, str], choices: list[str]
    ) -> ChatView | web.Response | None:
        """An answer from a form or a socket message, checked and given to the core."""
        if not hmac.compare_digest(fields.get("csrf", "").encode(), self.csrf(token).encode()):
            return web.Response(status=403, text="stale or forged form: reload the page")
        answer = fields.get("answer", "")
        text = answer or " ".join(choices) or fields.get("text", "")
        question = fields.get("question") or None
        nonce = re.sub(r"[^A-Za-z0-9-]", "", fields.get("nonce", ""))[:40] or secrets.token_hex(8)
        return await core.answer(token, text[:1000], question, f"{question}:{nonce}")

    def _same_origin(self, request: web.Request, *, required: bool = False) -> bool:
        """A post or socket from the bot's own pages: its ``Origin`` is the bot's (browsers
        send it on posts and sockets; a post without one, from an old browser, is allowed and
        still needs the CSRF token)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return not required
        return origin == self.origin


def title(view: ChatView) -> str:
    """The page's title: the service's, then what the page is, in the survey's language."""
    return f"{view.title} – {WORDS.get(view.language, WORDS['en'])['survey']}"


def _too_many(headers: dict[str, str]) -> web.Response:
    return web.Response(status=429, text="Too many requests: wait a few minutes.",
                        headers={**headers, "Retry-After": "600"})  # fmt: skip


def _asset(name: str, body: bytes) -> web.Response:
    kind = "text/css" if name.endswith(".css") else "text/javascript"
    return web.Response(body=body, content_type=kind, charset="utf-8",
                        headers={"Cache-Control": "public, max-age=3600",
                                 "X-Content-Type-Options": "nosniff"})  # fmt: skip
