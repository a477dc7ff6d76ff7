"""Reading outside JSON (pure): a payload's parts, whatever shape it arrived in."""

from __future__ import annotations

from typing import Any


def dig(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]...``, or None where the payload has no such part."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
