"""a user task's history by its id: the answer to the second officer, and the inbox's "what became of it"

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-27 23:30:00

When a command names a user task that is no longer open (a colleague completed it first, or a stale page), the
engine reads the task's last history event to say who did what and when (engine.user_tasks, engine.task_view).
history_event had no index on task_id, so each such answer read the whole table: fine on a demo, seconds on a
province's years of history, and at the very moment two officers collide. The index is partial (only user
tasks' events, which is all those reads ask for), so the engine's other history writes do not maintain it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels = None
depends_on = None

USER_TASK = sa.text("activity_type = 'userTask'")  # as in engine.models (kept literal: migrations must not move)


def upgrade() -> None:
    """Apply this migration."""
    op.create_index('ix_history_event_user_task', 'history_event', ['task_id', 'id'], sqlite_where=USER_TASK,
                    postgresql_where=USER_TASK)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index('ix_history_event_user_task', table_name='history_event')
