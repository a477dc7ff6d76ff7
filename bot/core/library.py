"""The library: the flows and the service catalog the running bot holds.

Flows are versioned data. Each version is immutable and named by its content (the hash
``flowfile.content_version`` gives, or a ``version:`` the flow declares); one version of each
flow is *active*, the one new surveys use, and a survey keeps the version it started with to
its end. The catalog's file is the base; an admin's changes to a service's mutable fields are
kept beside it as *settings* and laid over it. Everything here is pure: the store keeps the
versions and settings (``LibraryStore``), ``bot.service.library`` loads, changes and watches.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.core.catalog import Service, parse_catalog
from bot.core.channels import ChannelKind
from bot.core.errors import FlowError
from bot.core.flow import Flow
from bot.core.flowfile import content_version, parse_flow
from bot.core.sinks import Active, FlowVersion
from bot.core.yamltext import compose_yaml, parse_yaml

# What an admin may change at run time (the catalog's own names). Everything else — the
# service's identity (id, agency, OMB control number) and what the OMB notice and the
# collection detail say — changes only in the file, through the agency's review.
MUTABLE = (
    "paused",
    "sample_rate",
    "delay_minutes",
    "reminder_hours",
    "expiry_hours",
    "channels",
    "alerts",
    "goals",
    "reporting_dimensions",
    "flow",
    "themes",
    "default_themes",
)
IDENTITY = ("id", "agency", "omb_control_number")
# What a mutable field is when the file leaves it out (``catalog.parse_catalog``'s defaults),
# so a change's "before" says what was in force, not "unset".
DEFAULTS: dict[str, Any] = {
    "paused": False,
    "sample_rate": 1.0,
    "delay_minutes": 0,
    "reminder_hours": 24,
    "expiry_hours": 72,
    "reporting_dimensions": [],
    "alerts": None,
    "goals": None,
}

# Finds a stored survey's flow: (flow id, version) -> the flow, or the active one of that id
# when the version is not known (a record older than the store).
FlowLookup = Callable[[str, str], Awaitable[Flow | None]]


def by_id(flows: Mapping[str, Flow]) -> FlowLookup:
    """A lookup that knows only these flows, by id (a tool that reads the files alone)."""

    async def lookup(flow_id: str, version: str) -> Flow | None:
        return flows.get(flow_id)

    return lookup


@dataclass(frozen=True)
class Library:
    """What the bot runs on at one moment: the active flows, every known version, and the
    catalog with the settings laid over it."""

    flows: dict[str, Flow]
    versions: dict[tuple[str, str], Flow]
    services: dict[str, Service]
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    active: dict[str, Active] = field(default_factory=dict)


def read_flow_text(
    text: str, flow_id: str | None, source: str
) -> tuple[Flow | None, list[FlowError]]:
    """A flow from YAML or JSON text, validated as ``flows check`` does; with ``flow_id``, its
    ``id`` must be that one."""
    data, errors = parse_yaml(text, source)
    if errors:
        return None, errors
    flow, errors = parse_flow(data, source)
    if flow_id is not None and isinstance(data, dict) and data.get("id") != flow_id:
        errors = [*errors, FlowError(source, "id", f"must be {flow_id!r}, the flow being changed")]
        flow = None
    return flow, errors


def digest(flow_text: str) -> str:
    """The content hash of a flow's text (comments and layout do not count); the text is
    one ``read_flow_text`` took."""
    data, _ = parse_yaml(flow_text, "")
    return content_version(data)


def with_settings(
    raw: Mapping[str, Any], settings: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The catalog's data with each service's settings laid over its entry."""
    services = raw.get("services") if isinstance(raw, Mapping) else None
    if not isinstance(services, list):
        return dict(raw)
    return {
        **raw,
        "services": [
            {**entry, **settings.get(str(entry.get("id")), {})}
            if isinstance(entry, dict)
            else entry
            for entry in services
        ],
    }


def settings_errors(service_id: str, change: Mapping[str, Any]) -> list[FlowError]:
    """What a change of a service's settings may not do: touch a field that changes only in
    the file (identity and everything not in ``MUTABLE``)."""
    errors = []
    for name in change:
        if name in MUTABLE:
            continue
        why = (
            "changes only in the catalog file"
            if name in IDENTITY
            else (f"is not a setting changed at run time (those are: {', '.join(MUTABLE)})")
        )
        errors.append(FlowError(f"service {service_id}", name, f"{name!r} {why}"))
    return errors


def build(
    catalog: Mapping[str, Any],
    source: str,
    versions: Mapping[tuple[str, str], Flow],
    active: Mapping[str, Active],
    settings: Mapping[str, Mapping[str, Any]],
    kinds: Mapping[str, ChannelKind],
) -> tuple[Library | None, list[FlowError]]:
    """The library these parts make, or every error (the catalog is checked with its
    settings against the active flows, exactly as the file alone is)."""
    flows = {
        flow_id: versions[(flow_id, a.version)]
        for flow_id, a in active.items()
        if (flow_id, a.version) in versions
    }
    services, errors = parse_catalog(with_settings(catalog, settings), source, flows, kinds)
    if errors:
        return None, errors
    library = Library(flows, dict(versions), services, {k: dict(v) for k, v in settings.items()},
                      dict(active))  # fmt: skip
    return library, []


def in_service(errors: list[FlowError], index: int) -> list[FlowError]:
    """The errors of one catalog entry (``services[i].x``), named by the field alone."""
    prefix = f"services[{index}]"
    out = []
    for error in errors:
        if error.path == prefix or error.path.startswith(prefix + "."):
            out.append(FlowError(error.source, error.path[len(prefix) + 1 :] or "(service)",
                                 error.message))  # fmt: skip
    return out or errors


def diff(before: FlowVersion, after: FlowVersion) -> list[str]:
    """A unified diff of two versions' texts, line by line."""
    return list(
        difflib.unified_diff(
            before.text.splitlines(),
            after.text.splitlines(),
            f"{before.flow_id} {before.version}",
            f"{after.flow_id} {after.version}",
            lineterm="",
        )
    )


_PART = re.compile(r"[^.\[\]]+|\[(\d+)\]")


def line_of(text: str, path: str) -> int | None:
    """The line (from 1) of the node at an error's path, such as ``questions[2].prompt.es``,
    in a flow's YAML text: as deep as the path can be followed (None: no such place)."""
    return lines_of(text, [path])[0]


def lines_of(text: str, paths: Sequence[str]) -> list[int | None]:
    """``line_of`` for each of several paths, the text composed once (and only when a path
    names a node: a text refused for its size is not read)."""
    root = None
    if any(path not in ("", "(root)") and not path.startswith("line ") for path in paths):
        root = compose_yaml(text)
    return [_line(root, path) for path in paths]


def _line(root: yaml.Node | None, path: str) -> int | None:
    if path.startswith("line "):
        return int(path[5:].split(",")[0])
    if root is None or path in ("", "(root)"):
        return None
    node, line = root, root.start_mark.line + 1
    for match in _PART.finditer(path):
        if isinstance(node, yaml.MappingNode) and match.group(1) is None:
            pair = next(((k, v) for k, v in node.value if k.value == match.group(0)), None)
            if pair is None:
                break
            node, line = pair[1], pair[0].start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and match.group(1) is not None:
            index = int(match.group(1))
            if index >= len(node.value):
                break
            node = node.value[index]
            line = node.start_mark.line + 1
        else:
            break
    return line
