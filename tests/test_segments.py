"""SMS encoding and segment counting."""

from __future__ import annotations

import pytest

from bot.core.segments import non_gsm_characters, segment_info

CASES = [
    ("", "GSM-7", 0, 1),
    ("Hello", "GSM-7", 5, 1),
    ("x" * 160, "GSM-7", 160, 1),
    ("x" * 161, "GSM-7", 161, 2),
    ("x" * 306, "GSM-7", 306, 2),
    ("x" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
    ("[" * 81, "GSM-7", 162, 2),
    ("¿Qué pasó?", "UCS-2", 10, 1),  # ó is not GSM-7 (é is)
    ("¿Qué hizo la diferencia?", "GSM-7", 24, 1),
    ("ñÑüÜ¡¿éÉ", "GSM-7", 8, 1),
    ("á" * 70, "UCS-2", 70, 1),
    ("á" * 71, "UCS-2", 71, 2),
    ("á" * 134, "UCS-2", 134, 2),
    ("á" * 135, "UCS-2", 135, 3),
    ("👍", "UCS-2", 2, 1),  # an emoji is two UTF-16 code units
    ("👍" * 36, "UCS-2", 72, 2),
    ("It’s fine", "UCS-2", 9, 1),  # a curly apostrophe is enough
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), CASES)
def test_segment_info(text: str, encoding: str, units: int, segments: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


def test_non_gsm_characters() -> None:
    assert non_gsm_characters("Esta interacción aumentó mi confianza. Sí") == "óí"
    assert non_gsm_characters("plain") == ""
