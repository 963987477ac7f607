"""dossier owner and procedure name; rate limits

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 05:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('owner_id', sa.String(length=12), nullable=True))
        batch.add_column(sa.Column('procedure_name', sa.String(length=500), nullable=True))
        batch.create_index(batch.f('ix_dossier_owner_id'), ['owner_id'], unique=False)
    op.create_table('rate_limit',
                    sa.Column('key', sa.String(length=200), nullable=False),
                    sa.Column('window_start', engine.models.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('count', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit')))


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('rate_limit')
    with op.batch_alter_table('dossier') as batch:
        batch.drop_index(batch.f('ix_dossier_owner_id'))
        batch.drop_column('procedure_name')
        batch.drop_column('owner_id')
