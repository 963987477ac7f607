"""dossier warning before the due moment

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warn_hours', sa.Float(), nullable=False, server_default="4"))
        batch_op.add_column(sa.Column('warned_at', engine.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('dossier', schema=None) as batch_op:
        batch_op.drop_column('warned_at')
        batch_op.drop_column('warn_hours')
