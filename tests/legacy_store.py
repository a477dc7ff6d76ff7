"""The measures store as the bot made it before Alembic (``schema_migrations`` steps 1 and 2),
frozen here so that the adoption of such a store can be tested."""

from __future__ import annotations

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
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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


async def legacy_migrate(engine: AsyncEngine) -> None:
    """What ``SqlStore.migrate`` did before Alembic."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            )
        )
        for version, name, step in ((1, "responses table", _m1_responses),
                                    (2, "cases table", _m2_cases)):  # fmt: skip
            await step(conn)
            await conn.execute(
                text("INSERT INTO schema_migrations (version, name) VALUES (:v, :n)"),
                {"v": version, "n": name},
            )


async def legacy_write(engine: AsyncEngine, record: Any) -> None:
    """A response record stored as the bot stored it then (the columns of step 1)."""
    from adapters.sql.schema import response_row as _response_row

    row = {k: v for k, v in _response_row(record).items() if k in responses.c}
    async with engine.begin() as conn:
        await conn.execute(responses.insert().values(**row))
