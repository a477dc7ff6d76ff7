"""Flows and the catalog as data the running bot holds: seeded from the files, changed by
admins (a new flow version, an activation, a service's settings), audited, and picked up by
every process within a second.

Each change is written to the measures store (the system of record, kept across restarts),
written to the audit log with who, before and after, and then the library's generation in
Redis moves on: every process reads that counter twice a second (``Live.watch``) and reloads
when it has moved, so no process needs a restart and none misses a change (a pub/sub message
can be lost on a reconnect; a counter cannot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.core.channels import ChannelKind
from bot.core.errors import FlowError, FlowValidationError
from bot.core.flow import Flow
from bot.core.flowfile import flow_files, read_yaml
from bot.core.library import (
    DEFAULTS,
    MUTABLE,
    Library,
    build,
    digest,
    in_service,
    read_flow_text,
    settings_errors,
    with_settings,
)
from bot.core.sinks import Active, FlowVersion, ResponseStore
from bot.service.tasks import cancel_and_wait
from bot.store.state import State

log = logging.getLogger("bot")
POLL_SECONDS = 0.5  # how often a process looks at the generation: a change is seen within 1 s
MAX_FLOW_TEXT = 256 * 1024
FILES = "files"  # who the audit log names for what the files seeded


class Refused(Exception):
    """A change the library does not make: ``status`` (404, 409, 422) and every error."""

    def __init__(self, status: int, errors: list[FlowError]) -> None:
        self.status = status
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    def problems(self) -> list[dict[str, str]]:
        """The errors as an API answers them: each with its path."""
        return located(self.errors)


def located(problems: Iterable[FlowError]) -> list[dict[str, str]]:
    """Errors or warnings as an API answers them: each with its path and message."""
    return [{"path": e.path, "message": e.message} for e in problems]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Live:
    """The library as this process holds it, reloaded when the generation moves on."""

    def __init__(
        self,
        store: ResponseStore,
        state: State,
        catalog_file: Path,
        kinds: Mapping[str, ChannelKind],
    ) -> None:
        self.store = store
        self.state = state
        self.catalog_file = catalog_file
        self.source = str(catalog_file)
        self.kinds = kinds
        self.catalog: dict[str, Any] = {}
        self.generation = -1
        self.parsed: dict[tuple[str, str], Flow] = {}  # versions are immutable: parsed once
        self.library = Library({}, {}, {})
        self.listeners: list[Callable[[Library], None]] = []

    async def open(self, flows_dir: Path, *, seed: bool = True) -> list[str]:
        """Read the catalog file, seed the store from the flow files in ``flows_dir``, take
        over pauses kept in Redis before, and load; raises FlowValidationError when the result
        is not valid. Returns what changed, one line each. Without ``seed`` (a command that
        may run beside other files than the deployment's) the files seed only a store that
        holds no flow yet."""
        data, errors = await asyncio.to_thread(read_yaml, self.catalog_file, self.source)
        if errors:
            raise FlowValidationError(errors)
        self.catalog = data
        if not seed and await self.store.active_flows():
            await self.reload(strict=True)
            return []
        changed = await self._seed(flows_dir)
        changed += await self._adopt_pauses()
        if changed:
            await self.state.library_changed()
        await self.reload(strict=True)
        return changed

    async def _seed(self, directory: Path) -> list[str]:
        """Keep each file's flow as a version; make it active when the flow has none, or
        when the file changed since it last seeded (a deployment's edit). A version activated
        at run time stays active across restarts while its file is unchanged."""
        files = await asyncio.to_thread(
            lambda: [(p, p.read_text(encoding="utf-8")) for p in flow_files(directory)]
        )
        active = await self.store.active_flows()
        kept = {(v.flow_id, v.version): v for v in await self.store.flow_versions()}
        changed: list[str] = []
        errors: list[FlowError] = []
        for path, text in files:
            flow, problems = read_flow_text(text, None, str(path))
            if flow is None:
                errors += problems
                continue
            hashed = digest(text)
            before = kept.get((flow.id, flow.version))
            if before is not None and before.digest != hashed:
                errors.append(FlowError(str(path), "version", f"version {flow.version!r} of "
                    f"{flow.id!r} is stored with other content: give the changed flow a new "
                    "version, or leave version out"))  # fmt: skip
                continue
            await self.store.add_flow_version(
                FlowVersion(flow.id, flow.version, hashed, text, _now(), f"file {path.name}")
            )
            self.parsed[(flow.id, flow.version)] = flow
            was = active.get(flow.id)
            if was is not None and was.seeded == flow.version:
                continue
            await self.store.set_active(flow.id, flow.version, seeded=flow.version, by=FILES)
            if was is None or was.version != flow.version:
                await self.store.audit(FILES, "flow.activate", flow.id,
                                       {"before": was.version if was else None,
                                        "after": flow.version, "file": path.name})  # fmt: skip
                changed.append(f"flow {flow.id}: version {flow.version} from {path.name}")
        if errors:
            raise FlowValidationError(errors)
        return changed

    async def _adopt_pauses(self) -> list[str]:
        pauses = await self.state.legacy_pauses()
        if not pauses:
            return []
        settings = await self.store.service_settings()
        for service_id, how in pauses.items():
            merged = {**settings.get(service_id, {}), "paused": True}
            await self.store.set_service_settings(service_id, merged, how.get("by", FILES))
        await self.state.forget_legacy_pauses(list(pauses))
        return [f"service {s}: paused (kept from Redis)" for s in pauses]

    async def reload(self, *, strict: bool = False) -> None:
        """Load the library as the store now has it. A library that is not valid (a file
        deployed that a run-time setting no longer fits) stops start-up with every error
        (``strict``), or else is logged and the one held is kept."""
        generation = await self.state.library_generation()
        for version in await self.store.flow_versions():
            key = (version.flow_id, version.version)
            if key in self.parsed:
                continue
            flow, problems = await asyncio.to_thread(  # ms each; not on the loop
                read_flow_text, version.text, version.flow_id,
                f"flow {version.flow_id} {version.version}",
            )  # fmt: skip
            if flow is not None:
                self.parsed[key] = flow
            else:  # a version today's checks refuse; it cannot become active
                log.warning("library: stored %s is not valid: %s", key, problems[0])
        library, errors = build(self.catalog, self.source, self.parsed,
                                await self.store.active_flows(),
                                await self.store.service_settings(), self.kinds)  # fmt: skip
        if library is None:
            if strict:
                raise FlowValidationError(errors)
            log.error("library: generation %s not loaded: %s", generation, errors[0])
            self.generation = generation
            return
        self.library, self.generation = library, generation
        for listener in self.listeners:
            listener(library)

    async def refresh(self) -> bool:
        """Reload when another process changed the library; whether it did."""
        if await self.state.library_generation() == self.generation:
            return False
        await self.reload()
        return True

    async def watch(self) -> None:
        """Refresh twice a second, for as long as the process runs."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                await self.refresh()
            except Exception as exc:  # Redis or the store away: the next look tries again
                log.warning("library: not refreshed: %s", type(exc).__name__)

    async def _changed(self) -> None:
        """After a change is stored: every process reloads, this one at once."""
        await self.state.library_changed()
        await self.reload()

    # --- flows ------------------------------------------------------------------------
    async def put_flow(self, flow_id: str, text: str, actor: str) -> tuple[FlowVersion, bool, Flow]:
        """Keep a flow's text as a new version (not yet active); the version, whether it is
        new (the same content again is the version kept) and the flow, with its warnings.
        Refused 422 with every error."""
        source = f"flow {flow_id}"
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FLOW_TEXT:
            raise Refused(413, [FlowError(source, "", f"over {MAX_FLOW_TEXT} bytes")])
        # Up to 256 KiB of YAML is most of a second to parse: in a thread, off the event loop.
        flow, errors = await asyncio.to_thread(read_flow_text, text, flow_id, source)
        if flow is None:
            raise Refused(422, errors)
        hashed = await asyncio.to_thread(digest, text)
        kept = {v.version: v for v in await self.store.flow_versions(flow_id)}
        same = next((v for v in kept.values() if v.digest == hashed), None)
        if same is not None:
            return same, False, flow
        if flow.version in kept:
            why = f"version {flow.version!r} is kept with other content: give another or none"
            raise Refused(422, [FlowError(source, "version", why)])
        version = FlowVersion(flow_id, flow.version, hashed, text, _now(), actor)
        await self.store.add_flow_version(version)
        await self.store.audit(actor, "flow.upload", flow_id, {"version": flow.version})
        await self._changed()
        return version, True, flow

    async def versions(self, flow_id: str) -> list[FlowVersion]:
        """A flow's versions, oldest first (Refused 404 for a flow with none)."""
        found = await self.store.flow_versions(flow_id)
        if not found:
            raise Refused(404, [FlowError(f"flow {flow_id}", "", "no such flow")])
        return found

    async def version(self, flow_id: str, version: str) -> FlowVersion:
        found = next((v for v in await self.versions(flow_id) if v.version == version), None)
        if found is None:
            raise Refused(404, [FlowError(f"flow {flow_id}", "version", "no such version")])
        return found

    async def activate(self, flow_id: str, version: str, actor: str) -> str | None:
        """Make a version the one new surveys use (also a rollback); the version it replaces.
        Refused 404 for an unknown version, 422 when a service on the flow could not use it."""
        await self.version(flow_id, version)
        if (flow_id, version) not in self.parsed:
            await self.reload()
        active = await self.store.active_flows()
        before = active[flow_id].version if flow_id in active else None
        if before == version:
            return before
        active[flow_id] = Active(version, active[flow_id].seeded if flow_id in active else None)
        self._check(active=active)
        await self.store.set_active(flow_id, version, by=actor)
        await self.store.audit(
            actor, "flow.activate", flow_id, {"before": before, "after": version}
        )
        await self._changed()
        return before

    def _check(
        self,
        *,
        active: Mapping[str, Active] | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        service: int | None = None,
    ) -> None:
        """Refused 422 unless the library would still be valid with this change."""
        _, errors = build(self.catalog, self.source, self.parsed,
                          self.library.active if active is None else active,
                          self.library.settings if settings is None else settings,
                          self.kinds)  # fmt: skip
        if errors:
            raise Refused(422, in_service(errors, service) if service is not None else errors)

    # --- services ---------------------------------------------------------------------
    def _entry(self, service_id: str) -> tuple[int, dict[str, Any]]:
        for index, entry in enumerate(self.catalog.get("services", [])):
            if isinstance(entry, dict) and entry.get("id") == service_id:
                return index, entry
        raise Refused(404, [FlowError(f"service {service_id}", "", "no such service")])

    def effective(self, service_id: str) -> dict[str, Any]:
        """A service's mutable fields as they now are (the file's, with its settings)."""
        _, entry = self._entry(service_id)
        merged = _in_force(entry, self.library.settings.get(service_id, {}))
        return {name: merged.get(name) for name in MUTABLE}

    async def change_service(
        self, service_id: str, change: Mapping[str, Any], actor: str, *, action: str = "change"
    ) -> dict[str, Any]:
        """Change a service's mutable fields (``None``: back to the file's value), checked
        by the catalog's schema and rules; the fields before and after. Refused 404/422."""
        entry, current, updated = await self._changed_settings(service_id, change)
        before = {k: _in_force(entry, current).get(k) for k in change}
        after = {k: _in_force(entry, updated).get(k) for k in change}
        if before == after:
            return {"before": before, "after": after}
        await self.store.set_service_settings(service_id, updated, actor)
        await self.store.audit(actor, f"service.{action}", service_id,
                               {"before": before, "after": after})  # fmt: skip
        await self._changed()
        return {"before": before, "after": after}

    async def check_service(self, service_id: str, change: Mapping[str, Any]) -> None:
        """Refused (404, 422 with every error at its field) as ``change_service`` would be;
        nothing is saved (what a preview checks)."""
        await self._changed_settings(service_id, change)

    async def _changed_settings(
        self, service_id: str, change: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """A service's catalog entry, its stored settings and those ``change`` would make,
        checked by the catalog's schema and rules (Refused 404/422)."""
        index, entry = self._entry(service_id)
        errors = settings_errors(service_id, change)
        if errors:
            raise Refused(422, errors)
        # The settings as stored, not as this process last loaded them: a change another
        # process made a moment ago is built on, not overwritten.
        stored = await self.store.service_settings()
        current = stored.get(service_id, {})
        updated = {k: v for k, v in {**current, **change}.items() if v is not None}
        updated = {k: v for k, v in updated.items() if entry.get(k, _UNSET) != v}
        self._check(settings={**stored, service_id: updated}, service=index)
        return entry, current, updated

    async def history(self, service_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """A service's changes, newest first, from the audit log."""
        self._entry(service_id)
        return await self.store.audit_entries(target=service_id, action="service.", limit=limit)

    async def restore(self, service_id: str, entry_id: int, actor: str) -> dict[str, Any]:
        """Put back the settings a change replaced (its ``before``)."""
        self._entry(service_id)
        entry = None
        if 0 < entry_id < 2**31 - 1:  # audit ids are an INTEGER column
            found = await self.store.audit_entries(
                before=entry_id + 1, limit=1, target=service_id, action="service."
            )
            entry = found[0] if found and found[0]["id"] == entry_id else None
        if entry is None:
            raise Refused(404, [FlowError(f"service {service_id}", "", "no such change")])
        return await self.change_service(service_id, entry["details"]["before"], actor,
                                         action="restore")  # fmt: skip

    # --- files ------------------------------------------------------------------------
    async def export(self, directory: Path) -> list[Path]:
        """Write each active flow's text, as kept, to ``DIR/<flow id>.yaml``, and the catalog
        with its settings laid over to ``DIR/services.yaml``: for the agency's repository."""
        texts = {(v.flow_id, v.version): v.text for v in await self.store.flow_versions()}
        out: dict[Path, str] = {
            directory / f"{flow_id}.yaml": texts[(flow_id, a.version)]
            for flow_id, a in sorted(self.library.active.items())
            if (flow_id, a.version) in texts
        }
        if self.library.settings:
            catalog = with_settings(self.catalog, self.library.settings)
            out[directory / "services.yaml"] = CATALOG_HEAD + yaml.safe_dump(
                catalog, sort_keys=False, allow_unicode=True
            )

        def write() -> None:
            directory.mkdir(parents=True, exist_ok=True)
            for path, text in out.items():
                path.write_text(text, encoding="utf-8")

        await asyncio.to_thread(write)
        return list(out)


_UNSET = object()


def _in_force(entry: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """A service's fields in force: the defaults, its catalog entry, its settings over them."""
    return {**DEFAULTS, **entry, **settings}


CATALOG_HEAD = (
    "# The service catalog as the running bot holds it (feedback-bot flows export): the file's\n"
    "# entries with the settings admins changed at run time laid over them.\n"
)


@contextlib.asynccontextmanager
async def watching(live: Live) -> AsyncIterator[Live]:
    """Watch ``live`` for changes while the block runs."""
    task = asyncio.create_task(live.watch(), name="library-watch")
    try:
        yield live
    finally:
        await cancel_and_wait(task, "the library watch")
