"""Twilio's error codes, and what each means for a survey: one table, from Twilio's error
dictionary (twilio.com/docs/api/errors)."""

from __future__ import annotations

import aiohttp
from twilio.base.exceptions import TwilioRestException

from bot.core.errors import SendError

# What each of Twilio's messaging error codes means for a survey, from Twilio's error
# dictionary (twilio.com/docs/api/errors): the recipient opted out at the carrier; the address
# can never receive it; this message will never go (content, account or sender set-up, a
# WhatsApp rule); or a passing condition (rate limits, queues, an unreachable handset, Twilio
# or a carrier failing) after which the same message may go. A code not here is read by its
# HTTP status (429 and 5xx pass, other 4xx are refusals).
TWILIO_ERRORS: dict[int, str] = {
    21610: "opted_out",  # Attempt to send to unsubscribed recipient
    # The address
    21211: "invalid_address",  # Invalid 'To' Phone Number
    21214: "invalid_address",  # 'To' phone number cannot be reached
    21217: "invalid_address",  # Phone number does not appear to be valid
    21401: "invalid_address",  # Invalid Phone Number
    21407: "invalid_address",  # This Phone Number type does not support SMS or MMS
    21612: "invalid_address",  # The 'To' phone number is not currently reachable via SMS
    21614: "invalid_address",  # 'To' number is not a valid mobile number
    30005: "invalid_address",  # Unknown destination handset
    30006: "invalid_address",  # Landline or unreachable carrier
    63003: "invalid_address",  # Channel could not find the To address
    63024: "invalid_address",  # Invalid message recipient
    # This message (or this sender, until someone changes its set-up)
    21219: "rejected",  # 'To' phone number not verified (a trial account)
    21408: "rejected",  # Permission to send an SMS has not been enabled for the region
    21606: "rejected",  # The 'From' number is not a message-capable Twilio number
    21617: "rejected",  # The concatenated message body exceeds the 1600 character limit
    30002: "rejected",  # Account suspended
    30004: "rejected",  # Message blocked
    30007: "rejected",  # Message filtered (carrier violation)
    30034: "rejected",  # US A2P 10DLC: message from an unregistered number
    63016: "rejected",  # WhatsApp: outside the customer service window (a template is needed)
    63032: "rejected",  # WhatsApp: the user cannot receive this message (experiment)
    63049: "rejected",  # WhatsApp: Meta chose not to deliver this marketing message
    # Passing: the same message may go later
    20429: "unavailable",  # Too Many Requests
    20500: "unavailable",  # Internal Server Error
    20503: "unavailable",  # Service Unavailable
    21611: "unavailable",  # The 'From' number has exceeded the maximum number of queued messages
    30001: "unavailable",  # Queue overflow
    30003: "unavailable",  # Unreachable destination handset (switched off, out of coverage)
    30008: "unavailable",  # Unknown error
    30017: "unavailable",  # Carrier network congestion
    30022: "unavailable",  # US A2P 10DLC: rate limit exceeded
    30023: "unavailable",  # US A2P 10DLC: daily message cap reached
    30027: "unavailable",  # US A2P 10DLC: T-Mobile daily message limit reached
    63018: "unavailable",  # Rate limit exceeded for channel (WhatsApp)
    63038: "unavailable",  # WhatsApp: account exceeded the daily messages limit
}


def error_kind(code: int | None, http_status: int | None = None) -> str:
    """What a Twilio error code means (``TWILIO_ERRORS``), else what its HTTP status does."""
    if code is not None and code in TWILIO_ERRORS:
        return TWILIO_ERRORS[code]
    if http_status is not None and (http_status == 429 or http_status >= 500):
        return "unavailable"
    return "rejected"


def classify(exc: BaseException) -> SendError:
    """Turn what the Twilio client raised into a SendError that says whether to retry."""
    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        kind = error_kind(code, exc.status)
        return SendError(f"Twilio answered {exc.status} (error {code})", kind=kind, code=code)
    if isinstance(exc, TimeoutError):
        return SendError("Twilio did not answer in time", kind="unknown")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return SendError("cannot connect to Twilio", kind="unavailable")
    if isinstance(exc, aiohttp.ClientError):
        return SendError(f"connection to Twilio failed: {type(exc).__name__}", kind="unknown")
    raise exc
