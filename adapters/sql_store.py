"""The measures store in SQL: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production.

Migrations are Alembic revisions in ``adapters/sql_migrations``; ``feedback-bot migrate`` (the
Procfile's ``release:``) runs them, start-up runs any that are missing, and
``feedback-bot migrate --sql`` prints their SQL for review.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    NotSupportedError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from bot.core.errors import RetryableError
from bot.core.measures import percentile, tally_fields
from bot.core.sinks import Active, FlowVersion, Forward, ResponseRecord, SinkError, TallyGroup

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
    # What summaries sum (bot.core.measures.tally_fields), so the console's overview needs no
    # record (migration 0005; rows stored before it were backfilled from their record).
    Column("reported_at", DateTime(timezone=True)),
    Column("offered", Boolean),
    Column("responded", Boolean),
    Column("trust_value", Integer),
    Column("started", Boolean),
    Column("completed", Boolean),
    Column("first_reply_minutes", Float),
    Column("completion_minutes", Float),
    Column("reprompts", Integer),
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

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255)),
    Column("details", JSON, nullable=False),
)

# What an outside store answered for a response: the attempt is recorded before each post,
# the remote id once it took it (Touchpoints has no idempotency key of its own).
forwards = Table(
    "forwards",
    metadata,
    Column("response_id", String(64), primary_key=True),
    Column("sink", String(64), primary_key=True),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("remote_id", String(64)),
    Column("forwarded_at", DateTime(timezone=True)),
)

# The library (bot.core.library): every version of every flow, the active one of each, and
# the settings of services changed at run time (migration 0006).
flow_versions = Table(
    "flow_versions",
    metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(128), nullable=False),
)
flow_active = Table(
    "flow_active",
    metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("seeded", String(64)),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(128), nullable=False),
)
service_settings = Table(
    "service_settings",
    metadata,
    Column("service_id", String(64), primary_key=True),
    Column("settings", JSON, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(128), nullable=False),
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "sql_migrations"
# The steps of ``schema_migrations``, the store's migrations before Alembic, and the revision
# each one equals: a store made then is stamped at it and upgraded from there, its data kept.
LEGACY_STEPS = {1: "0001", 2: "0002"}
STREAM_ROWS = 5000  # records read at a time for a report: the event loop runs between them
_PG_MIGRATION_LOCK = 280280  # pg_advisory_xact_lock key: one migrator at a time


def alembic_config(url: str | None = None) -> Config:
    """Alembic's configuration for the store's migrations (no alembic.ini needed)."""
    # Alembic is imported where migrations run: it costs a third of a second at start-up.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_sql(url: str, since: str | None = None) -> str:
    """The SQL that brings a store from ``since`` (default: empty) to the newest revision, for
    a DBA to review; nothing is run."""
    from alembic import command

    config = alembic_config(url)
    config.output_buffer = io.StringIO()
    command.upgrade(config, f"{since}:head" if since else "head", sql=True)
    return str(config.output_buffer.getvalue())


def _upgrade(connection: Connection) -> list[str]:
    """Upgrade to the newest revision on ``connection`` (in its transaction), first adopting
    a store made by ``schema_migrations``; returns what was applied."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config()
    config.attributes["connection"] = connection
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None and inspect(connection).has_table("schema_migrations"):
        legacy = connection.execute(text("SELECT version FROM schema_migrations"))
        steps = [row[0] for row in legacy]
        if steps:
            current = LEGACY_STEPS[max(steps)]
            command.stamp(config, current)
    script = ScriptDirectory.from_config(config)
    pending = list(script.iterate_revisions("head", current or "base"))
    command.upgrade(config, "head")
    return [f"{rev.revision} {rev.doc.splitlines()[0]}" for rev in reversed(pending)
            if rev.revision != current]  # fmt: skip


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
        """Bring the tables up to date with Alembic; returns the revisions applied.

        Safe when several processes start at once on a fresh store: PostgreSQL serialises them
        on an advisory lock held in the migration's transaction, SQLite on a lock file beside
        the database; a process that waited finds the store current and applies nothing.
        """
        async with self._sqlite_lock(), self.engine.begin() as conn:
            if self.dialect == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            applied: list[str] = await conn.run_sync(_upgrade)
        await self.backfill_tallies()
        return applied

    async def backfill_tallies(self, batch: int = 1000) -> int:
        """Give rows stored before migration 0005 (or whose SQL a DBA applied by hand) what
        summaries sum, from their own record; idempotent, and quick when none is left."""
        done = 0
        c = responses.c
        while True:
            query = select(c.response_id, c.record).where(c.reported_at.is_(None)).limit(batch)
            rows = await self._rows(query)
            if not rows:
                return done
            async with self.engine.begin() as conn:
                for response_id, record in rows:
                    fields = tally_fields(_record(record))
                    fields["reported_at"] = _time(fields["reported_at"])
                    await conn.execute(
                        responses.update().where(c.response_id == response_id).values(**fields)
                    )
            done += len(rows)

    @contextlib.asynccontextmanager
    async def _sqlite_lock(self) -> AsyncIterator[None]:
        database = self.engine.url.database if self.dialect == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a+b") as lock:
            await asyncio.to_thread(fcntl.flock, lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        """Raises the driver's own error (start-up names it) when the store cannot answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _records(self, query: Executable) -> list[Any]:
        """The first column of every row a query gives; StoreUnavailable when the store
        cannot answer (the API answers 503, a worker retries)."""
        return [row[0] for row in await self._rows(query)]

    async def _rows(self, query: Executable) -> list[Any]:
        """Every row a query gives, whole."""
        try:
            async with self.engine.connect() as conn:
                return list(await conn.execute(query))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None

    async def write(self, record: ResponseRecord) -> None:
        await self._upsert(responses, "response_id", _response_row(record))

    async def write_many(self, records: list[ResponseRecord]) -> None:
        """Write records in one statement (a backfill, the benchmarks); a record already
        stored is replaced, as by ``write``."""
        if not records:
            return
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(responses)
        statement = statement.on_conflict_do_update(
            index_elements=[responses.c.response_id],
            set_={
                k: statement.excluded[k] for k in _response_row(records[0]) if k != "response_id"
            },
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement, [_response_row(r) for r in records])

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

    async def recent_cases(
        self, *, service: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        query = select(cases.c.record).order_by(cases.c.updated_at.desc()).limit(limit)
        if service:
            query = query.where(cases.c.service_id == service)
        if status:
            query = query.where(cases.c.status == status)
        return [dict(_record(row)) for row in await self._records(query)]

    async def case(self, case_id: str) -> dict[str, Any] | None:
        """A case's stored outcome."""
        rows = await self._records(select(cases.c.record).where(cases.c.case_id == case_id))
        return dict(_record(rows[0])) if rows else None

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
        row = {"response_id": response_id, "sink": sink, "attempted_at": _time(at)}
        await self._upsert(forwards, ("response_id", "sink"), row)

    async def forwarded(self, response_id: str, sink: str, remote_id: str, at: datetime) -> None:
        """Keep the id ``sink`` gave the response: it is never sent there again."""
        row = {"response_id": response_id, "sink": sink, "attempted_at": _time(at),
               "remote_id": remote_id, "forwarded_at": _time(at)}  # fmt: skip
        await self._upsert(forwards, ("response_id", "sink"), row)

    async def _upsert(self, table: Table, key: str | tuple[str, ...], row: dict[str, Any]) -> None:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        keys = (key,) if isinstance(key, str) else key
        statement = insert(table).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys],
            set_={k: statement.excluded[k] for k in row if k not in keys},
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

    async def with_text_before(self, cutoff: datetime, limit: int = 500) -> list[ResponseRecord]:
        """Records that ended before ``cutoff`` and still hold free text (for retention)."""
        query = (
            select(responses.c.record)
            .where(and_(responses.c.ended_at < _time(cutoff), responses.c.free_text.is_not(None)))
            .order_by(responses.c.ended_at)
            .limit(limit)
        )
        return [_record(value) for value in await self._records(query)]

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
            {"id": row["id"], "at": _utc(row["at"]).isoformat(), "actor": row["actor"],
             "action": row["action"], "target": row["target"], "details": _record(row["details"])}
            for row in rows
        ]  # fmt: skip

    # --- the library ---------------------------------------------------------------------
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
                _utc(row.created_at).isoformat(),
                row.created_by,
            )
            for row in await self._rows(query)
        ]

    async def add_flow_version(self, version: FlowVersion) -> bool:
        """Keep a version; False when that flow already has that version (two processes
        seeding at once both get here: the second finds it kept)."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        row = {"flow_id": version.flow_id, "version": version.version, "digest": version.digest,
               "text": version.text, "created_at": _time(version.created_at),
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
        return {row.service_id: dict(_record(row.settings)) for row in rows}

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

    async def _put(self, table: Table, key: str, row: dict[str, Any]) -> None:
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = insert(table).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[key]], set_={k: statement.excluded[k] for k in row if k != key}
        )
        async with self._writing() as conn:
            await conn.execute(statement)

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[Any]:
        """A transaction; StoreUnavailable when the store cannot take it."""
        try:
            async with self.engine.begin() as conn:
                yield conn
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None

    async def tallies(
        self,
        windows: Sequence[tuple[Sequence[str], Sequence[tuple[datetime, datetime]]]],
        timed: Sequence[str] = (),
    ) -> dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]]:
        """Per (service, window index): the sums of the records reported in that window
        (``bot.core.sinks.TallyGroup``) and their time percentiles; ``windows`` gives services
        and the windows they are cut by (services in one time zone share them); percentiles
        only for the ``timed`` services (sorting is most of the cost). One query for the sums;
        the percentiles by PostgreSQL, or from the minutes themselves on SQLite."""
        c = responses.c
        within = [
            (and_(c.service_id.in_(list(ids)), c.reported_at >= _time(start),
                  c.reported_at < _time(end)), index)
            for ids, cuts in windows
            for index, (start, end) in enumerate(cuts)
        ]  # fmt: skip
        bucket = case(*within, else_=None).label("bucket")
        bounds = [moment for _, cuts in windows for cut in cuts for moment in cut]
        where = and_(
            c.service_id.in_([i for ids, _ in windows for i in ids]),
            c.reported_at >= _time(min(bounds)),
            c.reported_at < _time(max(bounds)),
        )
        keys = (c.service_id, bucket, c.flow_id, c.trust_value, c.sentiment_label, c.offered,
                c.responded, c.started, c.completed)  # fmt: skip
        counts = (func.count(), func.coalesce(func.sum(c.reprompts), 0))
        times = {"first_reply_minutes": c.first_reply_minutes,
                 "completion_minutes": c.completion_minutes}  # fmt: skip
        timed_where = and_(where, c.service_id.in_(list(timed)))

        async def sums() -> list[Any]:
            return await self._rows(select(*keys, *counts).where(where).group_by(*keys))

        async def cuts() -> dict[tuple[str, int], dict[str, float | None]]:
            found: dict[tuple[str, int], dict[str, float | None]] = {}
            if not timed:
                return found
            if self.dialect == "postgresql":  # one sort per column; interpolated as ours
                arrays = [func.percentile_cont(array([0.5, 0.9])).within_group(column.asc())
                          for column in times.values()]  # fmt: skip
                query = select(c.service_id, bucket, *arrays).where(timed_where)
                for row in await self._rows(query.group_by(c.service_id, bucket)):
                    if row[1] is not None:
                        found[(row[0], int(row[1]))] = {
                            f"{name}_p{q}": None if value is None else round(float(value), 1)
                            for name, values in zip(times, row[2:], strict=True)
                            for q, value in zip((50, 90), values or (None, None), strict=True)
                        }
                return found
            minutes: dict[tuple[str, int], dict[str, list[float]]] = {}
            query = select(c.service_id, bucket, *times.values()).where(timed_where)
            for row in await self._rows(query):
                for name, value in zip(times, row[2:], strict=True):
                    if row[1] is not None and value is not None:
                        minutes.setdefault((row[0], int(row[1])), {}).setdefault(
                            name, []).append(value)  # fmt: skip
            for key, columns in minutes.items():
                found[key] = {f"{name}_p{q}": percentile(columns.get(name, []), q)
                              for name in times for q in (50, 90)}  # fmt: skip
            return found

        # The two run at once, on two connections: the page waits for the slower only.
        rows, percentiles = await asyncio.gather(sums(), cuts())
        out: dict[tuple[str, int], tuple[list[TallyGroup], dict[str, float | None]]] = {}
        for row in rows:
            if row[1] is not None:
                key = (row[0], int(row[1]))
                groups, _ = out.setdefault(key, ([], percentiles.get(key, {})))
                flags = (bool(row[5]), bool(row[6]), bool(row[7]), bool(row[8]))
                groups.append(TallyGroup(row[2], row[3], row[4], *flags, row[9], row[10]))
        return out

    async def records_between(
        self, since: datetime, until: datetime, service: str | None = None
    ) -> list[ResponseRecord]:
        start, end = _time(since), _time(until)
        c = responses.c
        # The records' text, decoded in a thread by orjson: a quarter can be 100,000 records,
        # and the driver's json.loads on the event loop would hold every webhook up meanwhile.
        query = select(cast(c.record, Text)).where(
            or_(
                and_(c.transaction_at >= start, c.transaction_at < end),
                and_(c.ended_at >= start, c.ended_at < end),
            )
        )
        if service:
            query = query.where(responses.c.service_id == service)
        records: list[ResponseRecord] = []
        try:
            async with self.engine.connect() as conn:
                result = await conn.stream(query.execution_options(yield_per=STREAM_ROWS))
                async for rows in result.partitions():
                    records += await asyncio.to_thread(_decode, [row[0] for row in rows])
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(f"measures store unavailable: {describe(exc)}") from None
        return records


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


def _utc(moment: datetime) -> datetime:
    # SQLite gives back the UTC it was given, without an offset.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _response_row(record: ResponseRecord) -> dict[str, Any]:
    """A response record as the responses table keeps it: the columns reports filter on,
    what summaries sum, and the whole record."""
    tallied = tally_fields(record)
    return {
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
        **tallied,
        "reported_at": _time(tallied["reported_at"]),
    }


def _decode(texts: list[str]) -> list[ResponseRecord]:
    return [orjson.loads(text) for text in texts]


def _record(value: Any) -> ResponseRecord:
    record: ResponseRecord = json.loads(value) if isinstance(value, str) else value
    return record
