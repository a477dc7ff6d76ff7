"""responses.record compressed with LZ4 where PostgreSQL has it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

A stored record is about two kilobytes of JSON with its row, past the size at which
PostgreSQL compresses a row's long values before it keeps them. Its default method (pglz) was
the largest single cost of writing a response in the database: loading 200,000 prepared
records by COPY took 9.7 s with it and 7.1 s with LZ4 (measured on the development machine),
for a table of the same size within a few per cent. LZ4 (PostgreSQL 14 and later, where the
server was built with it) is chosen for the values written from now on; values written
before stay as they are (both are read back alike). A server without it keeps its default:
nothing else changes. SQLite has no such setting.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Only where the server offers it: ``default_toast_compression``'s choices name the methods
# the server was built with (the setting exists from PostgreSQL 14).
CHOOSE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'
               AND 'lz4' = ANY(enumvals)) THEN
        EXECUTE 'ALTER TABLE responses ALTER COLUMN record SET COMPRESSION lz4';
    END IF;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHOOSE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CHOOSE.replace("SET COMPRESSION lz4", "SET COMPRESSION default"))
