"""Twilio Voice: the survey said aloud, answered by keypad or speech.

It only converts: a signed webhook becomes ``Core.take`` (a call opens its link), ``Core.say``
(a ``<Gather>``'s keys or speech, as the text a person would type) or ``Core.leave`` (the
call ended), and the ``Live`` answer becomes TwiML: each question said inside a ``<Gather
input="dtmf speech">`` in the survey's language and the agency's voice, ``<Hangup/>`` once the
survey has ended. Keys: an option's number (1 yes, 2 no on a thumbs question), several then
``#`` for drivers, ``*`` repeats, ``9`` opts out, ``#`` alone skips; speech is the words said
("yes", "sí", "five", "uno y tres", "repeat").

With ``VOICE_COMMENTS=record`` an English comment is a ``<Record>`` instead, transcribed by
Twilio after the call (``/webhooks/twilio/voice/transcription``): the closing is said at once,
and the survey ends when the transcription arrives.

A call-back (a service whose catalog sets ``call_back``) is placed through Twilio's Calls API
with answering-machine detection: its webhooks name the survey (``s``); a machine that answers
ends the survey as ``answering_machine``, unsurveyed; a call never connected (busy, no answer)
is undeliverable.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from urllib.parse import quote, unquote

import aiohttp
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import VoiceResponse

from adapters.twilio.channel import TwilioChannel
from adapters.twilio.errors import classify
from bot.core.channels import Core, Job, Live, Prompt, Sent
from bot.core.errors import SendError
from bot.core.text import fold
from bot.settings import Settings

log = logging.getLogger("adapters.voice")

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
LANGUAGES = {"en": "en-US", "es": "es-US"}
REPEAT = frozenset({"repeat", "repeat that", "again", "repetir", "repita", "otra vez"})
OPT_OUT_KEY = "9"
# Twilio's AMD: machine_start, machine_end_beep, machine_end_silence, machine_end_other; fax.
MACHINE = ("machine_", "fax")
# A call Twilio never connected: the person was not reached.
NOT_REACHED = frozenset({"busy", "no-answer", "failed", "canceled"})
GONE = {
    "en": "This survey is no longer available. Goodbye.",
    "es": "Esta encuesta ya no está disponible. Adiós.",
}
HINTS = {
    "en": "yes, no, one, two, three, four, five, six, seven, eight, repeat, skip",
    "es": "sí, no, uno, dos, tres, cuatro, cinco, seis, siete, ocho, repetir, omitir",
}
SKIP = "skip"
MAX_TURNS = 200  # a call answering more than this is not a person taking a survey


class VoiceChannel(TwilioChannel):
    """The ``voice`` channel: Twilio's signature checks and client, its own routes."""

    channels = ("voice",)

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.voices = {"en": settings.voice_en, "es": settings.voice_es}
        self.action = f"{settings.public_base_url}/webhooks/twilio/voice"
        self.record = settings.voice_comments == "record"

    def __repr__(self) -> str:
        return f"VoiceChannel(account={self.settings.twilio_account_sid!r})"

    async def send(
        self, channel: str, to: str, text: str, prompt: Prompt | None = None,
        *, tag: str | None = None,
    ) -> Sent:  # fmt: skip
        """A call-back: the bot calls the person (Twilio's Calls API, answering machines
        detected); the call's webhooks name the survey by ``tag``, its reference. ``text`` is
        said when the call is answered, from the survey itself."""
        if not tag or not self.settings.twilio_from_number:
            raise SendError("a call-back needs its survey and TWILIO_FROM_NUMBER", kind="rejected")
        survey = quote(tag, safe="/")
        base = self.settings.public_base_url
        placing = self.client.calls.create_async(
            to=to, from_=self.settings.twilio_from_number,
            url=f"{base}/webhooks/twilio/voice?s={survey}", method="POST",
            status_callback=f"{base}/webhooks/twilio/voice/status?s={survey}",
            status_callback_method="POST", machine_detection="Enable",
        )  # fmt: skip
        try:
            placed = await asyncio.wait_for(placing, timeout=self.settings.twilio_send_timeout)
        except (TwilioRestException, TimeoutError, aiohttp.ClientError) as exc:
            raise classify(exc) from None
        return Sent(str(placed.sid), str(placed.status or "queued"))

    async def find_sent(self, channel: str, to: str, text: str, since: datetime) -> Sent | None:
        """A call already placed to ``to`` since ``since`` (a worker died after placing it)."""
        try:
            calls = await asyncio.wait_for(
                self.client.calls.list_async(to=to, start_time_after=since, limit=20),
                timeout=self.settings.twilio_send_timeout,
            )
        except (TwilioRestException, TimeoutError, aiohttp.ClientError) as exc:
            raise classify(exc) from None
        for placed in calls:
            return Sent(str(placed.sid), str(placed.status or "queued"))
        return None

    def jobs(self) -> dict[str, Job]:
        return {}

    def routes(self, core: Core) -> list[web.RouteDef]:
        """The call's webhook (its link, then each gather's answer) and its status callback."""

        async def call(request: web.Request) -> web.Response:
            form = await self.verified_form(request)
            sid = form.get("CallSid") or ""
            if not CALL_SID.match(sid):
                raise _bad_request("CallSid is required")
            query = request.query
            turn, survey = query.get("n"), query.get("s")
            if turn is None and survey is not None:  # a call-back answered
                if (form.get("AnsweredBy") or "").startswith(MACHINE):
                    await core.leave(sid, survey, "answering_machine", "answering_machine")
                    return _xml(_hang_up())
                return self._twiml(await core.take(sid, ref=survey), 0)
            if turn is None:  # the call opens its link
                token = query.get("t")
                live = await core.take(sid, token=token) if token and TOKEN.match(token) else None
                return self._twiml(live, 0)
            if not turn.isdigit() or int(turn) > MAX_TURNS:
                raise _bad_request("n is not a turn of this call")
            number = int(turn)
            if query.get("r") == "1":  # a recorded comment: its words come later, transcribed
                duration = form.get("RecordingDuration") or "0"
                if form.get("RecordingUrl") and duration.isdigit() and int(duration) > 0:
                    return self._twiml(await core.later(sid), number)
                return self._twiml(await core.say(sid, SKIP, f"{sid}:{number}"), number)
            digits = re.sub(r"[^0-9*#]", "", form.get("Digits") or "")[:40]
            speech = (form.get("SpeechResult") or "")[:2000]
            if "*" in digits or (not digits and fold(speech) in REPEAT):
                return self._twiml(await core.take(sid), number)
            text = answer_text(digits, speech, _options(query.get("o")))
            live = await core.say(sid, text, f"{sid}:{number}")
            return self._twiml(live, number)

        async def status(request: web.Request) -> web.Response:
            form = await self.verified_form(request)
            sid, value = form.get("CallSid") or "", form.get("CallStatus") or ""
            if not CALL_SID.match(sid) or not value:
                raise _bad_request("CallSid and CallStatus are required")
            ref = request.query.get("s")
            if value == "completed":
                await core.leave(sid, ref, "hung_up")
            elif value in NOT_REACHED:
                await core.leave(sid, ref, value.replace("-", "_"), "undeliverable")
            return web.Response(status=204)

        async def transcription(request: web.Request) -> web.Response:
            form = await self.verified_form(request)
            sid = form.get("CallSid") or ""
            if not CALL_SID.match(sid):
                raise _bad_request("CallSid is required")
            words = (form.get("TranscriptionText") or "").strip()[:4000]
            done = form.get("TranscriptionStatus") == "completed" and words
            await core.late(sid, words if done else SKIP, f"{sid}:transcription")
            return web.Response(status=204)

        return [
            web.post("/webhooks/twilio/voice", call),
            web.post("/webhooks/twilio/voice/status", status),
            web.post("/webhooks/twilio/voice/transcription", transcription),
        ]

    def _twiml(self, live: Live | None, turn: int) -> web.Response:
        """What the call does next: say the words and gather the answer, or say goodbye."""
        response = VoiceResponse()
        if live is None:
            for language, words in GONE.items():
                response.say(words, voice=self.voices[language], language=LANGUAGES[language])
            response.hangup()
            return _xml(response)
        language = live.language if live.language in LANGUAGES else "en"
        voice, spoken = self.voices[language], LANGUAGES[language]
        said = [" ".join(m.split()) for m in live.messages if m.strip()]
        prompt = live.prompt
        if prompt is None:
            for words in said:
                response.say(words, voice=voice, language=spoken)
            response.hangup()
            return _xml(response)
        action = f"{self.action}?n={turn + 1}"
        if prompt.kind == "text" and self.record and language == "en":
            # The agency's choice: a comment recorded after a beep, its words transcribed by
            # Twilio after the call (English only: Spanish comments are heard by <Gather>).
            for words in said:
                response.say(words, voice=voice, language=spoken)
            response.record(
                action=f"{action}&r=1", method="POST", max_length=120, timeout=5,
                finish_on_key="#", play_beep=True, trim="trim-silence", transcribe=True,
                transcribe_callback=f"{self.action}/transcription",
            )  # fmt: skip
            return _xml(response)
        single = not prompt.multiple and prompt.options
        if single:  # a key is an option's number: the value it stands for goes with the turn
            action += "&o=" + ",".join(quote(value, safe="") for value, _ in prompt.options)
        gather = response.gather(
            input="dtmf speech", action=action, method="POST", language=spoken,
            action_on_empty_result=True, timeout=6, speech_timeout="auto",
            hints=HINTS[language], **_keys(prompt),
        )  # fmt: skip
        for words in said:
            gather.say(words, voice=voice, language=spoken)
        return _xml(response)


