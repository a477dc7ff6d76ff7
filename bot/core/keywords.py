"""Carrier keywords (STOP, START, HELP), screened before any survey logic."""

from __future__ import annotations

from typing import Literal

from bot.core.text import fold

Keyword = Literal["stop", "start", "help"]

OPT_OUT_WORDS = frozenset(
    {
        "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "opt out",
        "opt-out", "parar", "alto", "cancelar",
        # Plain requests that leave no doubt (FCC 24-24: revocation by any reasonable means).
        "stop please", "please stop", "stop texting me", "stop messaging me", "unsubscribe me",
        "remove me", "no more texts", "no more messages", "no mas mensajes",
    }
)  # fmt: skip
OPT_IN_WORDS = frozenset({"start", "unstop", "yes"})
HELP_WORDS = frozenset({"help", "info", "ayuda"})


def keyword(text: str) -> Keyword | None:
    """The keyword a whole message is (any case; surrounding spaces and punctuation ignored).

    ``start`` is returned for YES too: the caller treats it as an opt-in only for a number that
    has opted out, so YES stays an ordinary answer for everyone else.
    """
    folded = fold(text)
    if folded in OPT_OUT_WORDS:
        return "stop"
    if folded in OPT_IN_WORDS:
        return "start"
    if folded in HELP_WORDS:
        return "help"
    return None
