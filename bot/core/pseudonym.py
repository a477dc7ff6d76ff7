"""Keyed hashes of addresses, so records and the consent ledger never hold a raw number."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from bot.core.secret import Secret


def pseudonym(key: Secret, address: str) -> str:
    """A stable keyed hash (HMAC-SHA256, 128 bits as hex) of a phone number or chat id.

    A ``whatsapp:`` prefix is dropped, so one person is one pseudonym across SMS and WhatsApp.
    """
    bare = address.removeprefix("whatsapp:").strip()
    mac = _keyed(key.reveal()).copy()  # the key schedule once, not per message
    mac.update(bare.encode())
    return mac.hexdigest()[:32]


@lru_cache(maxsize=4)
def _keyed(key: str) -> hmac.HMAC:
    return hmac.new(key.encode(), digestmod=hashlib.sha256)
