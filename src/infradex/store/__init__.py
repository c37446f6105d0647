"""The store: SQLAlchemy 2 (async) on SQLite by default or PostgreSQL, migrated by Alembic."""

from infradex.store.db import Database

__all__ = ["Database"]
