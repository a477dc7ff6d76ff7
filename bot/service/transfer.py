"""Moving records in and out of the measures store (``feedback-bot export`` and ``import``).

An export is the stored response records as JSON lines, each with its ``schema_version``,
read a few thousand at a time. An import reads such lines, checks each against the record's
schema and keeps the records through the store's own write path (``ResponseStore.add``: the
same rows, summaries and search table as the outbox keeps), skipping those already stored,
so a second import of a file changes nothing. Reading and checking the next batch (in a
thread) overlaps the store's writing of the one before. A bad line stops the import with its
file and line number: the lines before it are stored, and the same import run again goes on
from there. A file whose name ends in ``.gz`` is read or written compressed; ``-`` is
standard input or output.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bot.core.errors import PermanentError
from bot.core.response import MalformedRecord, from_line
from bot.core.sinks import Refused, ResponseRecord, ResponseStore, Window

BATCH = 2000  # records kept in one transaction
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
    """A batch read from a file: its records and their line numbers, where a bad line is
    (its number and why), and whether the file ended."""

    records: list[ResponseRecord]
    lines: list[int]
    bad: tuple[int, str] | None
    ended: bool


class _Reader:
    """A file's lines, read a batch at a time (in a thread: reading and checking are
    blocking work), with its position in bytes for the progress bar."""

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
        records: list[ResponseRecord] = []
        numbers: list[int] = []
        while len(records) < BATCH:
            line = self.lines.readline(MAX_LINE + 1)
            if not line:
                return _Chunk(records, numbers, None, True)
            self.number += 1
            if len(line) > MAX_LINE:
                return _Chunk(records, numbers, (self.number, "longer than 1 MiB: not a record"),
                              False)  # fmt: skip
            if self.number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark some editors add
            if not line.strip():
                continue  # a blank line holds no record
            try:
                records.append(from_line(line))
            except MalformedRecord as exc:
                return _Chunk(records, numbers, (self.number, str(exc)), False)
            numbers.append(self.number)
        return _Chunk(records, numbers, None, False)


async def import_files(
    store: ResponseStore, paths: Sequence[str], progress: Progress | None = None
) -> Imported:
    """Keep the records of each file (``-``: standard input) that the store does not hold
    yet; BadLine at the first line that is not a storable record (the lines before it are
    stored). StoreUnavailable when the store cannot answer: what was stored stays."""
    done = Imported()
    read_before = 0
    for path in paths:
        with ExitStack() as files:
            raw = sys.stdin.buffer if path == STDIO else files.enter_context(open(path, "rb"))
            reader = _Reader(raw, path.endswith(".gz"))
            writing: asyncio.Task[int] | None = None
            lines: list[int] = []
            try:
                while True:
                    chunk = await asyncio.to_thread(reader.chunk)
                    if writing is not None:  # the batch before, written while this was read
                        done.new += await writing
                        writing = None
                    if chunk.records:
                        writing = asyncio.create_task(store.add(chunk.records))
                        lines = chunk.lines
                        done.records += len(chunk.records)
                    if progress is not None:
                        progress(read_before + reader.position(), done.records)
                    if chunk.bad is not None or chunk.ended:
                        break
                if writing is not None:
                    done.new += await writing
                    writing = None
            except Refused as exc:
                done.new += exc.stored
                done.records -= len(lines) - exc.index
                raise BadLine(path, lines[exc.index], str(exc), done) from None
            finally:
                if writing is not None:
                    writing.cancel()
            if chunk.bad is not None:
                raise BadLine(path, *chunk.bad, done)
            read_before += reader.position()
    return done


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
