"""add targets.thread

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add each target's thread progress (its items' status, ids and in-flight call)."""
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thread", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the thread progress."""
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_column("thread")
