"""What every room of the SQL store shares: the engine, reading and writing with the store's
errors (a retryable ``StoreUnavailable``, or a ``SinkError`` that says whether to retry)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import Table, text
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
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

from bot.core.errors import RetryableError
from bot.core.sinks import SinkError


def to_json(value: Any) -> str:
    """A JSON column's text: orjson's, five to ten times quicker than the standard library's
    (an import writes thousands of records a second); keys that are not text become text, as
    they did."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class SqlBase:
    """The engine and the few ways the rooms read and write through it."""

    name = "sql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url, pool_pre_ping=True, json_serializer=to_json, json_deserializer=orjson.loads
        )
        self.dialect = self.engine.dialect.name

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        """Raises the driver's own error (start-up names it) when the store cannot answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def replica_lag(self) -> float | None:
        """How far behind its primary this store is, in seconds, when it is a PostgreSQL
        replica that has not replayed all it received (0: caught up); None on a primary or
        SQLite, or when it cannot answer (a page still shows what it can)."""
        if self.dialect != "postgresql":
            return None
        query = text(
            "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn() IS DISTINCT FROM "
            "pg_last_wal_replay_lsn(), EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
        )
        try:
            async with self.engine.connect() as conn:
                replica, behind, age = (await conn.execute(query)).one()
        except (SQLAlchemyError, OSError, TimeoutError):
            return None
        if not replica:
            return None
        return max(0.0, float(age or 0.0)) if behind else 0.0

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

    async def _upsert(self, table: Table, key: str | tuple[str, ...], row: dict[str, Any]) -> None:
        insert = self._insert()
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
            raise sink_error(exc) from None

    async def _put(self, table: Table, key: str, row: dict[str, Any]) -> None:
        insert = self._insert()
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

    def _insert(self) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT."""
        return pg_insert if self.dialect == "postgresql" else sqlite_insert


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


def sink_error(exc: BaseException) -> SinkError:
    """A store failure as a sink reports it: permanent (never retried) or retryable."""
    if permanent(exc):
        return SinkError(f"measures store refused the record: {describe(exc)}", retryable=False)
    return SinkError(f"measures store unavailable: {describe(exc)}", retryable=True)


def describe(exc: BaseException) -> str:
    """What went wrong, without the statement or its parameters (they hold free text)."""
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return f"{type(exc).__name__}" + (f" (SQLSTATE {sqlstate})" if sqlstate else "")


class StoreUnavailable(RetryableError):
    """The measures store cannot answer now (the API answers 503)."""
