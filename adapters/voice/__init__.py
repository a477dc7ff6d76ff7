"""Voice: the A-11 survey by phone over Twilio Voice, by keypad or speech. The kind here is
light (the registry reads it at start-up); the adapter, with Twilio's library, is
``adapters.voice.channel``.

A person reaches the survey by a link (``voice_url``, answered by ``POST /v1/transactions``
with ``"channel": "voice"``): the agency's call flow redirects the caller to it at the end of a
call. The link is used once (the first call that opens it holds the survey).
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.channels import ChannelKind
from bot.core.transactions import normalise_phone

# A Twilio <Say> voice: "alice", "Polly.Joanna", "Polly.Lupe-Neural", "Google.es-US-Neural2-A".
VOICE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _problems(settings: Any) -> list[str]:
    problems = []
    if not settings.public_base_url:
        problems.append(
            "PUBLIC_BASE_URL is not set (the voice channel's links are made from it, and "
            "Twilio's signatures are checked over it)"
        )
    if not settings.twilio_account_sid:
        problems.append("TWILIO_ACCOUNT_SID is not set (the voice channel needs it)")
    if not settings.twilio_auth_token:
        problems.append("TWILIO_AUTH_TOKEN is not set (the voice channel needs it)")
    for name, value in (("VOICE_EN", settings.voice_en), ("VOICE_ES", settings.voice_es)):
        if not VOICE_NAME.match(value):
            problems.append(f"{name} must be a Twilio voice name such as Polly.Joanna")
    if settings.voice_comments not in ("speech", "record"):
        problems.append("VOICE_COMMENTS must be speech or record")
    if not settings.voice_call_rate > 0:
        problems.append("VOICE_CALL_RATE must be more than 0 (calls a second)")
    return problems


VOICE = ChannelKind(
    name="voice", reported="automated_phone", texting=False, address=normalise_phone,
    address_hint="not a valid phone number (E.164, e.g. +12025550123)",
    adapter="adapters.voice.channel:VoiceChannel", interface="voice", by_link=True,
    link=("voice_url", "/webhooks/twilio/voice?t={token}"), problems=_problems,
    sender=lambda settings: "voice",
)  # fmt: skip
