"""dossier ratings

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 05:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('dossier_rating',
                    sa.Column('instance_id', sa.String(length=36), nullable=False),
                    sa.Column('code', sa.String(length=255), nullable=True),
                    sa.Column('procedure_code', sa.String(length=100), nullable=True),
                    sa.Column('answers', sa.Text(), nullable=False),
                    sa.Column('score', sa.Integer(), nullable=False),
                    sa.Column('rated_at', engine.models.UTCDateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                            name=op.f('fk_dossier_rating_instance_id_process_instance'),
                                            ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_dossier_rating')))
    with op.batch_alter_table('dossier_rating') as batch:
        batch.create_index(batch.f('ix_dossier_rating_rated_at'), ['rated_at'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('dossier_rating')
