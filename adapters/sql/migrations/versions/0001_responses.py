"""responses table

Revision ID: 0001
Revises:
Create Date: 2026-11-01

The first step of the store made before Alembic (``schema_migrations`` version 1); a store
made then is adopted at this revision or the next.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "responses",
        sa.Column("response_id", sa.String(64), primary_key=True),
        sa.Column("survey_id", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(128), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("flow_version", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reported_channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("respondent", sa.String(64), nullable=False),
        sa.Column("disposition", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("transaction_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question_1", sa.Integer),
        sa.Column("sentiment_label", sa.String(16)),
        sa.Column("sentiment_polarity", sa.Float),
        sa.Column("free_text", sa.Text),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_responses_service_transaction", "responses",
                    ["service_id", "transaction_at"])  # fmt: skip
    op.create_index("ix_responses_ended", "responses", ["ended_at", "response_id"])
    op.create_index("ix_responses_disposition", "responses", ["disposition"])


def downgrade() -> None:
    op.drop_table("responses")
