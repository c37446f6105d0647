"""public maintenance windows: a stored window (API, CLI) can be shown on the status page
under a public name, as a catalog window can

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("public_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_column("public_name")
        batch_op.drop_column("public")
