"""How long to wait before trying again."""

from __future__ import annotations

import random


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before try ``attempt + 1``: doubling from ``base``, at most ``cap``, jittered
    over its upper half (so the waits grow and parallel workers do not retry in step)."""
    delay = min(cap, base * 2.0 ** min(attempt, 32))
    return random.uniform(delay / 2, delay)
