"""application drafts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 05:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.models

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('application_draft',
                    sa.Column('id', sa.String(length=36), nullable=False),
                    sa.Column('owner_id', sa.String(length=12), nullable=False),
                    sa.Column('procedure_code', sa.String(length=100), nullable=False),
                    sa.Column('process_key', sa.String(length=255), nullable=False),
                    sa.Column('data', sa.Text(), nullable=False),
                    sa.Column('created_at', engine.models.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('updated_at', engine.models.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('submitted_code', sa.String(length=80), nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_draft')))
    with op.batch_alter_table('application_draft') as batch:
        batch.create_index(batch.f('ix_application_draft_owner_id'), ['owner_id'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('application_draft')
