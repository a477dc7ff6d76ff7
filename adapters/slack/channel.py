"""The Slack adapter: Bolt on the aiohttp app, surveys as direct messages, cases in channels.

Bolt's aiohttp adapter only converts requests and responses, so the route is mounted here.
Bolt checks the signing secret and the request's age (401 otherwise); a middleware drops
retried events and refuses a replayed request. Listeners only translate: they hand each
interaction to the core, which answer at once and queue anything slow.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypedDict

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import answered_blocks, case_blocks, case_text, mrkdwn, survey_blocks
from bot.core.cases import Case, is_crisis
from bot.core.channels import Core, Inbound, Job, Prompt, Sent
from bot.core.errors import SendError
from bot.core.payload import dig
from bot.settings import Settings
from bot.web.headers import header_bytes, read_body

# The SDK's and Bolt's loggers (kept quiet by bot.logs: they log bodies and payloads).
_SDK_LOG = logging.getLogger("bot.slack.sdk")
_BOLT_LOG = logging.getLogger("bot.slack.bolt")
# Bolt reads SLACK_BOT_TOKEN from the environment and then warns that the client's token wins;
# with an authorize function it warns that the client's token is skipped (it is what authorize
# hands back).
_BOLT_LOG.addFilter(
    lambda record: (
        not any(
            words in record.getMessage() for words in ("`token` will be unused", "will be ignored")
        )
    )
)
REPLAY_WINDOW = 600  # seconds: twice the age a request may have
MAX_AGE = 300  # seconds: a request signed longer ago is refused (Slack's rule)
MAX_BODY = 1024 * 1024  # interactive payloads of large views reach about 100 KB
_INVALID = {"user_not_found", "channel_not_found", "cannot_dm_bot", "user_disabled",
            "account_inactive", "user_not_visible", "not_in_channel", "is_archived"}  # fmt: skip
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)


def classify(exc: BaseException, *, sent_maybe: bool) -> SendError:
    """What a Slack failure means for retrying: see ``bot.errors.SendError``."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error", "unknown"))
        if error in _INVALID:
            return SendError(f"slack: {error}", kind="invalid_address")
        if error == "ratelimited" or exc.response.status_code >= 500:
            return SendError(f"slack: {error}", kind="unavailable")
        return SendError(f"slack: {error}", kind="rejected")
    if isinstance(exc, _NOT_SENT) or not sent_maybe:
        return SendError(f"slack unreachable: {type(exc).__name__}", kind="unavailable")
    return SendError(f"slack: no answer ({type(exc).__name__})", kind="unknown")


def _odd(payload: dict[str, Any]) -> bool:
    """A signed payload without the parts Bolt's matchers and the listeners take for granted
    (block actions without actions, ids or a user; an event callback without an event; names
    that are not text). Acknowledged and ignored: Slack sends nothing of the kind."""

    def text_or_absent(data: dict[str, Any], *keys: str) -> bool:
        return all(isinstance(data.get(k), str) for k in keys if k in data)

    if not text_or_absent(payload, "type", "command", "callback_id", "action_id"):
        return True
    kind = payload.get("type")
    if kind == "block_actions":
        actions, user = payload.get("actions"), payload.get("user")
        return not (
            isinstance(actions, list) and actions
            and all(isinstance(a, dict) and text_or_absent(a, "action_id", "block_id", "value")
                    for a in actions)
            and isinstance(user, dict) and isinstance(user.get("id"), str)
        )  # fmt: skip
    if kind == "event_callback":
        event = payload.get("event")
        return not (isinstance(event, dict) and text_or_absent(event, "type", "subtype"))
    view = payload.get("view")
    return view is not None and not (isinstance(view, dict) and text_or_absent(view, "callback_id"))


def _text(element: Any) -> str:
    """The text of a Block Kit text object, or ''."""
    text = dig(element, "text")
    return text if isinstance(text, str) else ""


class TellJob(TypedDict):
    """The payload of job ``slack.tell``: a note only one person sees."""

    user: str
    where: str  # a channel, or a response URL
    text: str  # Markdown (see ``blocks.mrkdwn``)


class AnsweredJob(TypedDict):
    """The payload of job ``slack.answered``: a question's message shows its answer."""

    channel: str
    ts: str
    text: str
    answer: str


