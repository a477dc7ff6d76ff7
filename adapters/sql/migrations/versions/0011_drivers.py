"""responses: the drivers each respondent was offered and chose, per branch, as bit sets

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06

Trends compare the drivers people chose this quarter with the quarter before, by grouped sums
(``adapters.sql.trends``), never by reading records: each row keeps, for the positive and the
negative branch, the drivers its form offered and the ones chosen as bit sets over
``bot.core.a11.DRIVERS`` (bit ``i`` for the ``i``-th driver; ``bot.core.trends.driver_fields``).
Rows stored before are given them by the bot when it next starts
(``SqlStore.backfill_drivers``); a partial index keeps that look free once none is left.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = ("positive_offered", "positive_chosen", "negative_offered", "negative_chosen")


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer))
    pending = sa.text("positive_offered IS NULL")
    op.create_index("responses_undriven", "responses", ["response_id"],
                    postgresql_where=pending, sqlite_where=pending)  # fmt: skip


def downgrade() -> None:
    op.drop_index("responses_undriven", "responses")
    with op.batch_alter_table("responses") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
