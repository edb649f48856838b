"""lease owners: who holds each lease, and the processes that hold them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The lease_owners table and targets/deliveries.lease_owner; leases taken before it have no owner."""
    op.create_table(
        'lease_owners',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('host', sa.String(length=200), nullable=False),
        sa.Column('scope', sa.String(length=200), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('pid_started', sa.String(length=40), nullable=True),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('beat_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_lease_owners'),
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=40), nullable=True))
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=40), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_column('lease_owner')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('lease_owner')
    op.drop_table('lease_owners')
