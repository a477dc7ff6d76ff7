"""The area-code table the quiet hours use, against phonenumbers' geocoder it was made from."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import geocoder

from bot.core.area_codes import AREA_CODES, EXCHANGES
from bot.core.quiet_hours import state_for_number, window_for

STATES = {
    "Washington State": "WA",
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC",
    "Puerto Rico": "PR",
}  # fmt: skip


def geocoder_state(number: str) -> str | None:
    place = geocoder.description_for_number(phonenumbers.parse(number, "US"), "en")
    if place in STATES:
        return STATES[place]
    tail = place.rsplit(", ", 1)[-1] if ", " in place else ""
    return tail if tail in STATES.values() else None


@pytest.mark.parametrize("hundreds", range(2, 10))
def test_the_table_says_what_the_geocoder_says(hundreds: int) -> None:
    for area in range(hundreds * 100, hundreds * 100 + 100):
        # Every area code, with exchanges across its range and every exception listed.
        exchanges = [*range(200, 1000, 37), *(int(e[3:]) for e in EXCHANGES if e[:3] == str(area))]
        for exchange in exchanges:
            number = f"+1{area}{exchange}4567"
            expected = geocoder_state(number)
            if expected is not None:
                assert state_for_number(number) == expected, number
            elif str(area) not in AREA_CODES:
                assert state_for_number(number) is None, number


def test_overlays_and_the_stricter_windows() -> None:
    # New York City's overlays, Florida's (8-20) and Connecticut's (9-20), and no state.
    assert {state_for_number(f"+1{a}5550123") for a in (212, 646, 332, 917, 347)} == {"NY"}
    assert window_for(state_for_number("+13055550123")) == (8, 20)
    assert window_for(state_for_number("+18605550123")) == (9, 20)
    assert state_for_number("+18005550123") is None  # toll-free
    assert state_for_number("+442071234567") is None
