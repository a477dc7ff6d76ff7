"""Writing: response records (the outbox's sink), cases, what outside stores answered,
the audit log, forgetting a person and the retention pass's reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError

from bot.core.sinks import Forward, ResponseRecord, SinkError

from .base import SqlBase, StoreUnavailable, describe
from .schema import (
    as_utc,
    audit,
    cases,
    forwards,
    from_db,
    record_of,
    response_row,
    responses,
)


class Writes(SqlBase):
    """Response records, cases, forwards and the audit log."""

    async def write(self, record: ResponseRecord) -> None:
        await self._upsert(responses, "response_id", response_row(record))

    async def write_many(self, records: list[ResponseRecord]) -> None:
        """Write records in one statement (a backfill, the benchmarks); a record already
        stored is replaced, as by ``write``."""
        if not records:
            return
        insert = self._insert()
        statement = insert(responses)
        statement = statement.on_conflict_do_update(
            index_elements=[responses.c.response_id],
            set_={k: statement.excluded[k] for k in response_row(records[0]) if k != "response_id"},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement, [response_row(r) for r in records])

    async def write_case(self, case: dict[str, Any]) -> None:
        def moment(name: str) -> datetime | None:
            return as_utc(case[name]) if case.get(name) else None

        row = {
            "case_id": case["case_id"],
            "response_id": case.get("response_id"),
            "service_id": case.get("service"),
            "status": case["status"],
            "reasons": ",".join(case["reasons"])[:255],
            "created_at": as_utc(case["created_at"]),
            "claimed_by": case.get("claimed_by"),
            "claimed_at": moment("claimed_at"),
            "closed_by": case.get("closed_by"),
            "closed_at": moment("closed_at"),
            "escalated_at": moment("escalated_at"),
            "record": case,
            "updated_at": datetime.now(UTC),
        }
        await self._upsert(cases, "case_id", row)

    async def recent_cases(
        self, *, service: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        query = select(cases.c.record).order_by(cases.c.updated_at.desc()).limit(limit)
        if service:
            query = query.where(cases.c.service_id == service)
        if status:
            query = query.where(cases.c.status == status)
        return [dict(record_of(row)) for row in await self._records(query)]

    async def case(self, case_id: str) -> dict[str, Any] | None:
        """A case's stored outcome."""
        rows = await self._records(select(cases.c.record).where(cases.c.case_id == case_id))
        return dict(record_of(rows[0])) if rows else None

    async def forward(self, response_id: str, sink: str) -> Forward | None:
        """What ``sink`` answered for a response so far, if it was ever tried."""
        query = select(forwards.c.remote_id, forwards.c.attempted_at).where(
            forwards.c.response_id == response_id, forwards.c.sink == sink
        )
        try:
            async with self.engine.connect() as conn:
                row = (await conn.execute(query)).first()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise SinkError(
                f"measures store unavailable: {describe(exc)}", retryable=True
            ) from None
        if row is None:
            return None
        attempted: datetime = row[1]  # SQLite gives it back without its zone: UTC
        return Forward(row[0], attempted.replace(tzinfo=attempted.tzinfo or UTC))

    async def forward_attempted(self, response_id: str, sink: str, at: datetime) -> None:
        """Note that ``sink`` is about to be sent the response (before the send)."""
        row = {"response_id": response_id, "sink": sink, "attempted_at": as_utc(at)}
        await self._upsert(forwards, ("response_id", "sink"), row)

    async def forwarded(self, response_id: str, sink: str, remote_id: str, at: datetime) -> None:
        """Keep the id ``sink`` gave the response: it is never sent there again."""
        row = {"response_id": response_id, "sink": sink, "attempted_at": as_utc(at),
               "remote_id": remote_id, "forwarded_at": as_utc(at)}  # fmt: skip
        await self._upsert(forwards, ("response_id", "sink"), row)

    async def with_text_before(self, cutoff: datetime, limit: int = 500) -> list[ResponseRecord]:
        """Records that ended before ``cutoff`` and still hold free text (for retention)."""
        query = (
            select(responses.c.record)
            .where(and_(responses.c.ended_at < as_utc(cutoff), responses.c.free_text.is_not(None)))
            .order_by(responses.c.ended_at)
            .limit(limit)
        )
        return [record_of(value) for value in await self._records(query)]

    async def forget(self, respondent: str) -> dict[str, int]:
        """Delete every response of a respondent (a pseudonym) and the cases opened from them;
        the numbers deleted."""
        ids = select(responses.c.response_id).where(responses.c.respondent == respondent)
        async with self._writing() as conn:
            removed_cases = await conn.execute(cases.delete().where(cases.c.response_id.in_(ids)))
            await conn.execute(forwards.delete().where(forwards.c.response_id.in_(ids)))
            removed = await conn.execute(
                responses.delete().where(responses.c.respondent == respondent)
            )
        return {"responses": removed.rowcount, "cases": removed_cases.rowcount}

    async def audit(self, actor: str, action: str, target: str | None,
                    details: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Write one entry of the audit log."""
        row = {"at": datetime.now(UTC), "actor": actor[:128], "action": action[:64],
               "target": target[:255] if target else None, "details": details or {}}  # fmt: skip
        async with self._writing() as conn:
            await conn.execute(audit.insert().values(**row))

    async def audit_entries(
        self, *, before: int | None = None, limit: int = 100, target: str | None = None,
        action: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Audit entries, newest first; ``before`` is an entry id (paging); ``target`` and
        ``action`` (a prefix, such as ``service.``) narrow them."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(audit.c.id < before)
        if target is not None:
            query = query.where(audit.c.target == target)
        if action is not None:
            query = query.where(audit.c.action.startswith(action, autoescape=True))
        try:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(query)).mappings().all()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
        return [
            {"id": row["id"], "at": from_db(row["at"]).isoformat(), "actor": row["actor"],
             "action": row["action"], "target": row["target"], "details": record_of(row["details"])}
            for row in rows
        ]  # fmt: skip
