"""When a text message may be sent: 8:00-21:00 in the recipient's local time (stricter in some
states), never on a US federal holiday, deferred to the next allowed moment, never dropped."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

from bot.core.area_codes import state_for

DEFAULT_WINDOW = (8, 21)
# Stricter calling-hour windows in state law (configurable defaults, local hours [start, end)).
STATE_WINDOWS: dict[str, tuple[int, int]] = {
    "FL": (8, 20),
    "OK": (8, 21),
    "WA": (8, 20),
    "MD": (8, 20),
    "CT": (9, 20),
}
# Used when the zone cannot be known: a send must be allowed in every one of them.
NATIONAL_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
)  # fmt: skip


@cache
def _holidays(year: int) -> Container[date]:
    # Imported on first use: the holidays package costs a tenth of the app's import.
    import holidays

    return holidays.country_holidays("US", years=year, categories=("public",))


def is_federal_holiday(day: date) -> bool:
    """True on a US federal holiday (observed dates included)."""
    return day in _holidays(day.year)


def _area(number: str) -> str:
    # North American numbers place by area code and exchange; cache on those.
    return number[:8] if number.startswith("+1") else number


def zones_for_number(number: str) -> tuple[str, ...]:
    """The time zones a phone number may be in; the national set when it cannot be told."""
    return _zones_for_area(_area(number).ljust(12, "0") if number.startswith("+1") else number)


@lru_cache(maxsize=100_000)
def _zones_for_area(number: str) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        return NATIONAL_ZONES
    zones = tuple(z for z in number_zones.time_zones_for_number(parsed) if z != "Etc/Unknown")
    if not zones or len(zones) > 4:  # toll-free and non-geographic numbers
        return NATIONAL_ZONES
    return zones


def state_for_number(number: str) -> str | None:
    """The US state (two letters) a phone number's area code belongs to, if known (a table
    made from phonenumbers' geocoder: ``bot.area_codes``)."""
    return state_for(number[2:8]) if number.startswith("+1") else None


def window_for(state: str | None, override: tuple[int, int] | None = None) -> tuple[int, int]:
    """The local sending window: a service's own, else the state's, else 8:00-21:00.

    A service's window can only narrow the state's (the stricter rule always wins).
    """
    base = STATE_WINDOWS.get(state or "", DEFAULT_WINDOW)
    if override is None:
        return base
    return max(base[0], override[0]), min(base[1], override[1])


def _next_in_zone(moment: datetime, zone: str, window: tuple[int, int]) -> datetime:
    """The first moment at or after ``moment`` inside the window in one zone."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    start, end = window
    for _ in range(14):  # a fortnight covers any run of holidays and weekends
        day = local.date()
        opens = datetime.combine(day, time(start), tz)
        closes = datetime.combine(day, time(end), tz) if end < 24 else opens + timedelta(hours=24)
        if not is_federal_holiday(day):
            if local < opens:
                return opens
            if local < closes:
                return local
        local = datetime.combine(day + timedelta(days=1), time(0), tz)
    raise ValueError("no sending window in two weeks")


def next_allowed(moment: datetime, zones: tuple[str, ...], window: tuple[int, int]) -> datetime:
    """The first moment at or after ``moment`` inside the window in every one of ``zones``."""
    candidate = moment
    for _ in range(50):
        latest = max(_next_in_zone(candidate, zone, window) for zone in zones)
        if latest == candidate:
            return candidate
        candidate = latest
    raise ValueError("the sending windows of these zones never overlap")


def recipient_zones(
    transaction_zone: str | None, address: str, *, texting: bool
) -> tuple[str, ...]:
    """Time zone from the transaction, else from the number (a texting channel's address),
    else the national set."""
    if transaction_zone:
        return (transaction_zone,)
    if texting:
        return zones_for_number(address)
    return NATIONAL_ZONES


def daytime_zone(now: datetime) -> str:
    """A fixed-offset zone where ``now`` is mid-day on an ordinary day (demos and tests)."""
    for offset in range(-12, 13):
        zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
        local = now.astimezone(ZoneInfo(zone))
        if 10 <= local.hour < 18 and not is_federal_holiday(local.date()):
            return zone
    raise ValueError("no zone has mid-day now")  # a federal holiday everywhere at once
