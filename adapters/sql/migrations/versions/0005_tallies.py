"""responses: the fields summaries sum (bot.core.measures.tally_fields)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS: tuple[tuple[str, Any], ...] = (
    ("reported_at", sa.DateTime(timezone=True)),
    ("offered", sa.Boolean),
    ("responded", sa.Boolean),
    ("trust_value", sa.Integer),
    ("started", sa.Boolean),
    ("completed", sa.Boolean),
    ("first_reply_minutes", sa.Float),
    ("completion_minutes", sa.Float),
    ("reprompts", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind))
    # On PostgreSQL the index carries the summed fields too: the sums are read from the index
    # alone (an index-only scan), not from rows that also hold the whole record.
    summed = [name for name, _ in COLUMNS[1:]] + ["flow_id", "sentiment_label"]
    op.create_index(
        "responses_service_reported", "responses", ["service_id", "reported_at"],
        postgresql_include=summed,
    )  # fmt: skip
    # The rows stored before get their fields from their own record when the bot next runs
    # (``SqlStore.backfill_tallies``, after every migration), so ``migrate --sql`` works too.
    # It looks for them at every start: this partial index keeps that look free of a scan of
    # the whole table once none is left.
    untallied = sa.text("reported_at IS NULL")
    op.create_index("responses_untallied", "responses", ["response_id"],
                    postgresql_where=untallied, sqlite_where=untallied)  # fmt: skip


def downgrade() -> None:
    op.drop_index("responses_untallied", "responses")
    op.drop_index("responses_service_reported", "responses")
    with op.batch_alter_table("responses") as batch:
        for name, _ in COLUMNS:
            batch.drop_column(name)
