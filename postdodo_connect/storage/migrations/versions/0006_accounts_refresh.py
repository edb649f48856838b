"""accounts: the refresh lease and the expiry an `account.expiring` was sent for

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add both columns; None means no refresh running and no warning sent yet."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh_lease_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('expiry_warned_for', sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('expiry_warned_for')
        batch_op.drop_column('refresh_lease_until')
