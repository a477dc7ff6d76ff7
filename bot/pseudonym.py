"""Keyed hashes of addresses, so records and the consent ledger never hold a raw number."""

from __future__ import annotations

import hashlib
import hmac

from bot.settings import Secret


def pseudonym(key: Secret, address: str) -> str:
    """A stable keyed hash (HMAC-SHA256, 128 bits as hex) of a phone number or chat id.

    A ``whatsapp:`` prefix is dropped, so one person is one pseudonym across SMS and WhatsApp.
    """
    bare = address.removeprefix("whatsapp:").strip()
    digest = hmac.new(key.reveal().encode(), bare.encode(), hashlib.sha256).hexdigest()
    return digest[:32]
