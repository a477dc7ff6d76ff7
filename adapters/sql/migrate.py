"""Migrations: Alembic revisions in ``adapters/sql/migrations``; ``feedback-bot migrate``
(the Procfile's ``release:``) runs them, start-up runs any that are missing, and
``feedback-bot migrate --sql`` prints their SQL for review."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, and_, bindparam, inspect, select, text
from sqlalchemy.engine import Connection

from bot.core.measures import DRIVER_FIELDS, V1_ITEMS, tally_fields

from .base import SqlBase
from .schema import (
    as_utc,
    comment_rows,
    comment_themes,
    comments,
    dimension_rows,
    record_of,
    response_dimensions,
    response_row,
    responses,
    theme_rows,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The steps of ``schema_migrations``, the store's migrations before Alembic, and the revision
# each one equals: a store made then is stamped at it and upgraded from there, its data kept.
LEGACY_STEPS = {1: "0001", 2: "0002"}
_PG_MIGRATION_LOCK = 280280  # pg_advisory_xact_lock key: one migrator at a time
FIGURED = (*DRIVER_FIELDS, *V1_ITEMS, "progress")  # what migration 0010 gave each row


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


class Migrations(SqlBase):
    """Bringing the tables up to date, and what rows stored before a revision lack."""

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
        await self.backfill_comments()
        await self.backfill_figures()
        return applied

    async def backfill_tallies(self, batch: int = 1000) -> int:
        """Give rows stored before migration 0005 (or whose SQL a DBA applied by hand) what
        summaries sum, from their own record; idempotent, and quick when none is left."""
        done = 0
        c = responses.c
        async for rows in self._pending(c.reported_at.is_(None), batch):
            async with self.engine.begin() as conn:
                for response_id, record in rows:
                    fields = tally_fields(record_of(record))
                    fields["reported_at"] = as_utc(fields["reported_at"])
                    await conn.execute(
                        responses.update().where(c.response_id == response_id).values(**fields)
                    )
                # Their themes too: migration 0012 gave theme rows only to rows it could
                # place in a quarter (those with a reported_at).
                themed = [found for row in rows for found in theme_rows(record_of(row[1]))]
                await _replace(conn, comment_themes, [row[0] for row in rows], themed)
            done += len(rows)
        return done

    async def backfill_comments(self, batch: int = 1000) -> int:
        """Give rows stored before migration 0008 their comment in the comments table, from
        their own record; idempotent, and quick when none is left."""
        done = 0
        c = responses.c
        pending = and_(c.free_text.is_not(None), c.comment_kept.is_(None))
        async for rows in self._pending(pending, batch):
            ids = [row[0] for row in rows]
            kept = [found for row in rows for found in comment_rows(record_of(row[1]))]
            async with self.engine.begin() as conn:
                await _replace(conn, comments, ids, kept)
                await conn.execute(
                    responses.update().where(c.response_id.in_(ids)).values(comment_kept=True)
                )
            done += len(rows)
        return done

    async def backfill_figures(self, batch: int = 1000) -> int:
        """Give rows stored before migration 0010 what the report's figures count (driver
        cells, v1 answers, progress) and their ``response_dimensions`` rows, from their own
        record, a batch at a time; idempotent, and quick when none is left."""
        done = 0
        c = responses.c
        # One statement for the batch (executemany): a round trip per row made a backfill
        # of 200,000 rows take twenty minutes on a loaded machine.
        change = responses.update().where(c.response_id == bindparam("id")).values(
            {**{k: bindparam(f"new_{k}") for k in FIGURED}, "figures_kept": True})  # fmt: skip
        async for rows in self._pending(c.figures_kept.is_(None), batch):
            kept, changes = [], []
            for response_id, value in rows:
                record = record_of(value)
                head = response_row(record)
                kept += dimension_rows(record, head)
                changes.append({"id": response_id, **{f"new_{k}": head[k] for k in FIGURED}})
            async with self.engine.begin() as conn:
                await conn.execute(change, changes)
                await _replace(conn, response_dimensions, [row[0] for row in rows], kept)
            done += len(rows)
        return done

    async def _pending(self, condition: Any, batch: int) -> AsyncIterator[list[Any]]:
        """(response id, record) of the rows ``condition`` selects, ``batch`` at a time, until
        none is left (each batch's handling must make its rows stop matching)."""
        c = responses.c
        while rows := await self._rows(select(c.response_id, c.record).where(condition)
                                       .limit(batch)):  # fmt: skip
            yield rows

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


async def _replace(conn: Any, table: Table, ids: list[str], rows: list[dict[str, Any]]) -> None:
    """The rows ``table`` derives from the records ``ids``, replaced by ``rows``."""
    await conn.execute(table.delete().where(table.c.response_id.in_(ids)))
    if rows:
        await conn.execute(table.insert(), rows)
