"""add targets.tries

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 23:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Keep a target's publish tries, which `attempts` stops telling once follow-ups count in it."""
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tries", sa.Integer(), nullable=True))
    # exact for a confirmed target no follow-up has touched (its processing_checks still count its checks);
    # the others keep NULL and show their attempts, as before
    # (a JSON column holds SQL NULL, or JSON null when written as None)
    op.execute("UPDATE targets SET tries = attempts - processing_checks WHERE status = 'confirmed'"
               " AND (first_comment IS NULL OR CAST(first_comment AS TEXT) = 'null')"
               " AND (thread IS NULL OR CAST(thread AS TEXT) = 'null')")


def downgrade() -> None:
    """Drop the publish tries."""
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_column("tries")
