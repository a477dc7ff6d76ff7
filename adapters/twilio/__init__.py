"""Twilio: SMS and WhatsApp. The kinds here are light (the registry reads them at start-up);
the adapter itself, with Twilio's library, is ``adapters.twilio.channel``."""

from __future__ import annotations

from typing import Any

from bot.core.channels import ChannelKind
from bot.core.transactions import WHATSAPP_USER, normalise_phone


def _problems(settings: Any) -> list[str]:
    problems = []
    if not settings.public_base_url:
        problems.append(
            "PUBLIC_BASE_URL is not set (the sms/whatsapp channel checks Twilio's signatures "
            "over the public URL, e.g. https://feedback.example.gov)"
        )
    if not settings.twilio_account_sid:
        problems.append("TWILIO_ACCOUNT_SID is not set (the sms/whatsapp channel needs it)")
    if not settings.twilio_auth_token:
        problems.append("TWILIO_AUTH_TOKEN is not set (the sms/whatsapp channel needs it)")
    if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
        problems.append(
            "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID must be set "
            "(the sms/whatsapp channel needs a sender)"
        )
    return problems


def _phone(raw: str) -> str | None:
    return normalise_phone(raw)


def _whatsapp(raw: str) -> str | None:
    bare = raw.removeprefix("whatsapp:")
    return bare if WHATSAPP_USER.match(bare) else normalise_phone(bare)


def _sender(settings: Any) -> str:
    # One sender for SMS and WhatsApp: a STOP on either stops both.
    return str(settings.twilio_messaging_service_sid or settings.twilio_from_number or "twilio")


ADAPTER = "adapters.twilio.channel:TwilioChannel"
SMS = ChannelKind(
    name="sms", reported="sms_text_messages", texting=True, address=_phone,
    address_hint="not a valid phone number (E.164, e.g. +12025550123)", adapter=ADAPTER,
    interface="text", problems=_problems, sender=_sender,
)  # fmt: skip
WHATSAPP = ChannelKind(
    name="whatsapp", reported="chatbot", texting=True, address=_whatsapp,
    address_hint="not a valid phone number (E.164, e.g. +12025550123) or WhatsApp user id",
    adapter=ADAPTER, interface="text", problems=_problems, sender=_sender,
)  # fmt: skip
