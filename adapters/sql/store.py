"""The measures store in SQL: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production.

One class made of rooms, one per concern: ``migrate`` (Alembic), ``writes`` (records, cases,
forwards, audit), ``rollups`` (each day's counts, and grouped reads over them and the
rows), ``figures`` (what reports read), ``transfer`` (records out, for export),
``trends`` (driver sums for trends), ``comments`` (finding comments), ``library`` (flow
versions and services' settings) and ``consent`` (the consent ledger's system of record);
``schema`` holds the tables and ``base`` the engine they share.
"""

from __future__ import annotations

from pathlib import Path

from .comments import Comments
from .consent import ConsentRows
from .figures import Figures
from .library import LibraryRows
from .migrate import Migrations
from .transfer import Transfer
from .trends import Trends
from .writes import Writes


class SqlStore(Migrations, Writes, Trends, Figures, LibraryRows, Transfer, Comments, ConsentRows):
    """The SQL measures store; an idempotent sink and the source of reports."""


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
