"""audit table; responses by respondent (forgetting a person)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255)),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at", "id"])
    op.create_index("ix_responses_respondent", "responses", ["respondent"])


def downgrade() -> None:
    op.drop_index("ix_responses_respondent", "responses")
    op.drop_table("audit")
