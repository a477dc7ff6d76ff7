"""day_figures.question_1_n: each day's rows of the OMB per-response CSV, counted as it is

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

The JSON report gives the per-response CSV's row count (``per_response_rows``) from the
days' counts. It was worked out as the respondents with a trust answer less the A-11 v1 ones,
which is the CSV's rows (the respondents whose record has A-11 v2's ``question_1``) only when
every flow's fields are its instrument's: a custom flow may name a question's field
``question_1`` or ``q2`` (the flow builder offers them), and then the two differed. Each day's
figures now count the rows with ``question_1`` themselves. The days counted before lack the
count, so every day is counted again: its counts are left unused (their marks no longer
match) and read from the rows until the worker has counted it anew, within minutes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("day_figures", sa.Column("question_1_n", sa.Integer, nullable=False,
                                           server_default="0"))  # fmt: skip
    op.execute("DELETE FROM rolled_days")


def downgrade() -> None:
    with op.batch_alter_table("day_figures") as table:  # SQLite rebuilds the table
        table.drop_column("question_1_n")
