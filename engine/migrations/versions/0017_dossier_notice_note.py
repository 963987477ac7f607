"""a note on a dossier notice (the citizen is told when their dossier is forwarded to another agency)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 07:05:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('dossier_notice') as batch:
        batch.add_column(sa.Column('note', sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('dossier_notice') as batch:
        batch.drop_column('note')
