"""posts versions, targets content

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:39:25.639456
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns; older posts keep None (no versions: each target publishes the post's caption and media)."""
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('versions', sa.JSON(), nullable=True))

    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_column('content')

    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('versions')
