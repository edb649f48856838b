"""connect: connect sessions (cs_) and the OAuth clients registered per instance

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:13:20.604606
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Two new tables; nothing existing changes."""
    op.create_table('connect_apps',
    sa.Column('platform', sa.String(length=30), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('client_secret', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'issuer', 'redirect_uri')
    )
    op.create_table('connect_sessions',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('workspace_id', sa.String(length=40), nullable=False),
    sa.Column('platform', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('redirect_url', sa.Text(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=True),
    sa.Column('account_ids', sa.JSON(), nullable=False),
    sa.Column('error_code', sa.String(length=60), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('connect_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_connect_sessions_workspace', ['workspace_id', 'created_at'], unique=False)


def downgrade() -> None:
    """Drop them (open sessions and cached clients are lost: clients register again)."""
    with op.batch_alter_table('connect_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_connect_sessions_workspace')

    op.drop_table('connect_sessions')
    op.drop_table('connect_apps')
