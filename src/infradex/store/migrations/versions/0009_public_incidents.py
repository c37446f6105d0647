"""public_incidents, public_incident_updates: the status page's incidents, drafted from
internal incidents and published by a person

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "public_incidents",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("incident_id", Id, nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("impact", sa.String(length=16), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("published_at", Time, nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.Column("monitoring_at", Time, nullable=True),
        sa.Column("resolved_at", Time, nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_public_incidents_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_incidents")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_public_incidents_incident_id")),
    )
    with op.batch_alter_table("public_incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_incidents_published_at"), ["published_at"])
    op.create_table(
        "public_incident_updates",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("public_incident_id", Id, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["public_incident_id"],
            ["public_incidents.id"],
            name=op.f("fk_public_incident_updates_public_incident_id_public_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_incident_updates")),
    )
    with op.batch_alter_table("public_incident_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_public_incident_updates_public_incident_id"), ["public_incident_id"]
        )


def downgrade() -> None:
    op.drop_table("public_incident_updates")
    op.drop_table("public_incidents")
