"""SMS encoding and segment counting (GSM 03.38 basic set and extension table, or UCS-2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension characters cost an escape septet plus their own.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentInfo:
    """How a message travels as SMS."""

    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 basic set or its extension table."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def segment_info(text: str) -> SegmentInfo:
    """Encoding, length in code units and number of SMS segments for ``text``."""
    if is_gsm7(text):
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        single, multi = 160, 153
        encoding: Encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SegmentInfo(encoding, units, segments)


def non_gsm_characters(text: str) -> str:
    """The distinct characters that force ``text`` into UCS-2, in order of appearance."""
    seen: dict[str, None] = {}
    for c in text:
        if c not in GSM7_BASIC and c not in GSM7_EXTENSION:
            seen.setdefault(c, None)
    return "".join(seen)
