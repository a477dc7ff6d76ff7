"""Writing: response records (the outbox's sink), cases, what outside stores answered,
the audit log, forgetting a person and the retention pass's reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table, and_, any_, bindparam, column, func, select, text
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from bot.core.sinks import Forward, Prepared, Preparer, Refused, ResponseRecord, SinkError

from .base import SqlBase, StoreUnavailable, describe, permanent, sink_error, to_json
from .bulk import keep_copied, part, prepare_copy, prepare_rows
from .schema import (
    Rows,
    as_utc,
    audit,
    cases,
    comment_themes,
    comments,
    forwards,
    from_db,
    record_of,
    response_dimensions,
    responses,
    storable,
)

ID_CHUNK = 5000  # ids a statement names at most (a statement's parameters are limited)
COPY_FROM = 100  # rows at which PostgreSQL is given them by COPY (an import's batches)


class Writes(SqlBase):
    """Response records, cases, forwards and the audit log."""

    async def write(self, record: ResponseRecord) -> None:
        """Keep a record (the outbox's sink); one stored before under its ``response_id`` is
        replaced. SinkError says whether to retry."""
        await self.write_many([record])

    async def write_many(self, records: Sequence[ResponseRecord]) -> None:
        """Keep records in one transaction, as ``write`` keeps each (a benchmark's load);
        SinkError says whether to retry."""
        batch = _rows_or_refused(records)
        try:
            async with self.engine.begin() as conn:
                await self._keep(conn, batch, replace=True)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise sink_error(exc) from None

    async def add(self, records: Sequence[ResponseRecord]) -> int:
        """Keep the records not stored yet (an import) and return how many were new; one
        whose ``response_id`` is stored already is left as it is, so adding the same records
        twice changes nothing. Refused (with the index of the record, and the records before
        it stored) when one can never be stored; StoreUnavailable when the store cannot
        answer (nothing of the batch is stored)."""
        batch: list[Rows] = []
        refused: Refused | None = None
        for index, record in enumerate(records):
            rows = storable(record)
            if isinstance(rows, str):
                refused = Refused(rows, index)
                break
            batch.append(rows)
        new = await self._add(batch)
        if refused is not None:
            refused.stored = new
            raise refused
        return new

    async def _add(self, batch: list[Rows]) -> int:
        try:
            async with self.engine.begin() as conn:
                return await self._keep(conn, batch, replace=False)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if not permanent(exc):
                raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
            if len(batch) == 1:
                raise Refused(f"the store refused it: {describe(exc)}", 0) from None
        # A value no check foresaw: one record at a time, to name it (and keep those before).
        new = 0
        for index, rows in enumerate(batch):
            try:
                new += await self._add([rows])
            except Refused as exc:
                raise Refused(str(exc), index, stored=new) from None
        return new

    def preparer(self) -> Preparer:
        """An import's lines made ready as COPY text in worker processes on PostgreSQL, as
        rows in a thread on SQLite (``bulk``)."""
        if self.dialect == "postgresql":
            return Preparer(prepare_copy, apart=True)
        return Preparer(prepare_rows, apart=False)

    async def add_prepared(self, prepared: Prepared) -> int:
        """``add`` for records made ready by ``preparer`` (only the ready ones: the caller
        says what is wrong with the bad line after them)."""
        if prepared.shape is None:
            return await self._add(prepared.rows)
        try:
            async with self.engine.begin() as conn:
                return await keep_copied(conn, prepared)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if not permanent(exc):
                raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
            if len(prepared.ids) == 1:
                raise Refused(f"the store refused it: {describe(exc)}", 0) from None
        # A value no check foresaw: one record at a time, to name it (and keep those before).
        new = 0
        for index in range(len(prepared.ids)):
            try:
                new += await self.add_prepared(part(prepared, index))
            except Refused as exc:
                raise Refused(str(exc), index, stored=new) from None
        return new

    async def _keep(self, conn: Any, batch: list[Rows], *, replace: bool) -> int:
        """Write a batch's rows on ``conn``: each record's ``responses`` row (replacing one of
        the same ``response_id``, or leaving it), then, for the records written, the rows of
        the tables derived from them. Returns how many records were written."""
        latest = {rows[responses][0]["response_id"]: rows for rows in batch}
        if not replace:  # the first of two alike is the one kept, as a second import would
            latest = {}
            for rows in batch:
                latest.setdefault(rows[responses][0]["response_id"], rows)
        if not latest:
            return 0
        heads = [rows[responses][0] for rows in latest.values()]
        written = await self._insert_rows(conn, responses, heads, replace=replace)
        for table in {t for rows in latest.values() for t in rows if t is not responses}:
            if replace:  # what a record was derived into before goes with its old version
                for start in range(0, len(written), ID_CHUNK):
                    chunk = written[start : start + ID_CHUNK]
                    await conn.execute(table.delete().where(table.c.response_id.in_(chunk)))
            derived = [row for i in written for row in latest[i].get(table, [])]
            if derived:
                await self._insert_rows(conn, table, derived, replace=None)
        return len(written)

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

    async def case_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """How many cases were opened in ``[since, until)``, per service (a grouped count:
        nothing about a case but its service is read)."""
        query = (
            select(cases.c.service_id, func.count())
            .where(cases.c.created_at >= as_utc(since), cases.c.created_at < as_utc(until))
            .group_by(cases.c.service_id)
        )
        return {row[0] or "(no service)": int(row[1]) for row in await self._rows(query)}

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
            await conn.execute(comments.delete().where(comments.c.response_id.in_(ids)))
            await conn.execute(comment_themes.delete().where(comment_themes.c.response_id.in_(ids)))
            await conn.execute(
                response_dimensions.delete().where(response_dimensions.c.response_id.in_(ids))
            )
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
        action: str | None = None, actor: str | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Audit entries, newest first; ``before`` is an entry id (paging); ``target``,
        ``action`` (a prefix, such as ``service.``) and ``actor`` narrow them."""
        query = select(audit).order_by(audit.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(audit.c.id < before)
        if target is not None:
            query = query.where(audit.c.target == target)
        if action is not None:
            query = query.where(audit.c.action.startswith(action, autoescape=True))
        if actor is not None:
            query = query.where(audit.c.actor == actor)
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

    async def _insert_rows(
        self, conn: Any, table: Table, rows: list[dict[str, Any]], *, replace: bool | None
    ) -> list[str]:
        """Insert rows into ``table``: on a conflict of ``response_id`` replace the row
        (``replace``) or leave it (False), or expect none (None); the ids written. Many rows
        on PostgreSQL go by COPY (several times quicker than a multi-row INSERT): straight
        into the table when none conflicts, else into a temporary table and on by one
        INSERT … SELECT that settles the conflicts."""
        many = self.dialect == "postgresql" and len(rows) >= COPY_FROM
        if many and replace is not True:
            fresh = rows
            if replace is False:
                ids = [row["response_id"] for row in rows]
                # one array parameter: an IN of 2,000 would be 2,000 parameters to bind
                wanted = bindparam("ids", ids, type_=ARRAY(table.c.response_id.type))
                held = set((await conn.execute(
                    select(table.c.response_id).where(table.c.response_id == any_(wanted))
                )).scalars())  # fmt: skip
                fresh = [row for row in rows if row["response_id"] not in held]
            if not fresh:
                return []
            try:
                async with conn.begin_nested():
                    await _copy(conn, table, table.name, fresh)
                return [row["response_id"] for row in fresh]
            except IntegrityError:
                if replace is None:
                    raise
                # another writer stored one of them meanwhile: the way that settles conflicts
        columns = list(rows[0])
        if many:
            staging = f"incoming_{table.name}"
            await conn.execute(text(f"CREATE TEMP TABLE {staging} (LIKE {table.name}) "
                                    "ON COMMIT DROP"))  # fmt: skip
            await _copy(conn, table, staging, rows)
            source: Any = select(*(column(c) for c in columns)).select_from(sql_table(staging))
            statement: Any = pg_insert(table).from_select(columns, source)
        else:
            statement = self._insert()(table)
        if replace:
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.response_id],
                set_={c: statement.excluded[c] for c in columns if c != "response_id"},
            )
        elif replace is False:
            statement = statement.on_conflict_do_nothing(index_elements=[table.c.response_id])
        statement = statement.returning(table.c.response_id)
        result = await (conn.execute(statement) if many else conn.execute(statement, rows))
        return [row[0] for row in result]


async def _copy(conn: Any, table: Table, into: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows (shaped for ``table``) into the table ``into``, on the connection's
    transaction (which a statement through SQLAlchemy must have begun); the driver's errors
    as SQLAlchemy's, so they are told apart as every other store error is."""
    import asyncpg

    columns = list(rows[0])
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    records = [tuple(to_json(row[c]) if c in json_columns else row[c] for c in columns)
               for row in rows]  # fmt: skip
    driver = (await conn.get_raw_connection()).driver_connection
    try:
        await driver.copy_records_to_table(into, columns=columns, records=records)
    except asyncpg.PostgresError as exc:
        kind = IntegrityError if str(exc.sqlstate).startswith("23") else DBAPIError
        raise kind(f"COPY {into}", None, exc) from None


def _rows_or_refused(records: Sequence[ResponseRecord]) -> list[Rows]:
    """The rows of records the outbox hands over; SinkError (never retried) for one the store
    could never take."""
    batch = []
    for record in records:
        rows = storable(record)
        if isinstance(rows, str):
            raise SinkError(f"measures store refused the record: {rows}", retryable=False)
        batch.append(rows)
    return batch
