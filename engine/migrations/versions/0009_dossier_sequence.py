"""dossier sequence (dossier codes per agency and day)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 04:50:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('dossier_sequence',
                    sa.Column('agency', sa.String(length=64), nullable=False),
                    sa.Column('day', sa.Date(), nullable=False),
                    sa.Column('last', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('agency', 'day', name=op.f('pk_dossier_sequence')))


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('dossier_sequence')
