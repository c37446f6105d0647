"""Alembic environment: infradex passes the connection in (see infradex.store.migrate)."""

from __future__ import annotations

from alembic import context

from infradex.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `infradex db upgrade` runs migrations
    raise RuntimeError("run migrations with `infradex db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
