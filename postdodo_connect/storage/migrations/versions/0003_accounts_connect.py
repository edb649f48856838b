"""accounts: token expiry, granted scopes, platform user id

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the three columns; existing accounts keep None (unknown expiry, not an OAuth account)."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('external_user_id', sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('external_user_id')
        batch_op.drop_column('scopes')
        batch_op.drop_column('token_expires_at')
