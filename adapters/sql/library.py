"""The library's rows (bot.core.library): every version of every flow, the active one of
each, and the settings of services changed at run time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.core.sinks import Active, FlowVersion

from .base import SqlBase
from .schema import as_utc, flow_active, flow_versions, from_db, record_of, service_settings


class LibraryRows(SqlBase):
    """Flow versions, the active version of each flow, services' run-time settings."""

    async def flow_versions(self, flow_id: str | None = None) -> list[FlowVersion]:
        """Every stored version (of one flow), oldest first."""
        query = select(flow_versions).order_by(flow_versions.c.created_at, flow_versions.c.version)
        if flow_id is not None:
            query = query.where(flow_versions.c.flow_id == flow_id)
        return [
            FlowVersion(
                row.flow_id,
                row.version,
                row.digest,
                row.text,
                from_db(row.created_at).isoformat(),
                row.created_by,
            )
            for row in await self._rows(query)
        ]

    async def add_flow_version(self, version: FlowVersion) -> bool:
        """Keep a version; False when that flow already has that version (two processes
        seeding at once both get here: the second finds it kept)."""
        insert = self._insert()
        row = {"flow_id": version.flow_id, "version": version.version, "digest": version.digest,
               "text": version.text, "created_at": as_utc(version.created_at),
               "created_by": version.created_by[:128]}  # fmt: skip
        statement = insert(flow_versions).values(**row).on_conflict_do_nothing()
        async with self._writing() as conn:
            return bool((await conn.execute(statement)).rowcount)

    async def active_flows(self) -> dict[str, Active]:
        rows = await self._rows(select(flow_active))
        return {row.flow_id: Active(row.version, row.seeded) for row in rows}

    async def set_active(
        self, flow_id: str, version: str, *, seeded: str | None = None, by: str = ""
    ) -> None:
        row: dict[str, Any] = {"flow_id": flow_id, "version": version,
                               "changed_at": datetime.now(UTC), "changed_by": by[:128]}  # fmt: skip
        if seeded is not None:
            row["seeded"] = seeded
        await self._put(flow_active, "flow_id", row)

    async def service_settings(self) -> dict[str, dict[str, Any]]:
        rows = await self._rows(select(service_settings))
        return {row.service_id: dict(record_of(row.settings)) for row in rows}

    async def set_service_settings(
        self, service_id: str, settings: dict[str, Any], by: str
    ) -> None:
        if not settings:
            async with self._writing() as conn:
                where = service_settings.c.service_id == service_id
                await conn.execute(service_settings.delete().where(where))
            return
        await self._put(service_settings, "service_id", {
            "service_id": service_id, "settings": settings,
            "changed_at": datetime.now(UTC), "changed_by": by[:128]})  # fmt: skip
