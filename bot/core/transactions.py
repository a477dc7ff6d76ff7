"""Validation of reported transactions (pure): a Transaction, or field errors."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from bot.core.catalog import Service
from bot.core.channels import ChannelKind
from bot.core.dimensions import LABEL_RULE, is_label
from bot.core.text import clean, is_clean

# WhatsApp's business-scoped user ids stand for a person without a phone number: a country
# code, a dot, and letters and digits (whatsapp:US.13491208655302741918).
WHATSAPP_USER = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]{1,64}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
MAX_ATTRIBUTES = 50


@dataclass(frozen=True)
class Transaction:
    """A finished service transaction, validated and normalised."""

    transaction_id: str
    service: str
    channel: str
    to: str  # E.164 for phone channels, the chat user id otherwise
    language: str | None = None
    timezone: str | None = None
    completed_at: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


_E164_NANP = re.compile(r"\+1[2-9]\d{9}")
# North American validity depends on the area code and exchange only (checked across the
# metadata), so the answer for one number holds for its whole +1NPANXX block.
_NANP_BLOCKS: dict[str, bool] = {}


def normalise_phone(raw: str, region: str = "US") -> str | None:
    """E.164 form of a phone number, or None when it is not a valid number."""
    if _E164_NANP.fullmatch(raw):
        block = raw[:8]
        if block not in _NANP_BLOCKS:
            if len(_NANP_BLOCKS) > 200_000:
                _NANP_BLOCKS.clear()
            _NANP_BLOCKS[block] = phonenumbers.is_valid_number(phonenumbers.parse(raw))
        return raw if _NANP_BLOCKS[block] else None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate(
    item: Any,
    services: Mapping[str, Service],
    now: datetime,
    kinds: Mapping[str, ChannelKind],
    enabled: Collection[str],
) -> tuple[Transaction | None, dict[str, str]]:
    """Check one reported transaction; return it normalised, or an error per field.

    ``kinds`` are the channels the bot knows (the registry's), ``enabled`` those this
    deployment runs: a transaction for a channel with no adapter running is refused, not
    scheduled to fail (and count against the person's cap) later.
    """
    if not isinstance(item, dict):
        return None, {"": "each transaction must be a JSON object"}
    errors: dict[str, str] = {}

    def text(name: str, required: bool = True) -> str | None:
        value = item.get(name)
        if value is None:
            if required:
                errors[name] = "required"
            return None
        if not isinstance(value, str) or not value.strip():
            errors[name] = "must be a non-empty string"
            return None
        if not is_clean(value):
            errors[name] = "must not contain control characters or unpaired surrogates"
            return None
        return value.strip()

    txn_id = text("transaction_id")
    if txn_id is not None and not _ID.match(txn_id):
        errors["transaction_id"] = "1-128 letters, digits and . _ : / -, starting alphanumeric"
    service_id = text("service")
    service = services.get(service_id) if service_id else None
    if service_id is not None and service is None:
        errors["service"] = f"unknown service {service_id!r}"
    channel = text("channel")
    kind = kinds.get(channel) if channel is not None else None
    if channel is not None:
        if kind is None:
            errors["channel"] = f"must be one of {', '.join(sorted(kinds))}"
        elif service is not None and channel not in service.channels:
            errors["channel"] = f"service {service.id!r} does not survey on {channel!r}"
        elif channel not in enabled:
            errors["channel"] = "not enabled"
    to = text("to")
    if to is not None and kind is not None:
        normalised = kind.address(to)
        if normalised is None:
            errors["to"] = kind.address_hint
        to = normalised
    language = text("language", required=False)
    if language is not None and not _LANGUAGE.match(language):
        errors["language"] = "a language tag such as en or es-US"
    timezone = text("timezone", required=False)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = "an IANA time zone such as America/Chicago"
    completed_at = None
    raw_completed = text("completed_at", required=False)
    if raw_completed is not None:
        completed_at, problem = _moment(raw_completed, now)
        if problem:
            errors["completed_at"] = problem
    attributes = item.get("attributes", {})
    problem = _attributes_problem(attributes, service.reporting_dimensions if service else ())
    if problem:
        errors["attributes"] = problem
    unknown = set(item) - {
        "transaction_id", "service", "channel", "to", "language", "timezone", "completed_at",
        "attributes",
    }  # fmt: skip
    for name in sorted(unknown):
        errors[name] = "unknown field"
    if errors or txn_id is None or service_id is None or channel is None or to is None:
        return None, errors
    return Transaction(
        transaction_id=txn_id,
        service=service_id,
        channel=channel,
        to=to,
        language=language,
        timezone=timezone,
        completed_at=completed_at,
        attributes={k: clean(v) if isinstance(v, str) else v for k, v in attributes.items()},
    ), {}


# Times a transaction may carry: nothing before this bot's era, nothing more than a day ahead
# (clock skew). Outside, a time is a mistake, and near the ends of the calendar it would
# overflow when converted or shifted (year 9999, or year 1 with a +23:59 offset).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)
# JSON numbers every consumer reads exactly (JavaScript's safe integers); orjson, PostgreSQL's
# JSON and Touchpoints refuse or round larger ones.
MAX_INT = 2**53 - 1
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_ATTRIBUTE_TEXT = 1000


def _moment(raw: str, now: datetime) -> tuple[datetime | None, str | None]:
    """An ISO 8601 time with an offset, within [EARLIEST, now + AHEAD]; or why not."""
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None, "an ISO 8601 time with an offset"
    if moment.tzinfo is None:
        return None, "must include a UTC offset (e.g. 2026-11-02T15:00:00Z)"
    try:
        in_range = EARLIEST <= moment.astimezone(UTC) <= now + AHEAD
    except (OverflowError, ValueError):
        in_range = False
    if not in_range:
        return None, "must be a time after 2000-01-01 and not in the future"
    return moment, None


def _attributes_problem(attributes: Any, dimensions: Sequence[str]) -> str | None:
    """Why the attributes cannot be kept, or None: at most MAX_ATTRIBUTES keys (letters,
    digits and _ . : -), each with a plain value (text, a safe integer, a finite number, true,
    false or null), and a label (``dimensions.is_label``) for each of the service's
    reporting ``dimensions``."""
    if not isinstance(attributes, dict):
        return "must be a JSON object"
    if len(attributes) > MAX_ATTRIBUTES:
        return f"at most {MAX_ATTRIBUTES} keys"
    for key, value in attributes.items():
        if not _ATTRIBUTE_KEY.match(key):
            return "keys are 1-64 letters, digits and _ . : -"
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                return f"{key}: integers must be within ±{MAX_INT}"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"{key}: numbers must be finite"
        elif isinstance(value, str):
            if len(value) > MAX_ATTRIBUTE_TEXT:
                return f"{key}: at most {MAX_ATTRIBUTE_TEXT} characters"
            if _SURROGATE.search(value):  # other control characters are cleaned away
                return f"{key}: unpaired surrogate (not valid Unicode text)"
        else:
            return f"{key}: plain values only (text, number, true, false or null)"
        if key in dimensions and not is_label(value):
            return f"{key}: a reporting dimension's value must be a label: {LABEL_RULE}"
    return None
