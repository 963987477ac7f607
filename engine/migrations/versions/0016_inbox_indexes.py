"""the officers' inbox at 100,000 open tasks: the agency whose inbox holds a task, and the indexes of its orders

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 07:30:00

An agency's tasks are one range of an index in each order the inbox offers (due, procedure, dossier code); the
agency's open dossiers are indexed by status and by receipt (partial indexes: the million finished dossiers stay
out of them). The task's agency is its dossier's, copied here for the tasks already open.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels = None
depends_on = None

TASK_INDEXES = {
    'ix_user_task_agency_due': ['agency', 'due_at', 'created_at', 'id'],
    'ix_user_task_agency_procedure': ['agency', 'process_key', 'due_at', 'created_at', 'id'],
    'ix_user_task_agency_code': ['agency', 'business_key', 'id'],
}
OPEN = sa.text('finished_at IS NULL')


def upgrade() -> None:
    """Apply this migration."""
    op.add_column('user_task', sa.Column('agency', sa.String(length=64), nullable=True))
    op.execute('UPDATE user_task SET agency = (SELECT dossier.agency FROM dossier '
               'WHERE dossier.instance_id = user_task.instance_id)')
    for name, columns in TASK_INDEXES.items():
        op.create_index(name, 'user_task', columns)
    for column in ('status', 'received_at'):
        op.create_index(f'ix_dossier_open_agency_{column}', 'dossier', ['agency', column], postgresql_where=OPEN,
                        sqlite_where=OPEN)


def downgrade() -> None:
    """Revert this migration."""
    for column in ('status', 'received_at'):
        op.drop_index(f'ix_dossier_open_agency_{column}', table_name='dossier')
    for name in TASK_INDEXES:
        op.drop_index(name, table_name='user_task')
    with op.batch_alter_table('user_task') as batch:
        batch.drop_column('agency')
