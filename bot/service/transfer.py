"""Moving records in and out of the measures store (``feedback-bot export`` and ``import``).

An export is the stored response records as JSON lines, each with its ``schema_version``,
read a few thousand at a time. An import reads such lines, checks each against the record's
schema and keeps the records through the store's own write path (the store's ``Preparer``
builds the same rows, summaries and search table as the outbox keeps, ``add_prepared`` writes
them), skipping those already stored, so a second import of a file changes nothing. Making
the next batches ready (in worker processes, on PostgreSQL) overlaps the store's writing of
the one before. A bad line stops the import with its file and line number: the lines before
it are stored, and the same import run again goes on from there. A file whose name ends in
``.gz`` is read or written compressed; ``-`` is standard input or output.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import sys
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import BinaryIO

from bot.core.errors import PermanentError
from bot.core.sinks import Prepared, Preparer, Refused, ResponseStore, Window

BATCH = 2000  # records kept in one transaction
WORKERS = 2  # processes making batches ready (the machine has two CPUs; PostgreSQL uses one)
APART_AFTER = 4  # batches made ready in a thread before worker processes are started
MAX_LINE = 1 << 20  # a record is a few kilobytes; a longer line is not one (memory stays bounded)
STDIO = "-"

# What an import reports as it goes: bytes read of all its files so far, records read so far.
Progress = Callable[[int, int], None]


@dataclass
class Imported:
    """What an import did: records read, and how many of them were new to the store."""

    records: int = 0
    new: int = 0

    @property
    def already(self) -> int:
        """Records read that the store held already (or that came twice)."""
        return self.records - self.new


class BadLine(PermanentError):
    """A line that is not a record the store can keep: where it is and what is wrong; the
    lines before it are stored (``imported``)."""

    def __init__(self, source: str, line: int, why: str, imported: Imported) -> None:
        super().__init__(f"{source} line {line}: {why}")
        self.source, self.line, self.why, self.imported = source, line, why, imported


@dataclass
class _Chunk:
    """A batch read from a file: its lines (not blank) and their numbers, where a bad line
    is (its number and why), and whether the file ended."""

    lines: list[bytes]
    numbers: list[int]
    bad: tuple[int, str] | None
    ended: bool


class _Reader:
    """A file's lines, read a batch at a time (in a thread: reading is blocking work), with
    its position in bytes for the progress bar."""

    def __init__(self, raw: BinaryIO, compressed: bool) -> None:
        self.raw = raw
        self.lines: BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw  # type: ignore[assignment]
        self.number = 0

    def position(self) -> int:
        try:
            return self.raw.tell()
        except OSError:  # a pipe
            return 0

    def chunk(self) -> _Chunk:
        lines: list[bytes] = []
        numbers: list[int] = []
        while len(lines) < BATCH:
            line = self.lines.readline(MAX_LINE + 1)
            if not line:
                return _Chunk(lines, numbers, None, True)
            self.number += 1
            if len(line) > MAX_LINE:
                return _Chunk(lines, numbers, (self.number, "longer than 1 MiB: not a record"),
                              False)  # fmt: skip
            if self.number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark some editors add
            if not line.strip():
                continue  # a blank line holds no record
            lines.append(line)
            numbers.append(self.number)
        return _Chunk(lines, numbers, None, False)


class _Preparing:
    """Batches of lines being made ready for the store (``Preparer``), in order: in a thread
    at first, and once an import is long enough to repay starting them (about a second), in
    worker processes when the store's preparer allows, so that parsing and building rows —
    most of an import's CPU — use the machine's other CPUs while this one writes. A few
    batches ahead at most: memory stays bounded whatever the file's size."""

    def __init__(self, preparer: Preparer) -> None:
        self.preparer = preparer
        self.pool: ProcessPoolExecutor | None = None
        self.batches = 0
        self.pending: deque[tuple[asyncio.Future[Prepared], list[int]]] = deque()

    @property
    def room(self) -> bool:
        """Whether to read another batch: while one is written, the others are made ready
        (one in the thread; in the processes, one each and one more waiting its turn)."""
        return len(self.pending) < (WORKERS + 1 if self.pool is not None else 2)

    def submit(self, chunk: _Chunk) -> None:
        self.batches += 1
        if self.pool is None and self.preparer.apart and self.batches > APART_AFTER:
            self.pool = ProcessPoolExecutor(WORKERS, mp_context=get_context("spawn"))
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.pool, self.preparer.prepare, chunk.lines)
        self.pending.append((future, chunk.numbers))

    async def next(self) -> tuple[Prepared, list[int]]:
        future, numbers = self.pending.popleft()
        return await future, numbers

    def close(self) -> None:
        for future, _ in self.pending:
            future.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


async def import_files(
    store: ResponseStore, paths: Sequence[str], progress: Progress | None = None
) -> Imported:
    """Keep the records of each file (``-``: standard input) that the store does not hold
    yet; BadLine at the first line that is not a storable record (the lines before it are
    stored). StoreUnavailable when the store cannot answer: what was stored stays."""
    done = Imported()
    read_before = 0
    preparing = _Preparing(store.preparer())
    try:
        for path in paths:
            with ExitStack() as files:
                raw = sys.stdin.buffer if path == STDIO else files.enter_context(open(path, "rb"))
                reader = _Reader(raw, path.endswith(".gz"))
                await _import_file(store, path, reader, preparing, done, progress, read_before)
                read_before += reader.position()
    finally:
        preparing.close()
    return done


async def _import_file(
    store: ResponseStore,
    path: str,
    reader: _Reader,
    preparing: _Preparing,
    done: Imported,
    progress: Progress | None,
    read_before: int,
) -> None:
    """One file's records into the store: batches read and made ready ahead, written in the
    order of the file (so a bad line stops it with the lines before it stored, none after)."""
    bad: tuple[int, str] | None = None
    ended = False
    while True:
        while not ended and preparing.room:
            chunk = await asyncio.to_thread(reader.chunk)
            if chunk.lines:
                preparing.submit(chunk)
            if chunk.bad is not None or chunk.ended:
                bad, ended = chunk.bad, True
        if not preparing.pending:
            break
        prepared, numbers = await preparing.next()
        try:
            done.new += await store.add_prepared(prepared)
        except Refused as exc:
            done.new += exc.stored
            done.records += exc.index
            raise BadLine(path, numbers[exc.index], str(exc), done) from None
        done.records += len(prepared.ids)
        if progress is not None:
            progress(read_before + reader.position(), done.records)
        if prepared.bad is not None:
            index, why = prepared.bad
            raise BadLine(path, numbers[index], why, done)
    if bad is not None:
        raise BadLine(path, *bad, done)


async def export(
    store: ResponseStore, out: str, windows: Sequence[Window] = (), service: str | None = None
) -> int:
    """Write every stored record (reported within ``windows``, of ``service``) to ``out`` as
    JSON lines (``-``: standard output); the number written. A file appears whole or not at
    all: it is written beside its name and renamed when complete."""
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    count = 0
    try:
        with ExitStack() as files:
            raw = sys.stdout.buffer if out == STDIO else files.enter_context(open(partial, "wb"))
            sink: BinaryIO = files.enter_context(gzip.GzipFile(fileobj=raw, mode="wb")) if (
                out.endswith(".gz")) else raw  # type: ignore[assignment]  # fmt: skip
            async for texts in store.record_texts(windows, service):
                await asyncio.to_thread(sink.write, ("\n".join(texts) + "\n").encode())
                count += len(texts)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if out == STDIO:
        await asyncio.to_thread(sys.stdout.buffer.flush)
    else:
        os.replace(partial, target)
    return count
