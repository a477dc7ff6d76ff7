"""Alembic's environment: the connection (and its lock) come from ``SqlStore.migrate``; in
offline mode (``feedback-bot migrate --sql``) the SQL is written out for a DBA to review."""

from __future__ import annotations

from alembic import context

config = context.config

if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(connection=config.attributes["connection"])
    with context.begin_transaction():
        context.run_migrations()
