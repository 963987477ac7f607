"""dossier status

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 04:05:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('status', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('status_at', engine.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.drop_column('status_at')
        batch.drop_column('status')