def answer_text(digits: str, speech: str, options: list[str]) -> str:
    """What a gather's keys or speech say, as the text a person would type: an option's value
    for its number, the numbers of drivers, STOP for 9, SKIP for ``#`` alone; else the
    words said."""
    keys = digits.replace("#", "")
    if keys == OPT_OUT_KEY:
        return "stop"
    if digits and not keys:
        return SKIP
    if keys:
        if options and keys.isdigit() and 1 <= int(keys) <= len(options):
            return options[int(keys) - 1]
        return " ".join(keys)
    return speech


def _options(raw: str | None) -> list[str]:
    return [unquote(value) for value in raw.split(",")][:20] if raw else []


def _keys(prompt: Prompt) -> dict[str, object]:
    """How keys end an answer: one key for a single choice, ``#`` after several (drivers),
    one key for a comment (``#`` skips it, ``*`` repeats)."""
    if prompt.multiple:
        return {"finish_on_key": "#"}
    return {"num_digits": 1, "finish_on_key": ""}


def _hang_up() -> VoiceResponse:
    response = VoiceResponse()
    response.hangup()
    return response


def _xml(response: VoiceResponse) -> web.Response:
    return web.Response(text=str(response), content_type="application/xml")


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f'{{"error": "{message}"}}', content_type="application/json")
