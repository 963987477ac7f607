"""files an officer uploaded for an open task's form, kept until the task is completed

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28 10:00:00

An officer's form with a field of several files (the inspection report's site photos) fills up over several
uploads, as the citizen's application does in its draft; the files uploaded so far are kept here, one row a file,
until the task is completed (they then live in the instance's variables) or goes away (the rows with it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'task_upload',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('field', sa.String(length=255), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('uploaded_by', sa.String(length=100), nullable=False),
        sa.Column('uploaded_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['user_task.id'], name=op.f('fk_task_upload_task_id_user_task'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('task_id', 'field', 'position', name=op.f('pk_task_upload')))


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('task_upload')
