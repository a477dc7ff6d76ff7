"""day_figures, day_dimensions, day_themes, day_first_replies, day_completions: each closed
day's grouped counts, kept up to date

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06

At a national agency's volume (a million responses a quarter) a page that groups a quarter's
rows, even from an index, reads every one of them for each figure. These tables keep, per
service and UTC day, the same grouped counts the figures read (``day_figures`` from
``responses``, ``day_dimensions`` from ``response_dimensions``, ``day_themes`` from
``comment_themes``, and how many times fall in each tenth of a minute: the bins a percentile
is found in, its exact value then read from its bin's rows by an index on the time), so a
quarter is read as ninety-odd days of groups, and only the hours at
its edges, today and a day changed since it was counted as rows (``adapters.sql.rollups``).

Whether a day's counts still hold is kept by the database itself, whatever wrote: a trigger on
each of the three tables (every INSERT, UPDATE and DELETE, from the outbox, an import, a
backfill, retention or ``forget``) moves the ``generation`` of each (service, day) it touched
in ``day_marks``; ``rolled_days`` says which generation a day's counts were made from, and a
reader uses them only where the two are equal. Today's rows only make sure their day has a
mark (no update: every write of the day would otherwise wait on one row); a day is counted
only once it has been over for an hour (``rollups.SETTLED``), so a write into it after that
always moves its mark. The marks of rows stored before are made here, in the database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None

DRIVERS = ("effectiveness", "ease", "efficiency", "transparency", "humanity", "employee", "other")
DRIVER_FIELDS = tuple(f"{branch}_{d}" for branch in ("positive", "negative") for d in DRIVERS)
V1_ITEMS = tuple(f"q{n}" for n in range(1, 12))
FLAGS = ("offered", "responded", "started", "completed")
MARKED = ("responses", "response_dimensions", "comment_themes")

# PostgreSQL: one statement-level trigger per table and event, reading the rows the statement
# changed (transition tables: a COPY of thousands of rows moves each mark once, not per row).
MARK_POSTGRESQL = """
CREATE OR REPLACE FUNCTION rollup_mark() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO day_marks (service_id, day, generation)
        SELECT service_id, (reported_at AT TIME ZONE 'UTC')::date, 0 FROM new_rows
        WHERE reported_at IS NOT NULL AND (reported_at AT TIME ZONE 'UTC')::date = today
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (service_id, day) DO NOTHING;
        INSERT INTO day_marks (service_id, day, generation)
        SELECT service_id, (reported_at AT TIME ZONE 'UTC')::date, 1 FROM new_rows
        WHERE reported_at IS NOT NULL AND (reported_at AT TIME ZONE 'UTC')::date <> today
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (service_id, day) DO UPDATE SET generation = day_marks.generation + 1;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO day_marks (service_id, day, generation)
        SELECT service_id, (reported_at AT TIME ZONE 'UTC')::date, 1 FROM old_rows
        WHERE reported_at IS NOT NULL AND (reported_at AT TIME ZONE 'UTC')::date <> today
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (service_id, day) DO UPDATE SET generation = day_marks.generation + 1;
    END IF;
    RETURN NULL;
END $$
"""
PG_EVENTS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}
# SQLite has row-level triggers only (the embedded store: a pilot's volume).
SQLITE_MARK = """
INSERT INTO day_marks (service_id, day, generation)
SELECT {row}.service_id, date({row}.reported_at),
       CASE WHEN date({row}.reported_at) = date('now') THEN 0 ELSE 1 END
