"""dossier extension (the new appointment of an apology letter)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 04:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('extended_due_at', engine.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.drop_column('extended_due_at')
