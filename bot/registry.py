"""The channel registry: every channel the bot knows, in one place.

A channel is one adapter module (its kinds light, its adapter loaded only when enabled) and
one registration: a line in ``BUILT_IN`` here, or, for a package of its own, an entry point in
the group ``feedback_bot.channels`` naming its ``ChannelKind``::

    [project.entry-points."feedback_bot.channels"]
    telegram = "my_package.telegram:TELEGRAM"

Every list of channels (the catalog's, the API's, the settings check's) comes from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any, cast

from bot.core.channels import Channel, ChannelKind

GROUP = "feedback_bot.channels"
BUILT_IN = (
    "adapters.twilio:SMS",
    "adapters.twilio:WHATSAPP",
    "adapters.slack:SLACK",
    "adapters.webchat:WEBCHAT",
    "adapters.voice:VOICE",
)


def _load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@cache
def kinds() -> dict[str, ChannelKind]:
    """Every channel kind: the built-in ones, then those of installed packages."""
    found: dict[str, ChannelKind] = {}
    for target in BUILT_IN:
        kind = cast(ChannelKind, _load(target))
        found[kind.name] = kind
    for entry in entry_points(group=GROUP):
        kind = entry.load()
        if not isinstance(kind, ChannelKind):
            raise TypeError(f"entry point {entry.name} of {GROUP} is not a ChannelKind")
        found.setdefault(kind.name, kind)
    return found


def build(settings: Any, names: Iterable[str], known: Mapping[str, ChannelKind]) -> list[Channel]:
    """The adapters that serve the channels ``names``: one instance per adapter, however many
    channels it serves (Twilio serves SMS and WhatsApp)."""
    made: dict[str, Channel] = {}
    for name in names:
        kind = known[name]
        if kind.adapter not in made:
            made[kind.adapter] = cast(Channel, _load(kind.adapter)(settings))
    return list(made.values())


def reported(known: Mapping[str, ChannelKind]) -> dict[str, str]:
    """The federal channel name each channel is reported under."""
    return {name: kind.reported for name, kind in known.items()}