WHERE {row}.reported_at IS NOT NULL
ON CONFLICT (service_id, day) DO UPDATE SET generation = generation + excluded.generation;
"""
SQLITE_EVENTS = {"insert": ("new",), "update": ("old", "new"), "delete": ("old",)}


def _day(key: bool = False) -> tuple[sa.Column[str], sa.Column[object]]:
    """The (service, day) every table here starts with (with ``key``, its primary key)."""
    return (sa.Column("service_id", sa.String(64), primary_key=key, nullable=False),
            sa.Column("day", sa.Date, primary_key=key, nullable=False))  # fmt: skip


def upgrade() -> None:
    for name in ("day_marks", "rolled_days"):
        op.create_table(name, *_day(key=True), sa.Column("generation", sa.Integer, nullable=False))
    op.create_table(
        "day_figures",
        *_day(),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("trust_value", sa.Integer),
        sa.Column("sentiment_label", sa.String(16)),
        *(sa.Column(name, sa.Boolean) for name in FLAGS),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reported_channel", sa.String(32), nullable=False),
        sa.Column("progress", sa.Text),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("reprompts", sa.Integer, nullable=False),
        sa.Column("q1_n", sa.Integer, nullable=False),
        *(
            sa.Column(f"{f}_{part}", sa.Integer, nullable=False)
            for f in DRIVER_FIELDS
            for part in ("n", "sum")
        ),
        *(
            sa.Column(f"{item}_{value}", sa.Integer, nullable=False)
            for item in V1_ITEMS
            for value in range(1, 6)
        ),
    )
    op.create_index("day_figures_day", "day_figures", ["service_id", "day"])
    op.create_table(
        "day_dimensions",
        *_day(),
        sa.Column("dimension", sa.String(64), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("trust_value", sa.Integer),
        sa.Column("offered", sa.Boolean, nullable=False),
        sa.Column("responded", sa.Boolean, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_index("day_dimensions_day", "day_dimensions", ["service_id", "day"])
    op.create_table(
        "day_themes",
        *_day(),
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("negative", sa.Integer, nullable=False),
    )
    op.create_index("day_themes_day", "day_themes", ["service_id", "day"])
    for name, column in (
        ("day_first_replies", "first_reply_minutes"),
        ("day_completions", "completion_minutes"),
    ):
        op.create_table(
            name,
            *_day(),
            sa.Column("tenth", sa.Integer, nullable=False),
            sa.Column("n", sa.Integer, nullable=False),
        )
        op.create_index(f"{name}_day", name, ["service_id", "day"])
        # A percentile's exact value is read from the rows of its bin: found by the time.
        timed = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"responses_{column}",
            "responses",
            ["service_id", column],
            postgresql_include=["reported_at"],
            postgresql_where=timed,
            sqlite_where=timed,
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MARK_POSTGRESQL)
        for table in MARKED:
            for event, clause in PG_EVENTS.items():
                op.execute(
                    f"CREATE TRIGGER {table}_mark_{event} AFTER {event.upper()} ON {table} "
                    f"{clause} FOR EACH STATEMENT EXECUTE FUNCTION rollup_mark()"
                )
        day = "(reported_at AT TIME ZONE 'UTC')::date"
    else:
        for table in MARKED:
            for event, rows in SQLITE_EVENTS.items():
                body = "".join(SQLITE_MARK.format(row=row) for row in rows)
                op.execute(f"CREATE TRIGGER {table}_mark_{event} AFTER {event.upper()} ON "
                           f"{table} FOR EACH ROW BEGIN {body} END")  # fmt: skip
        day = "date(reported_at)"
    # The days of the rows stored before: to be counted by the next roll-up.
    op.execute(f"INSERT INTO day_marks (service_id, day, generation) SELECT service_id, {day}, "
               "0 FROM responses WHERE reported_at IS NOT NULL GROUP BY 1, 2")  # fmt: skip


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in MARKED:
            for event in PG_EVENTS:
                op.execute(f"DROP TRIGGER {table}_mark_{event} ON {table}")
        op.execute("DROP FUNCTION rollup_mark()")
    else:
        for table in MARKED:
            for event in SQLITE_EVENTS:
                op.execute(f"DROP TRIGGER {table}_mark_{event}")
    for column in ("first_reply_minutes", "completion_minutes"):
        op.drop_index(f"responses_{column}", "responses")
    for table in (
        "day_completions",
        "day_first_replies",
        "day_themes",
        "day_dimensions",
        "day_figures",
        "rolled_days",
        "day_marks",
    ):
        op.drop_table(table)
