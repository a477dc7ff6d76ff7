"""comment_themes: each response's themes, to filter comments by and count per service

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-06

A narrow table (one row per response and theme) carrying what the counts are grouped and cut
by: the service, the moment the response is reported in a quarter and its sentiment, so a
service page's theme counts (with their negative share) are one grouped query over an index,
and the Comments page's theme filter a look-up by theme. The rows come from each record's
``themes`` (tagged when it was scored); a record's retention pass removes its words, not its
themes, so a quarter's counts do not change when its text is purged.

Rows stored before are given theme rows here, by one INSERT … SELECT inside the database
(nothing is read into the migrating process). Rows stored before migration 0005 (whose
``reported_at`` is still to be filled from their record, ``SqlStore.backfill_tallies``) are
given theme rows by that backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = "response_id, theme, service_id, reported_at, sentiment"
# Each record's themes as rows; a value that is not a short text (a record no check foresaw)
# is left out rather than failing the migration.
POSTGRESQL = f"""
INSERT INTO comment_themes ({COLUMNS})
SELECT DISTINCT r.response_id, t.theme, r.service_id, r.reported_at, r.sentiment_label
FROM responses AS r
CROSS JOIN LATERAL json_array_elements_text(
    CASE WHEN json_typeof(r.record -> 'themes') = 'array' THEN r.record -> 'themes'
         ELSE '[]'::json END
) AS t(theme)
WHERE r.reported_at IS NOT NULL AND length(t.theme) BETWEEN 1 AND 64
"""
SQLITE = f"""
INSERT INTO comment_themes ({COLUMNS})
SELECT DISTINCT r.response_id, t.value, r.service_id, r.reported_at, r.sentiment_label
FROM responses AS r, json_each(r.record, '$.themes') AS t
WHERE r.reported_at IS NOT NULL AND json_type(r.record, '$.themes') = 'array'
  AND t.type = 'text' AND length(t.value) BETWEEN 1 AND 64
"""


def upgrade() -> None:
    op.create_table(
        "comment_themes",
        sa.Column("response_id", sa.String(64), primary_key=True),
        sa.Column("theme", sa.String(64), primary_key=True),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sentiment", sa.String(16)),
    )
    # Counts: a service's rows in a quarter. The filter: a theme's rows, newest first.
    op.create_index("comment_themes_service", "comment_themes",
                    ["service_id", "reported_at", "theme", "sentiment"])  # fmt: skip
    op.create_index("comment_themes_theme", "comment_themes", ["theme", "reported_at"])
    postgresql = op.get_context().dialect.name == "postgresql"
    op.execute(POSTGRESQL if postgresql else SQLITE)


def downgrade() -> None:
    op.drop_table("comment_themes")
