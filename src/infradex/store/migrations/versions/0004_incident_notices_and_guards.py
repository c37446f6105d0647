"""incidents: needs_notice, one open incident per key; outbox: index by incident, longer claims

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = sa.text("status != 'resolved'")


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_notice", sa.Boolean(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_incidents_needs_notice"), ["needs_notice"])
        batch_op.create_index(
            "uq_incidents_open_key",
            ["key"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "claimed_by", type_=sa.String(length=200), existing_type=sa.String(length=64)
        )
        batch_op.create_index(batch_op.f("ix_notifications_incident_id"), ["incident_id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_incident_id"))
        batch_op.alter_column(
            "claimed_by", type_=sa.String(length=64), existing_type=sa.String(length=200)
        )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("uq_incidents_open_key")
        batch_op.drop_index(batch_op.f("ix_incidents_needs_notice"))
        batch_op.drop_column("needs_notice")
