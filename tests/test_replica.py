"""Reads from a replica (``DATABASE_READ_URL``): a real PostgreSQL primary and a streaming
replica made from it with ``pg_basebackup -R``, both started here (the shared server allows no
replication connections, and its configuration is not ours to change). Pages, the API's
lists and the comments CSV read the replica; writes (the outbox's, the audit log) go to the
primary; while the replica's replay is paused a page shows what the replica has, and says it
is behind. Fails under CI=true when the pair cannot be started, like every PostgreSQL test."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from adapters.sql import SqlStore, database_url
from adapters.testing.twilio_fake import FakeTwilio
from bot.core.sinks import SinkError
from bot.settings import ConfigError

from .conftest import Bot, free_port, make_settings, serving
from .test_comments import commented
from .test_console import Browser

BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN = {"Authorization": "Bearer admin-token"}


def _as_postgres(*command: str) -> None:
    """Run a PostgreSQL program as the ``postgres`` OS user (it refuses to run as root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[str, str]]:
    """A primary and its streaming replica on free ports: their URLs."""
    root = Path(tempfile.mkdtemp(prefix="fb-replica-"))
    primary, replica = root / "primary", root / "replica"
    ports = free_port(), free_port()
    started: list[Path] = []
    try:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        _as_postgres(str(BIN / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust",
                     "--no-sync")  # fmt: skip
        settings = (f"port = {ports[0]}\nlisten_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{root}'\nwal_level = replica\n"
                    "max_wal_senders = 4\nfsync = off\n")  # fmt: skip
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(settings)
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(primary), "-l", str(root / "primary.log"),
                     "-w", "start")  # fmt: skip
        started.append(primary)
        _as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports[0]),
                     "-U", "postgres", "-D", str(replica), "-R", "--no-sync")  # fmt: skip
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(replica), "-l", str(root / "replica.log"),
                     "-o", f"-p {ports[1]}", "-w", "start")  # fmt: skip
        started.append(replica)
    except (OSError, KeyError, subprocess.SubprocessError) as exc:
        for data in started:
            _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        if os.environ.get("CI"):
            pytest.fail(f"a PostgreSQL primary and replica are required in CI: {exc} {detail!r}")
        pytest.skip(f"cannot start a PostgreSQL primary and replica here: {exc}")
    try:
        yield tuple(f"postgresql://postgres@127.0.0.1:{port}/postgres" for port in ports)  # type: ignore[misc]
    finally:
        for data in reversed(started):
            _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def bot(
    pair: tuple[str, str], redis: Redis, fake_twilio: FakeTwilio, tmp_path: Path
) -> AsyncIterator[Bot]:
    primary, replica = pair
    settings = make_settings(fake_twilio, tmp_path, database_url=primary,
                             database_read_url=replica)  # fmt: skip
    async with serving(settings, [], fake_twilio) as served:  # records written as the outbox does
        yield served


async def until(check: object, what: str, seconds: float = 15.0) -> None:
    """Wait for an async predicate (replication is asynchronous)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        await asyncio.sleep(0.1)


async def test_pages_read_the_replica_and_writes_go_to_the_primary(
    bot: Bot, pair: tuple[str, str]
) -> None:
    primary, replica = pair
    rt = bot.rt
    assert rt.store is not None and rt.reader is not None and rt.reader is not rt.store
    await rt.store.write(commented(1, "The wait was long", "en"))
    admin = Browser(bot)
    await admin.sign_in("admin-token")  # an audit entry: written to the primary

    async def shown(text: str) -> bool:
        return text in await (await admin.get("/admin/comments")).text()

    await until(lambda: shown("The wait was long"), "the replica to have the first comment")
    page = await (await admin.get("/admin/comments")).text()
    assert "copy of the store" not in page  # caught up: nothing to say

    standby = await asyncpg.connect(replica)
    try:
        await standby.execute("SELECT pg_wal_replay_pause()")
        await rt.store.write(commented(2, "Nobody called back", "en"))  # to the primary
        await until(lambda: _behind(standby), "the replica to receive what it does not replay")
        page = await (await admin.get("/admin/comments")).text()
        assert "The wait was long" in page and "Nobody called back" not in page
        assert "These figures are read from a copy of the store that is" in page
        assert "copy of the store" in await (await admin.get("/admin/")).text()
        listed = await (await bot.client.get("/v1/comments", headers=ADMIN)).json()
        assert [c["text"] for c in listed["comments"]] == ["The wait was long"]
        rows = await (await admin.get("/admin/comments.csv")).text()
        assert "The wait was long" in rows and "Nobody called back" not in rows
        on_primary = await asyncpg.connect(primary)
        try:  # the write and the download's audit entry are on the primary, not the replica
            texts = await on_primary.fetch("SELECT text FROM comments ORDER BY response_id")
            assert [r["text"] for r in texts] == ["The wait was long", "Nobody called back"]
            actions = await on_primary.fetch("SELECT action FROM audit ORDER BY id")
            assert [r["action"] for r in actions][-1] == "comments.csv"
        finally:
            await on_primary.close()
        with pytest.raises(SinkError):  # the replica takes no write
            await rt.reader.write(commented(3, "x", "en"))  # type: ignore[attr-defined]
        await standby.execute("SELECT pg_wal_replay_resume()")
        await until(lambda: shown("Nobody called back"), "the replica to catch up")
        assert "copy of the store" not in await (await admin.get("/admin/comments")).text()
    finally:
        await standby.close()


async def _behind(standby: asyncpg.Connection) -> bool:
    return bool(await standby.fetchval(
        "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"))  # fmt: skip


async def test_an_export_reads_the_replica(pair: tuple[str, str], tmp_path: Path) -> None:
    primary, replica = pair
    store = SqlStore(database_url(primary, tmp_path))
    standby = await asyncpg.connect(replica)
    try:
        await store.migrate()
        await store.write(commented(10, "Kept on both", "en"))

        async def replayed() -> bool:
            return bool(await standby.fetchval(
                "SELECT count(*) FROM comments WHERE text = 'Kept on both'"))  # fmt: skip

        await until(replayed, "the replica to have the record")
        await standby.execute("SELECT pg_wal_replay_pause()")
        await store.write(commented(11, "On the primary alone", "en"))
        env = {**os.environ, "DATABASE_URL": primary, "DATABASE_READ_URL": replica,
               "DATA_DIR": str(tmp_path)}  # fmt: skip
        out = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "bot.cli", "export", "--out", "-"],
            env=env, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert b"Kept on both" in out.stdout and b"On the primary alone" not in out.stdout
        assert (await store.audit_entries(limit=1))[0]["action"] == "export"  # the primary's
        await standby.execute("SELECT pg_wal_replay_resume()")
    finally:
        await standby.close()
        await store.close()


def test_a_read_url_without_a_postgresql_store_stops_start_up(tmp_path: Path) -> None:
    base = make_settings(FakeTwilio(), tmp_path)
    for changes, message in (
        ({"database_read_url": "postgresql://r/x"}, "DATABASE_READ_URL needs DATABASE_URL"),
        ({"database_url": "postgresql://p/x", "database_read_url": "sqlite:///x"},
         "DATABASE_READ_URL must be a postgresql:// URL"),
    ):  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            replace(base, **changes).check()
