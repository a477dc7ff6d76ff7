"""consent: the consent ledger's system of record (opt-outs by person and scope)

Revision ID: 0009
Revises: 0012
Create Date: 2026-12-06

One row per pseudonymous person and scope (``sender:<number>``, ``agency:<name>``, ``all``),
kept for ever: whether the person is opted out, when it was said and how (``stop``,
``carrier``, ``start``). Redis keeps the working copy the reply path reads; the rows are what
it is restored from when Redis comes back empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("person", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(160), primary_key=True),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent")
