"""targets: platform state, processing phase, call start

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns; targets in flight keep None (no saved state: their next attempt starts over as before)."""
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phase', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('processing_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('processing_checks', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('platform_state', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('call_started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('call_attempt', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_column('call_attempt')
        batch_op.drop_column('call_started_at')
        batch_op.drop_column('platform_state')
        batch_op.drop_column('processing_checks')
        batch_op.drop_column('processing_since')
        batch_op.drop_column('phase')
