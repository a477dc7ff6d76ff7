"""responses and response_dimensions: what every figure of a report is counted from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

The report's figures are grouped counts in SQL (``SqlStore.quarter_counts``), never records
read into the bot. For that ``responses`` gains each driver cell (``positive_effectiveness``
… as the A-11 upload names them), each A-11 v1 answer (``q1`` … ``q11``) and how far the
survey went (``progress``), and a narrow table holds the group each response falls in on each
attribute that could be a reporting dimension. Rows stored before are given all of it from
their own record when the bot next starts or ``feedback-bot migrate`` runs
(``SqlStore.backfill_figures``, a thousand at a time): ``responses.figures_kept`` says which
rows are done, and a partial index keeps that look free once none is left.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DRIVERS = ("effectiveness", "ease", "efficiency", "transparency", "humanity", "employee", "other")
COUNTED = (
    *(f"{branch}_{d}" for branch in ("positive", "negative") for d in DRIVERS),
    *(f"q{n}" for n in range(1, 12)),
)
# What the report's grouped counts read, carried by the quarter's index on PostgreSQL (the
# counts are then read from the index alone, not from rows that also hold the whole record).
SUMMED = ("offered", "responded", "trust_value", "started", "completed", "first_reply_minutes",
          "completion_minutes", "reprompts", "flow_id", "sentiment_label")  # fmt: skip
GROUPED = ("language", "channel", "reported_channel")


def upgrade() -> None:
    with op.batch_alter_table("responses") as batch:
        for name in COUNTED:
            batch.add_column(sa.Column(name, sa.Integer))
        batch.add_column(sa.Column("progress", sa.Text))
        batch.add_column(sa.Column("figures_kept", sa.Boolean))
    pending = sa.text("figures_kept IS NULL")
    op.create_index("responses_unfigured", "responses", ["response_id"],
                    postgresql_where=pending, sqlite_where=pending)  # fmt: skip
    op.drop_index("responses_service_reported", "responses")
    op.create_index(
        "responses_service_reported", "responses", ["service_id", "reported_at"],
        postgresql_include=[*SUMMED, *GROUPED],
    )  # fmt: skip
    op.create_table(
        "response_dimensions",
        sa.Column("response_id", sa.String(64), primary_key=True),
        sa.Column("dimension", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("trust_value", sa.Integer),
        sa.Column("offered", sa.Boolean, nullable=False),
        sa.Column("responded", sa.Boolean, nullable=False),
    )
    op.create_index(
        "response_dimensions_quarter", "response_dimensions",
        ["dimension", "service_id", "reported_at"],
        postgresql_include=["value", "flow_id", "trust_value", "offered", "responded"],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("response_dimensions")
    op.drop_index("responses_service_reported", "responses")
    op.create_index(
        "responses_service_reported", "responses", ["service_id", "reported_at"],
        postgresql_include=list(SUMMED),
    )  # fmt: skip
    op.drop_index("responses_unfigured", "responses")
    with op.batch_alter_table("responses") as batch:
        for name in (*COUNTED, "progress", "figures_kept"):
            batch.drop_column(name)
