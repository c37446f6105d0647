"""probe agents: location_states, agents, and the location an agent token is bound to

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _state_columns() -> list[sa.Column[object]]:
    """The columns a check's state has (as in check_states)."""
    return [
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("hard_state", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("history", sa.String(length=32), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("last_message", sa.Text(), nullable=True),
        sa.Column("last_duration_ms", sa.Float(), nullable=True),
        sa.Column("last_observed", sa.JSON(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "location_states",
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=63), nullable=False),
        *_state_columns(),
        sa.PrimaryKeyConstraint("check_id", "location", name=op.f("pk_location_states")),
    )
    op.create_table(
        "agents",
        sa.Column("location", sa.String(length=63), nullable=False),
        sa.Column("token_name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clock_offset_ms", sa.Float(), nullable=True),
        sa.Column("results_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refused_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("dropped_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("location", name=op.f("pk_agents")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location", sa.String(length=63), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("location")
    op.drop_table("agents")
    op.drop_table("location_states")
