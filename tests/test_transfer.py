"""``feedback-bot export`` and ``import``: records out as JSON lines and back in through the
store's own write path (every column the outbox's writes keep, equal), idempotent on the
response id, a bad line stopped at with its number and the lines before it kept; real SQLite
and PostgreSQL, and the commands themselves."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select, text

from adapters.sql import SqlStore
from adapters.sql.schema import responses
from bot.core.catalog import load_catalog
from bot.core.reports import quarter_windows
from bot.core.sinks import CommentFilter, ResponseRecord, SinkError
from bot.registry import kinds
from bot.service import transfer
from flows import FLOWS_DIR

from .records import FLOWS, T0, response_record
from .test_store import PG_URL, fresh_store

KINDS = ["sqlite", "postgresql"]
KINDS_OF_CHANNEL = kinds()
DERIVED = [c.name for c in responses.c if c.name != "stored_at"]  # what the write path keeps


def varied(count: int, start: int = 1) -> list[ResponseRecord]:
    """Records of every kind: both services and flows, languages, comments or none, expired."""
    scripts = [["yes", "1 3", "Quick and easy"], ["no", "2", "Esperé mucho tiempo"],
               ["yes", "1", "skip"], [], ["no", "4 5", "Nobody called back"]]  # fmt: skip
    out = []
    for n in range(start, start + count):
        scale = n % 3 == 0
        replies = scripts[n % len(scripts)]
        if scale:
            replies = [{"yes": "5", "no": "2"}.get(r, r) for r in replies]
        out.append(response_record(
            n, replies, service="permit-renewal" if scale else "benefits-application",
            flow_id="a11-v2-scale" if scale else "a11-v2-thumbs",
            language="es" if n % 4 == 0 else "en", attributes={"region": f"r{n % 3}"},
            completed_at=T0 + timedelta(hours=n), expire=n % 7 == 0,
        ))  # fmt: skip
    return out


async def stored_rows(store: SqlStore) -> dict[str, dict[str, Any]]:
    """Every responses row as the store keeps it (times in UTC, the record decoded)."""
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(responses))).mappings().all()
    out = {}
    for row in rows:
        kept = {}
        for name in DERIVED:
            value = row[name]
            if isinstance(value, datetime):
                value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
            kept[name] = value
        out[row["response_id"]] = kept
    return out


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


async def export_to(store: SqlStore, path: Path, **kw: Any) -> list[ResponseRecord]:
    count = await transfer.export(store, str(path), **kw)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        records = [orjson.loads(line) for line in f]
    assert len(records) == count
    return records


@pytest.mark.parametrize("source_kind", KINDS)
@pytest.mark.parametrize("target_kind", KINDS)
async def test_a_store_moved_by_export_and_import_is_kept_as_the_outbox_keeps_it(
    source_kind: str, target_kind: str, tmp_path: Path
) -> None:
    records = varied(260)  # more than one batch of COPY on PostgreSQL
    source = await fresh_store(source_kind, tmp_path / "source")
    target: SqlStore | None = None
    try:
        for record in records[:20]:  # the outbox's way, one at a time
            await source.write(record)
        await source.write_many(records[20:])
        exported = await export_to(source, tmp_path / "all.jsonl.gz")
        assert sorted(exported, key=lambda r: r["response_id"]) == records
        written = await stored_rows(source)
        said = await source.comments(CommentFilter(), limit=1000)
        assert len(said) == sum(1 for r in records if r["free_text"]) == 156
        themes = sorted(await source.theme_counts(()))
        assert sum(t.comments for t in themes) == sum(len(r.get("themes") or []) for r in records)
        if source_kind == target_kind:  # one server: the target is the same database, emptied
            await source.close()
        target = await fresh_store(target_kind, tmp_path / "target")
        done = await transfer.import_files(target, [str(tmp_path / "all.jsonl.gz")])
        assert (done.records, done.new) == (260, 260)
        assert await stored_rows(target) == written  # every column the write path keeps
        assert await target.comments(CommentFilter(), limit=1000) == said  # and its search
        assert sorted(await target.theme_counts(())) == themes  # and its themes
        assert await target.comments(CommentFilter(words=("esperé",)), limit=1000) == [
            c for c in said if "Esperé" in c["text"]]  # fmt: skip
        again = await transfer.import_files(target, [str(tmp_path / "all.jsonl.gz")])
        assert (again.records, again.new, again.already) == (260, 0, 260)
        assert await stored_rows(target) == written
    finally:
        await source.close()
        if target is not None:
            await target.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_an_export_of_a_quarter_and_a_service(kind: str, tmp_path: Path) -> None:
    services = load_catalog(FLOWS_DIR / "services.yaml", FLOWS, KINDS_OF_CHANNEL)
    store = await fresh_store(kind, tmp_path)
    try:
        inside = varied(6)
        before = varied(3, start=100)
        for record in before:  # ended a quarter earlier, on the last evening of September
            late = datetime(2026, 10, 1, 3, 30, tzinfo=UTC)  # 23:30 in New York
            record["timestamps"] = {k: late.isoformat() if v else v
                                    for k, v in record["timestamps"].items()}  # fmt: skip
        await store.write_many(inside + before)
        windows = quarter_windows(services, 2027, 1)
        got = await export_to(store, tmp_path / "q1.jsonl", windows=windows)
        assert {r["response_id"] for r in got} == {r["response_id"] for r in inside}
        permits = await export_to(store, tmp_path / "p.jsonl", windows=windows,
                                  service="permit-renewal")  # fmt: skip
        assert {r["response_id"] for r in permits} == {
            r["response_id"] for r in inside if r["service_id"] == "permit-renewal"}  # fmt: skip
        earlier = await export_to(store, tmp_path / "q4.jsonl",
                                  windows=quarter_windows(services, 2026, 4))  # fmt: skip
        assert {r["response_id"] for r in earlier} == {r["response_id"] for r in before}
    finally:
        await store.close()


@pytest.mark.parametrize(("kind", "apart_after"),
                         [("sqlite", 4), ("postgresql", 4), ("postgresql", 0)])  # fmt: skip
async def test_a_bad_line_stops_the_import_and_a_rerun_goes_on(
    kind: str, apart_after: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "BATCH", 4)  # so the lines before the bad one span batches
    # 0: made ready in worker processes from the first batch (PostgreSQL's), batches written
    # while those after them are made ready
    monkeypatch.setattr(transfer, "APART_AFTER", apart_after)
    records = varied(12)
    lines = [orjson.dumps(r) for r in records]
    store = await fresh_store(kind, tmp_path)
    try:
        cases: list[tuple[bytes, str]] = [
            (b'{"schema_version": 1, "response_id": "x"', "not JSON"),
            (b"[1, 2]", "a JSON array, not a record"),
            (orjson.dumps({**records[9], "schema_version": 2}), "schema_version 2"),
            (orjson.dumps({**records[9], "timestamps": {**records[9]["timestamps"],
                                                        "ended": "2026-11-02T15:10:00"}}),
             'timestamps.ended: "2026-11-02T15:10:00" is not a "date-time"'),
            (orjson.dumps({**records[9], "free_text": "x" * 5001}),
             "free_text: a text of 5001 characters fails maxLength"),
            # what the schema allows and PostgreSQL would refuse: refused on SQLite too
            (orjson.dumps({**records[9], "channel": "a-very-long-channel"}),
             "channel: 19 characters, more than the store's 16"),
            (orjson.dumps({**records[9], "free_text": "nul \x00 here"}),
             "free_text: a NUL character"),
            (b"x" * (transfer.MAX_LINE + 10), "longer than 1 MiB"),
        ]  # fmt: skip
        for bad, why in cases:
            path = write_lines(tmp_path / "records.jsonl", [*lines[:9], b"", bad, *lines[9:]])
            with pytest.raises(transfer.BadLine) as caught:
                await transfer.import_files(store, [str(path)])
            assert caught.value.line == 11 and why in caught.value.why, caught.value.why
            assert "x" * 50 not in str(caught.value)  # a long text is never quoted
            assert caught.value.imported.records == 9
            ids = {r["response_id"] for r in await store.responses(limit=100)}
            assert ids == {r["response_id"] for r in records[:9]}  # the lines before it stay
        path = write_lines(tmp_path / "records.jsonl", [*lines[:9], b"", *lines[9:]])
        done = await transfer.import_files(store, [str(path)])  # mended: it goes on
        assert (done.records, done.new) == (12, 3)
        assert len(await store.responses(limit=100)) == 12
    finally:
        await store.close()


def cli(args: list[str], env: dict[str, str], stdin: bytes | None = None) -> Any:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, input=stdin,
                          capture_output=True, timeout=120, check=False)  # fmt: skip


async def test_the_commands_move_a_trial_from_sqlite_to_postgresql(tmp_path: Path) -> None:
    sqlite = await fresh_store("sqlite", tmp_path)
    records = varied(30)
    await sqlite.write_many(records)
    await sqlite.close()
    await (await fresh_store("postgresql", tmp_path / "pg")).close()  # emptied
    trial = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    national = {**os.environ, "DATA_DIR": str(tmp_path / "pg"), "DATABASE_URL": PG_URL}
    out = cli(["export", "--out", "-"], trial)
    assert out.returncode == 0, out.stderr
    assert b"exported 30 records" in out.stderr and len(out.stdout.splitlines()) == 30
    loaded = cli(["import", "-"], national, stdin=out.stdout)
    assert loaded.returncode == 0, loaded.stderr
    assert b"imported 30 records" in loaded.stdout and b"30 new, 0 stored already" in loaded.stdout
    again = cli(["import", "-"], national, stdin=out.stdout)
    assert again.stdout.strip() == b"nothing changed: all 30 records were stored already"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(out.stdout + b"{}\n")
    refused = cli(["import", str(bad)], national)
    assert refused.returncode == 1 and b"Traceback" not in refused.stderr
    assert f"{bad} line 31: no schema_version".encode() in refused.stderr
    assert b"30 records (0 new) are stored before it" in refused.stderr
    wrong = cli(["export", "--out", "x.jsonl", "--fiscal-year", "2027"], national)
    assert wrong.returncode == 2 and b"--fiscal-year and --quarter go together" in wrong.stderr
    store = await fresh_store_as_is(PG_URL, tmp_path)
    try:
        assert len(await store.responses(limit=100)) == 30
        actions = [e["action"] for e in await store.audit_entries(limit=10)]
        assert actions[:3] == ["import", "import", "import"]  # each run, named before it acts
    finally:
        await store.close()


async def fresh_store_as_is(url: str, tmp_path: Path) -> SqlStore:
    """The store at ``url`` as it is (not emptied)."""
    from adapters.sql import database_url

    return SqlStore(database_url(url, tmp_path))


def test_a_record_written_through_export_reads_back_as_json(tmp_path: Path) -> None:
    """The lines are JSON with no line break inside a record, whatever the comment holds."""
    record = response_record(1, ["yes", "1", "line one\nline two"])
    assert "\n" in (record["free_text"] or "")
    assert b"\n" not in orjson.dumps(record) and json.loads(orjson.dumps(record)) == record


REFUSE_TXN_7 = {  # a rule of the database's own that no check of ours foresees
    "postgresql": "ALTER TABLE responses ADD CONSTRAINT no_seven CHECK (transaction_id <> 'txn-7')",
    "sqlite": "CREATE TRIGGER no_seven BEFORE INSERT ON responses WHEN NEW.transaction_id = "
    "'txn-7' BEGIN SELECT RAISE(ABORT, 'no seven'); END",
}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_refusal_of_the_database_names_its_line(kind: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    store = await fresh_store(kind, tmp_path)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text(REFUSE_TXN_7[kind]))
        records = varied(300)  # one batch, copied on PostgreSQL; record 7 is refused in it
        path = write_lines(tmp_path / "r.jsonl", [orjson.dumps(r) for r in records])
        with pytest.raises(transfer.BadLine) as caught:
            await transfer.import_files(store, [str(path)])
        assert caught.value.line == 7 and "the store refused it" in caught.value.why
        assert (caught.value.imported.records, caught.value.imported.new) == (6, 6)
        kept = {r["response_id"] for r in await store.responses(limit=1000)}
        assert kept == {r["response_id"] for r in records[:6]}
        with pytest.raises(SinkError) as refused:  # the outbox's write: never retried
            await store.write(records[6])
        assert not refused.value.retryable
    finally:
        await store.close()


async def every_row(store: SqlStore) -> dict[str, list[dict[str, Any]]]:
    """Every row of each table a record is kept in, in key order, times in UTC (the moment
    it was stored aside: it is when, not what)."""
    from adapters.sql.schema import comment_themes, comments, response_dimensions

    out = {}
    async with store.engine.connect() as conn:
        for table in (responses, comments, comment_themes, response_dimensions):
            query = select(*(c for c in table.c if c.name != "stored_at"))
            rows = (await conn.execute(query.order_by(*table.primary_key))).mappings().all()
            out[table.name] = [
                {k: v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None
                 else v for k, v in row.items()}
                for row in rows
            ]  # fmt: skip
    return out


# Texts COPY's text format must escape, and what looks like its null mark.
AWKWARD = ["Tab\there, a new\nline, back\\slash and \\N", "cr\r\nlf \\\\ é ✓ \"quoted\"",
           "\\.", "  spaces  "]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
async def test_an_import_keeps_every_row_as_the_outbox_keeps_it(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # worker processes from the first batch (on PostgreSQL), batches of a few records
    monkeypatch.setattr(transfer, "BATCH", 7)
    monkeypatch.setattr(transfer, "APART_AFTER", 0)
    records = varied(40)
    for n, words in enumerate(AWKWARD):
        record = records[n * 3 + 1]
        record["free_text"] = words
        record["attributes"] = {"region": words[:20], "office": "Tab\there"}
    outbox = await fresh_store(kind, tmp_path / "outbox")
    try:
        await outbox.write_many(records)
        kept = await every_row(outbox)
    finally:
        await outbox.close()
    assert len(kept["comments"]) > 20 and len(kept["comment_themes"]) > 10
    assert {r["text"] for r in kept["comments"]} >= set(AWKWARD)
    assert len(kept["response_dimensions"]) > 40
    imported = await fresh_store(kind, tmp_path / "import")
    try:
        path = write_lines(tmp_path / "r.jsonl", [orjson.dumps(r) for r in records])
        done = await transfer.import_files(imported, [str(path)])
        assert (done.records, done.new) == (40, 40)
        assert await every_row(imported) == kept
    finally:
        await imported.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_batch_of_stored_and_new_records_keeps_only_the_new(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "APART_AFTER", 0)
    records = varied(300)  # one batch: copied on PostgreSQL
    store = await fresh_store(kind, tmp_path)
    try:
        first = write_lines(tmp_path / "first.jsonl", [orjson.dumps(r) for r in records[::2]])
        assert (await transfer.import_files(store, [str(first)])).new == 150
        before = await every_row(store)
        # The stored ones changed in the file: still left as they are; a new one twice: the
        # first kept, as a second import of it would.
        changed = [{**r, "free_text": "changed"} if i % 2 == 0 else r
                   for i, r in enumerate(records)]  # fmt: skip
        twice = {**records[1], "free_text": "the second"}
        path = write_lines(tmp_path / "all.jsonl",
                           [orjson.dumps(r) for r in [*changed, twice]])  # fmt: skip
        done = await transfer.import_files(store, [str(path)])
        assert (done.records, done.new, done.already) == (301, 150, 151)
        after = await every_row(store)
        assert all(len(after[name]) > len(rows) for name, rows in before.items())
        if kind == "postgresql":  # one server: the database emptied for the outbox's writes
            await store.close()
        whole = await fresh_store(kind, tmp_path / "whole")
        try:  # the stored as they were, the new as the file's first of each: every row
            await whole.write_many(records)
            assert after == await every_row(whole)
        finally:
            await whole.close()
    finally:
        await store.close()


async def test_records_are_compressed_with_lz4_on_postgresql(tmp_path: Path) -> None:
    # Migration 0014: pglz was the largest cost of writing a record in the database.
    records = varied(4)
    for record in records:  # long enough that the row's values are compressed at all
        record["free_text"] = " ".join(f"word{n % 50}" for n in range(600))
    store = await fresh_store("postgresql", tmp_path)
    try:
        await store.write_many(records[:2])
        path = write_lines(tmp_path / "r.jsonl", [orjson.dumps(r) for r in records[2:]])
        assert (await transfer.import_files(store, [str(path)])).new == 2
        async with store.engine.connect() as conn:
            methods = (await conn.execute(text(
                "SELECT pg_column_compression(record) FROM responses ORDER BY response_id"
            ))).scalars().all()  # fmt: skip
        assert methods == ["lz4"] * 4
    finally:
        await store.close()
