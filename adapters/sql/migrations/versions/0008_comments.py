"""comments: each response's comment, to be found by word, service, quarter and more

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-06

A narrow table beside ``responses`` (one row per response with free text), newest first by
its indexes; the words are searched on PostgreSQL through a ``tsvector`` of the English and
the Spanish configuration (stems in both languages: "waiting" finds "wait", "espere" finds
"esperé", since Spanish stemming folds accents), on SQLite through an FTS5 table (Porter
stems, accents removed). Rows stored before are given their comment by the bot when it next
starts (``SqlStore.backfill_comments``, a thousand at a time): ``responses.comment_kept``
says which rows are done, and a partial index keeps that look free once none is left.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

SEARCH = "to_tsvector('english'::regconfig, text) || to_tsvector('spanish'::regconfig, text)"
FTS5 = (
    "CREATE VIRTUAL TABLE comments_fts USING fts5(text, content='comments', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    # An external-content FTS5 table follows its table by triggers (SQLite's documented way).
    "CREATE TRIGGER comments_fts_insert AFTER INSERT ON comments BEGIN "
    "INSERT INTO comments_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER comments_fts_delete AFTER DELETE ON comments BEGIN "
    "INSERT INTO comments_fts(comments_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER comments_fts_update AFTER UPDATE ON comments BEGIN "
    "INSERT INTO comments_fts(comments_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO comments_fts(rowid, text) VALUES (new.id, new.text); END",
)


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    search = [sa.Column("search", TSVECTOR, sa.Computed(SEARCH, persisted=True))]
    # On SQLite the FTS5 table finds its rows by an INTEGER PRIMARY KEY: a table's implicit
    # rowid may be renumbered by VACUUM, which would leave the search pointing elsewhere.
    key = [sa.Column("response_id", sa.String(64), primary_key=True)] if postgresql else [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("response_id", sa.String(64), nullable=False, unique=True)]  # fmt: skip
    op.create_table(
        "comments",
        *key,
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("sentiment", sa.String(16)),
        sa.Column("branch", sa.String(8)),
        sa.Column("drivers", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        *(search if postgresql else []),
    )
    op.create_index("comments_newest", "comments", ["reported_at", "response_id"])
    op.create_index("comments_service_newest", "comments",
                    ["service_id", "reported_at", "response_id"])  # fmt: skip
    if postgresql:
        op.create_index("comments_search", "comments", ["search"], postgresql_using="gin")
    else:
        for statement in FTS5:
            op.execute(statement)
    op.add_column("responses", sa.Column("comment_kept", sa.Boolean))
    pending = sa.text("free_text IS NOT NULL AND comment_kept IS NULL")
    op.create_index("responses_uncommented", "responses", ["response_id"],
                    postgresql_where=pending, sqlite_where=pending)  # fmt: skip


def downgrade() -> None:
    op.drop_index("responses_uncommented", "responses")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("comment_kept")
    if op.get_context().dialect.name != "postgresql":
        op.execute("DROP TABLE comments_fts")
    op.drop_table("comments")
