"""postmortems on public incidents (written, then published once) and a reminder time of
its own for a stored public maintenance window

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("public_incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postmortem_body", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("postmortem_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("postmortem_published_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("postmortem_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_before_s", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_column("remind_before_s")
    with op.batch_alter_table("public_incidents", schema=None) as batch_op:
        batch_op.drop_column("postmortem_by")
        batch_op.drop_column("postmortem_published_at")
        batch_op.drop_column("postmortem_updated_at")
        batch_op.drop_column("postmortem_body")
