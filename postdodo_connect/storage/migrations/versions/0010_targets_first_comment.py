"""add targets.first_comment

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:49:45.706009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the first comment of each target (its text and how far it got)."""
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_comment", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the first comments."""
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_column("first_comment")
