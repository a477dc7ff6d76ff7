"""Alembic migrations of the SQL measures store (run by ``SqlStore.migrate``)."""
