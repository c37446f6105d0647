"""incidents: members, escalation position, one-click links, outbox kinds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("escalation_step", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("escalation_at", Time, nullable=True))
        batch_op.add_column(sa.Column("escalation_started_at", Time, nullable=True))
        batch_op.add_column(sa.Column("updated_at", Time, nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_escalation_at"), ["escalation_at"])
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="trigger")
        )
        batch_op.add_column(sa.Column("recipient", sa.String(length=200), nullable=True))
    op.create_table(
        "incident_members",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("incident_id", Id, nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("entity_ref", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("down_at", Time, nullable=False),
        sa.Column("up_at", Time, nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_members_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_members")),
    )
    with op.batch_alter_table("incident_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_members_incident_id_check_id"),
            ["incident_id", "check_id"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_incident_members_check_id_up_at"), ["check_id", "up_at"]
        )
    op.create_table(
        "action_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("incident_id", Id, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.Column("used_at", Time, nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_action_links_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_action_links")),
    )


def downgrade() -> None:
    op.drop_table("action_links")
    op.drop_table("incident_members")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("recipient")
        batch_op.drop_column("kind")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_escalation_at"))
        batch_op.drop_column("updated_at")
        batch_op.drop_column("escalation_started_at")
        batch_op.drop_column("escalation_at")
        batch_op.drop_column("escalation_step")
