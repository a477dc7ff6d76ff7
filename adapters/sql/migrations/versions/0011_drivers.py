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
    if op.get_context().dialect.name == "postgresql":
        # The driver sums are read from this index alone (an index-only scan), not from rows
        # that also hold the whole record: measured at 100,000 responses in a quarter, about
        # 110-160 ms against 190-290 ms from the rows.
        op.create_index(
            "responses_service_reported_drivers", "responses", ["service_id", "reported_at"],
            postgresql_include=["responded", "flow_id", "trust_value", *COLUMNS],
        )  # fmt: skip
    pending = sa.text("positive_offered IS NULL")
    op.create_index("responses_undriven", "responses", ["response_id"],
                    postgresql_where=pending, sqlite_where=pending)  # fmt: skip


def downgrade() -> None:
    op.drop_index("responses_undriven", "responses")
    if op.get_context().dialect.name == "postgresql":
        op.drop_index("responses_service_reported_drivers", "responses")
    with op.batch_alter_table("responses") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
