"""posts.event_seq: the per-post event counter behind `data.sequence`

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the counter and start it at the number of events each post already has."""
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_seq', sa.Integer(), server_default='0', nullable=False))
    # events of 0.1.0 carry no sequence: the next one of a post gets the number after its stored events
    op.execute("UPDATE posts SET event_seq = "
               "(SELECT COUNT(*) FROM events WHERE events.post_id = posts.id)")


def downgrade() -> None:
    """Drop the counter."""
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('event_seq')
