"""Migrations with Alembic: a store made before Alembic adopted with its data, concurrent
starts on a fresh store, and the SQL printed for review. Real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.sql import SqlStore, database_url

from .legacy_store import legacy_migrate, legacy_write
from .records import response_record
from .test_store import ALL_REVISIONS, DROP_ALL, PG_URL, fresh_store


async def empty(kind: str, tmp_path: Path) -> SqlStore:
    """A store with no tables at all."""
    store = await fresh_store(kind, tmp_path)  # skips or fails without PostgreSQL
    async with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            await conn.execute(text(DROP_ALL))
        else:
            for table in DROP_ALL.removeprefix("DROP TABLE IF EXISTS ").split(", "):
                await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    return store


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_store_made_before_alembic_is_adopted_with_its_data(
    kind: str, tmp_path: Path
) -> None:
    store = await empty(kind, tmp_path)
    await legacy_migrate(store.engine)  # the code path of the bot before Alembic
    records = [response_record(i, ["yes", "1 3", f"comment {i}: on hold"]) for i in range(1, 26)]
    for record in records:
        await legacy_write(store.engine, record)
    await store.write_case({"case_id": "c1", "status": "received", "reasons": ["x"],
                            "created_at": "2026-11-02T15:00:00+00:00"})  # fmt: skip
    applied = await store.migrate()
    assert [step.split()[0] for step in applied] == ALL_REVISIONS[2:]  # only what is new
    assert await store.migrate() == []
    back = await store.responses(limit=100)
    assert sorted(back, key=lambda r: r["response_id"]) == records
    # the rows stored before were given what summaries sum (migration 0005's backfill)
    quarter = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    [(groups, _)] = (await store.tallies([(["benefits-application"], [quarter])])).values()
    assert sum(g.count for g in groups if g.responded and g.completed) == 25
    assert (await store.case("c1") or {})["status"] == "received"
    # and their themes (migration 0012 leaves rows with no quarter yet to that backfill)
    themed = sum(c.comments for c in await store.theme_counts(()))
    assert themed == sum(len(r["themes"]) for r in records) > 0
    async with store.engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert version == ALL_REVISIONS[-1]
    await store.close()


def migrate_at_once(env: dict[str, str], processes: int) -> list[subprocess.CompletedProcess[str]]:
    command = [sys.executable, "-m", "bot.cli", "migrate"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    runs = [subprocess.Popen(command, env=env, text=True, **pipes) for _ in range(processes)]
    return [subprocess.CompletedProcess(r.args, r.wait(60), *r.communicate()) for r in runs]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_concurrent_starts_on_a_fresh_store_all_succeed(kind: str, tmp_path: Path) -> None:
    import os

    for round_ in range(3):
        data = tmp_path / f"round{round_}"
        data.mkdir()
        store = await empty(kind, data)
        await store.close()
        env = {**os.environ, "DATA_DIR": str(data),
               "DATABASE_URL": PG_URL if kind == "postgresql" else ""}  # fmt: skip
        results = await asyncio.to_thread(migrate_at_once, env, 4)
        for result in results:
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr
        applied = [r.stdout for r in results if "applied" in r.stdout]
        assert len(applied) == 1, [r.stdout for r in results]  # one did the work
        check = SqlStore(database_url(env["DATABASE_URL"] or None, data))
        assert await check.migrate() == []
        await check.close()


def test_migrate_sql_prints_the_sql_for_review_without_a_database(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "migrate", "--sql"], env=env,
                            text=True, capture_output=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE responses" in result.stdout and "CREATE TABLE audit" in result.stdout
    assert "alembic_version" in result.stdout
    since = subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate", "--sql", "--from", "0002"], env=env,
        text=True, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert "CREATE TABLE audit" in since.stdout and "CREATE TABLE responses" not in since.stdout
