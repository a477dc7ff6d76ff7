"""forwards: what each outside store (Touchpoints) answered for a response

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forwards",
        sa.Column("response_id", sa.String(64), primary_key=True),
        sa.Column("sink", sa.String(64), primary_key=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remote_id", sa.String(64)),
        sa.Column("forwarded_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("forwards")
