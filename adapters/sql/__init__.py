"""The SQL measures store (see ``store``)."""

from .base import StoreUnavailable
from .migrate import upgrade_sql
from .store import SqlStore, database_url

__all__ = ["SqlStore", "StoreUnavailable", "database_url", "upgrade_sql"]
