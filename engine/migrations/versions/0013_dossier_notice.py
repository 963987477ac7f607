"""dossier notices (outbox of status-change notifications)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 05:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('dossier_notice',
                    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                              nullable=False),
                    sa.Column('instance_id', sa.String(length=36), nullable=False),
                    sa.Column('code', sa.String(length=255), nullable=True),
                    sa.Column('status', sa.Integer(), nullable=False),
                    sa.Column('at', engine.models.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('attempts', sa.Integer(), nullable=False),
                    sa.Column('next_attempt_at', engine.models.UTCDateTime(timezone=True), nullable=True),
                    sa.Column('sent_at', engine.models.UTCDateTime(timezone=True), nullable=True),
                    sa.Column('last_error', sa.Text(), nullable=True),
                    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                            name=op.f('fk_dossier_notice_instance_id_process_instance'),
                                            ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_notice')))
    with op.batch_alter_table('dossier_notice') as batch:
        batch.create_index('ix_dossier_notice_pending', ['sent_at', 'next_attempt_at'], unique=False)
        batch.create_index(batch.f('ix_dossier_notice_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('dossier_notice')
