"""The measures store in SQL: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production.

Migrations are plain ordered steps recorded in ``schema_migrations``; ``feedback-bot migrate``
(the Procfile's ``release:``) runs them, and start-up runs any that are missing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    NotSupportedError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from bot.errors import RetryableError
from bot.sinks import ResponseRecord, SinkError

# aiosqlite logs every statement with its parameters (free text) at DEBUG.
logging.getLogger("aiosqlite").setLevel(logging.INFO)

metadata = MetaData()
responses = Table(
    "responses",
    metadata,
    Column("response_id", String(64), primary_key=True),
    Column("survey_id", String(64), nullable=False),
    Column("transaction_id", String(128), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("flow_id", String(64), nullable=False),
    Column("flow_version", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("reported_channel", String(32), nullable=False),
    Column("language", String(8), nullable=False),
    Column("respondent", String(64), nullable=False),
    Column("disposition", String(32), nullable=False),
    Column("reason", String(64)),
    Column("transaction_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("question_1", Integer),
    Column("sentiment_label", String(16)),
    Column("sentiment_polarity", Float),
    Column("free_text", Text),
    Column("record", JSON, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("response_id", String(64)),
    Column("service_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("reasons", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(32)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("closed_by", String(32)),
    Column("closed_at", DateTime(timezone=True)),
    Column("escalated_at", DateTime(timezone=True)),
    Column("record", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

Migration = Callable[[AsyncConnection], Any]


async def _m1_responses(conn: AsyncConnection) -> None:
    await conn.run_sync(lambda sync: responses.create(sync, checkfirst=True))
    for name, columns in (
        ("ix_responses_service_transaction", "service_id, transaction_at"),
        ("ix_responses_ended", "ended_at, response_id"),
        ("ix_responses_disposition", "disposition"),
    ):
        await conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON responses ({columns})"))


async def _m2_cases(conn: AsyncConnection) -> None:
    await conn.run_sync(lambda sync: cases.create(sync, checkfirst=True))
    await conn.execute(text("CREATE INDEX IF NOT EXISTS ix_cases_response ON cases (response_id)"))


MIGRATIONS: Sequence[tuple[int, str, Migration]] = (
    (1, "responses table", _m1_responses),
    (2, "cases table", _m2_cases),
)


def database_url(url: str | None, default_dir: Path) -> str:
    """An async SQLAlchemy URL: postgres:// -> asyncpg; unset -> a SQLite file."""
    if not url:
        default_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{default_dir / 'measures.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def _time(value: str | datetime) -> datetime:
    # Everything is stored in UTC: SQLite keeps no offset, so mixed offsets would misorder.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(UTC)


class SqlStore:
    """The SQL measures store; an idempotent sink and the source of reports."""

    name = "sql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)
        self.dialect = self.engine.dialect.name

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    async def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns what was applied."""
        applied: list[str] = []
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":  # one migrator at a time across processes
                await conn.execute(text("SELECT pg_advisory_xact_lock(280280)"))
            await conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS schema_migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
                )
            )
            done = {
                row[0] for row in await conn.execute(text("SELECT version FROM schema_migrations"))
            }
            for version, name, step in MIGRATIONS:
                if version in done:
                    continue
                await step(conn)
                await conn.execute(
                    text("INSERT INTO schema_migrations (version, name) VALUES (:v, :n)"),
                    {"v": version, "n": name},
                )
                applied.append(f"{version} {name}")
        return applied

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        await self._records(text("SELECT 1"))

    async def _records(self, query: Executable) -> list[Any]:
        """The first column of every row a query gives; StoreUnavailable when the store
        cannot answer (the API answers 503, a worker retries)."""
        try:
            async with self.engine.connect() as conn:
                return [row[0] for row in await conn.execute(query)]
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None

    async def write(self, record: ResponseRecord) -> None:
        row = {
            "response_id": record["response_id"],
            "survey_id": record["survey_id"],
            "transaction_id": record["transaction_id"],
            "service_id": record["service_id"],
            "flow_id": record["flow_id"],
            "flow_version": record["flow_version"],
            "channel": record["channel"],
            "reported_channel": record["reported_channel"],
            "language": record["language"],
            "respondent": record["respondent"],
            "disposition": record["disposition"],
            "reason": record["reason"],
            "transaction_at": _time(record["timestamps"]["transaction"]),
            "ended_at": _time(record["timestamps"]["ended"]),
            "question_1": record["a11"].get("question_1"),
            "sentiment_label": (record["sentiment"] or {}).get("label"),
            "sentiment_polarity": (record["sentiment"] or {}).get("polarity"),
            "free_text": record["free_text"],
            "record": record,
            "schema_version": record["schema_version"],
            "stored_at": datetime.now(UTC),
        }
        await self._upsert(responses, "response_id", row)

    async def write_case(self, case: dict[str, Any]) -> None:
        def moment(name: str) -> datetime | None:
            return _time(case[name]) if case.get(name) else None

        row = {
            "case_id": case["case_id"],
            "response_id": case.get("response_id"),
            "service_id": case.get("service"),
            "status": case["status"],
            "reasons": ",".join(case["reasons"])[:255],
            "created_at": _time(case["created_at"]),
            "claimed_by": case.get("claimed_by"),
            "claimed_at": moment("claimed_at"),
            "closed_by": case.get("closed_by"),
            "closed_at": moment("closed_at"),
            "escalated_at": moment("escalated_at"),
            "record": case,
            "updated_at": datetime.now(UTC),
        }
        await self._upsert(cases, "case_id", row)

    async def case(self, case_id: str) -> dict[str, Any] | None:
        """A case's stored outcome."""
        rows = await self._records(select(cases.c.record).where(cases.c.case_id == case_id))
        return _record(rows[0]) if rows else None

    async def _upsert(self, table: Table, key: str, row: dict[str, Any]) -> None:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(table).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={k: statement.excluded[k] for k in row if k != key},
        )
        try:
            async with self.engine.begin() as conn:
                await conn.execute(statement)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if permanent(exc):
                raise SinkError(f"measures store refused the record: {describe(exc)}",
                                retryable=False) from None  # fmt: skip
            raise SinkError(
                f"measures store unavailable: {describe(exc)}", retryable=True
            ) from None

    async def responses(
        self,
        *,
        service: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        disposition: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 100,
    ) -> list[ResponseRecord]:
        query = select(responses.c.record, responses.c.ended_at).order_by(
            responses.c.ended_at, responses.c.response_id
        )
        conditions = []
        if service:
            conditions.append(responses.c.service_id == service)
        if since:
            conditions.append(responses.c.ended_at >= _time(since))
        if until:
            conditions.append(responses.c.ended_at < _time(until))
        if disposition:
            conditions.append(responses.c.disposition == disposition)
        if after:
            ended, response_id = _time(after[0]), after[1]
            conditions.append(
                or_(
                    responses.c.ended_at > ended,
                    and_(responses.c.ended_at == ended, responses.c.response_id > response_id),
                )
            )
        if conditions:
            query = query.where(and_(*conditions))
        return [_record(value) for value in await self._records(query.limit(limit))]

    async def records_between(
        self, since: datetime, until: datetime, service: str | None = None
    ) -> list[ResponseRecord]:
        start, end = _time(since), _time(until)
        c = responses.c
        query = select(c.record).where(
            or_(
                and_(c.transaction_at >= start, c.transaction_at < end),
                and_(c.ended_at >= start, c.ended_at < end),
            )
        )
        if service:
            query = query.where(responses.c.service_id == service)
        return [_record(value) for value in await self._records(query)]


# SQLSTATE classes of an error the same statement will meet again however long it waits:
# data exceptions (22: a NUL in text, a value out of range), integrity (23), and features
# not supported (0A). Everything else (connections, resources, locks, an operator's
# shutdown, a missing table that a migration will make) can pass.
_PERMANENT_SQLSTATE = ("22", "23", "0A")


def permanent(exc: BaseException) -> bool:
    """Whether a store error will recur on every retry of the same statement."""
    if isinstance(exc, DataError | IntegrityError | NotSupportedError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return True  # a value SQLAlchemy could not bind: it will not bind next time either
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_PERMANENT_SQLSTATE)


def describe(exc: BaseException) -> str:
    """What went wrong, without the statement or its parameters (they hold free text)."""
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return f"{type(exc).__name__}" + (f" (SQLSTATE {sqlstate})" if sqlstate else "")


class StoreUnavailable(RetryableError):
    """The measures store cannot answer now (the API answers 503)."""


def _record(value: Any) -> ResponseRecord:
    record: ResponseRecord = json.loads(value) if isinstance(value, str) else value
    return record
