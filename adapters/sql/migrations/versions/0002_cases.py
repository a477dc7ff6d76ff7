"""cases table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-15

``schema_migrations`` version 2 of the store made before Alembic.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("response_id", sa.String(64)),
        sa.Column("service_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(32)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(32)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("escalated_at", sa.DateTime(timezone=True)),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cases_response", "cases", ["response_id"])


def downgrade() -> None:
    op.drop_table("cases")
