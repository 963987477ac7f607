"""dossier agency (the officers' inbox is scoped by it)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 05:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('agency', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_dossier_agency'), ['agency'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.drop_index(batch.f('ix_dossier_agency'))
        batch.drop_column('agency')