class SlackChannel:
    """The ``slack`` survey channel and the staff notifier, over one Web API client."""

    channels = ("slack",)

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The key schedule once, not per request.
        self._mac = hmac.new(settings.slack_signing_secret.reveal().encode(), digestmod="sha256")
        self._session: aiohttp.ClientSession | None = None
        # No retry handlers: a retried chat.postMessage could post a message twice.
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.reveal(),
            base_url=settings.slack_api_url,
            timeout=10,
            retry_handlers=[],
            logger=_SDK_LOG,
        )

    def __repr__(self) -> str:
        return f"SlackChannel(api={self.settings.slack_api_url!r})"

    async def start(self) -> None:
        # One pooled session, made inside the running loop (the client would open one per call).
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self.client.session = self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # the survey channel
    async def _api(
        self, method: Callable[..., Awaitable[Any]], *, sent_maybe: bool, **kwargs: Any
    ) -> Any:
        """A Web API call whose failure is classified (``sent_maybe``: it may have taken effect)."""
        try:
            return await method(**kwargs)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            raise classify(exc, sent_maybe=sent_maybe) from None

    async def _dm(self, user: str) -> str:
        opened = await self._api(self.client.conversations_open, sent_maybe=False, users=user)
        return str(opened["channel"]["id"])

    async def send(
        self, channel: str, to: str, text: str, prompt: Prompt | None = None,
        *, tag: str | None = None,
    ) -> Sent:  # fmt: skip
        if not text.strip():  # Slack shows an empty message as a blank one, or refuses it
            raise SendError("nothing to send", kind="rejected")
        dm = await self._dm(to)
        posted = await self._api(self.client.chat_postMessage, sent_maybe=True, channel=dm,
                                 text=text, blocks=survey_blocks(text, prompt))  # fmt: skip
        # In the person's DM once Slack took it: that is delivery for this channel.
        return Sent(f"{dm}/{posted['ts']}", "delivered")

    async def find_sent(self, channel: str, to: str, text: str, since: datetime) -> Sent | None:
        dm = await self._dm(to)
        found = await self._history(dm, since.timestamp(), lambda m: m.get("text") == text)
        return Sent(f"{dm}/{found['ts']}", "delivered") if found else None

    async def _history(
        self, channel: str, oldest: float, match: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        history = await self._api(self.client.conversations_history, sent_maybe=False,
                                  channel=channel, oldest=f"{oldest:.6f}", limit=200,
                                  include_all_metadata=True)  # fmt: skip
        messages: list[dict[str, Any]] = history.get("messages", [])
        for message in messages:
            if message.get("bot_id") and match(message):
                return dict(message)
        return None

    async def update_answered(self, payload: AnsweredJob) -> None:
        """Job ``slack.answered``: show the answer a click gave and take its buttons away."""
        await self._call(
            self.client.chat_update, channel=payload["channel"], ts=payload["ts"],
            text=payload["text"], blocks=answered_blocks(payload["text"], payload["answer"]),
        )  # fmt: skip

    # the staff notifier
    async def post_case(self, case: Case, channel: str) -> tuple[str, str]:
        posted = await self._call(
            self.client.chat_postMessage,
            channel=channel,
            text=case_text(case),
            blocks=case_blocks(case),
            metadata={"event_type": "cx_case", "event_payload": {"case_id": case["case_id"]}},
            unfurl_links=False,
        )
        return str(posted["channel"]), str(posted["ts"])

    async def find_case(self, case: Case, channel: str) -> tuple[str, str] | None:
        def same(message: dict[str, Any]) -> bool:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            return bool(payload.get("case_id") == case["case_id"])

        oldest = datetime.fromisoformat(case["created_at"]).timestamp() - 60
        found = await self._history(channel, oldest, same)
        return (channel, str(found["ts"])) if found else None

    async def update_case(self, case: Case) -> None:
        where = case["post"]
        await self._call(
            self.client.chat_update,
            channel=where["channel"], ts=where["ts"], text=case_text(case),
            blocks=case_blocks(case),
        )  # fmt: skip

    async def escalate_case(self, case: Case, target: str) -> None:
        where = case["post"]
        link = await self._call(
            self.client.chat_getPermalink, channel=where["channel"], message_ts=where["ts"]
        )
        lead = ":rotating_light: Crisis case" if is_crisis(case) else ":alarm_clock: Unclaimed case"
        if target and not target.startswith("S"):  # a channel: a copy of the case there
            text = f"{lead} for {case.get('service') or 'unknown service'}: {link['permalink']}"
            await self._call(self.client.chat_postMessage, channel=target, text=text,
                             blocks=case_blocks(case))  # fmt: skip
            return
        # A user group (or, with no target, everyone here) is mentioned beside the case.
        mention = f"<!subteam^{target}>" if target else "<!here>"
        text = f"{mention} {lead} needs someone now: {link['permalink']}"
        await self._call(self.client.chat_postMessage, channel=where["channel"], text=text,
                         thread_ts=where["ts"], reply_broadcast=True)  # fmt: skip

    async def tell(self, user: str, where: str, text: str) -> None:
        if where.startswith(("http://", "https://")):
            assert self._session is not None
            async with self._session.post(
                where, json={"response_type": "ephemeral", "text": mrkdwn(text)}
            ) as reply:
                if reply.status >= 400:
                    raise SendError(f"response_url answered {reply.status}", kind="unavailable")
            return
        await self._call(
            self.client.chat_postEphemeral, channel=where, user=user, text=mrkdwn(text)
        )

    async def _call(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        try:
            return await self._api(method, sent_maybe=True, **kwargs)
        except SendError as exc:
            # A case message can always be posted or updated again: every failure is retried.
            raise SendError(str(exc), kind="unavailable") from None

    async def tell_job(self, payload: TellJob) -> None:
        """Job ``slack.tell``: a note only one person sees."""
        await self.tell(payload["user"], payload["where"], payload["text"])

    def jobs(self) -> dict[str, Job]:
        return {"slack.answered": self.update_answered, "slack.tell": self.tell_job}

    # the route
    def routes(self, core: Core) -> list[web.RouteDef]:
        """``POST /slack/events``: events, interactivity and slash commands, through Bolt.

        The signature is checked here, on the raw bytes, before anything reads the body: an
        unsigned request of any shape is 401 (Bolt's own check, and its ``ssl_check`` answer
        ahead of it, see only verified requests); a signed body that is not a Slack payload is
        400; a signed payload of an odd shape is acknowledged and ignored.
        """
        app = self._bolt(core)

        async def events(request: web.Request) -> web.Response:
            body = await read_body(request, MAX_BODY)
            if not self.verified(request.headers, body, time.time()):
                return web.json_response({"error": "invalid Slack signature"}, status=401)
            try:
                headers: dict[str, list[str]] = {}
                for name, value in request.headers.items():
                    headers.setdefault(name.lower(), []).append(value)
                bolt_request = AsyncBoltRequest(
                    body=body.decode("utf-8"),
                    query=request.query_string,
                    headers=dict[str, str | Sequence[str]](headers),
                )
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                return web.json_response({"error": "not a Slack payload"}, status=400)
            if not isinstance(bolt_request.body, dict):
                return web.json_response({"error": "not a Slack payload"}, status=400)
            if _odd(bolt_request.body):
                return web.Response(status=200)
            response = await app.async_dispatch(bolt_request)
            event_id = bolt_request.body.get("event_id")
            if event_id and response.status >= 500:
                # Handling failed: Slack's retry of this event must be handled, not dropped.
                await core.forget("slack-event", str(event_id))
            if response.status == 404:
                # No listener for it (a select in someone's view, an event of no interest):
                # acknowledged, as Slack shows a 404 to the person as an error.
                return web.Response(status=200)
            return await to_aiohttp_response(response)

        return [web.post("/slack/events", events)]

    def verified(self, headers: Mapping[str, str], body: bytes, now: float) -> bool:
        """Slack's request signature (v0, HMAC-SHA256 over the timestamp and the raw body),
        from at most five minutes ago."""
        stamp = header_bytes(headers, "X-Slack-Request-Timestamp")
        signature = header_bytes(headers, "X-Slack-Signature")
        if not (stamp.isdigit() and len(stamp) <= 12) or abs(now - int(stamp)) > MAX_AGE:
            return False
        mac = self._mac.copy()
        mac.update(b"v0:" + stamp + b":" + body)
        return hmac.compare_digest(b"v0=" + mac.hexdigest().encode(), signature)

    def _bolt(self, core: Core) -> AsyncApp:
        token = self.settings.slack_bot_token.reveal()

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            # One workspace, one bot token. Bolt's own single-workspace authorization calls
            # auth.test on the first request and on every request until it succeeds: while
            # Slack's API is unreachable, every request would fail with a 500.
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id,
                                   user_id=user_id, bot_token=token)  # fmt: skip

        app = AsyncApp(
            client=self.client,
            authorize=authorize,
            signing_secret=self.settings.slack_signing_secret.reveal(),
            process_before_response=True,  # answer only when the listener is done (no task)
            raise_error_for_unhandled_request=False,
            request_verification_enabled=False,  # verified in the route, on the raw bytes
            logger=_BOLT_LOG,
        )  # fmt: skip

        @app.middleware
        async def once(
            body: dict[str, Any], request: Any, next: Callable[[], Awaitable[Any]]
        ) -> Any:
            # A retried event (X-Slack-Retry-Num) carries its first event id: handle it once.
            # Anything else arriving twice with the same signature is a replay.
            event_id = body.get("event_id")
            if event_id:
                if not await core.first_time("slack-event", str(event_id), REPLAY_WINDOW):
                    return BoltResponse(status=200, body="")
            else:
                signature = request.headers.get("x-slack-signature", [""])[0]
                if not await core.first_time("slack-signature", signature, REPLAY_WINDOW):
                    return BoltResponse(status=401, body='{"error": "replayed request"}')
            return await next()

        @app.event("message")
        async def message(event: dict[str, Any]) -> None:
            user, text = event.get("user"), event.get("text", "")
            message_id = event.get("client_msg_id") or event.get("ts")
            if (event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype")
                    or not isinstance(user, str) or not isinstance(text, str)
                    or not isinstance(message_id, str)):  # fmt: skip
                return
            await core.chat(Inbound("slack", user, text, message_id))

        @app.event(re.compile(".*"))
        async def other(event: dict[str, Any]) -> None:
            return None  # acknowledged, nothing to do

        @app.action(re.compile(r"^survey_answer:"))
        async def answer(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            question, _, value = str(action.get("value", "")).partition("|")
            label = _text(action.get("text")) or value
            await self._answer(core, body, question, value, label)

        @app.action("survey_pick")
        async def pick(ack: Any) -> None:
            await ack()  # each tick; the answer goes with the submit button

        @app.action("survey_submit")
        async def submit(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            question = str(action.get("value", ""))
            state = dig(body, "state", "values", f"q:{question}", "survey_pick")
            chosen = state.get("selected_options") if isinstance(state, dict) else None
            options = [o for o in chosen or () if isinstance(o, dict)]
            values = " ".join(str(o.get("value", "")) for o in options)
            labels = ", ".join(_text(o.get("text")) for o in options)
            await self._answer(core, body, question, values, labels or "-")

        @app.action(re.compile(r"^case_(claim|resolve|dismiss)$"))
        async def case_action(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            where = str(dig(body, "channel", "id") or "")
            await core.case_action(
                str(action.get("value", "")), str(action["action_id"]).removeprefix("case_"),
                body["user"]["id"], str(action.get("action_ts") or body.get("trigger_id")), where,
            )  # fmt: skip

        @app.command("/cx")
        async def cx(ack: Any, command: dict[str, Any]) -> None:
            text = await core.command(
                command.get("user_id", ""), command.get("text", ""),
                command.get("response_url", ""),
            )  # fmt: skip
            await ack(text=mrkdwn(text), response_type="ephemeral")

        return app

    async def _answer(
        self, core: Core, body: dict[str, Any], question: str, value: str, label: str
    ) -> None:
        message = body.get("message")
        channel = dig(body, "channel", "id") or dig(body, "container", "channel_id")
        action_ts = body["actions"][0].get("action_ts") or body.get("trigger_id")
        user = body["user"]["id"]
        if not (question and isinstance(action_ts, str) and isinstance(channel, str)):
            return  # not a click on one of our questions
        msg = Inbound("slack", user, value, f"action:{action_ts}", question=question)
        refusal = await core.chat(msg)
        if refusal is not None:
            # Not recorded: the message keeps what it shows, the person alone is told why.
            tell: TellJob = {"user": user, "where": channel, "text": refusal}
            await core.enqueue("slack.tell", tell)
            return
        text, ts = dig(message, "text"), dig(message, "ts")
        if isinstance(text, str) and text and isinstance(ts, str):
            answered: AnsweredJob = {"channel": channel, "ts": ts, "text": text, "answer": label}
            await core.enqueue("slack.answered", answered)
