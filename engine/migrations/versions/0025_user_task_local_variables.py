"""the variables an open user task holds for itself: a multi-instance review's reviewer

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-28 12:00:00

Each instance of a multi-instance user task holds its own item (camunda:elementVariable), which is not a process
variable; the officer's task page and the task's form variables show it from here.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column('user_task', sa.Column('local_variables', sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('user_task') as batch:
        batch.drop_column('local_variables')
