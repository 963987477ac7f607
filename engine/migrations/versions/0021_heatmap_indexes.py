"""the console's heatmap over a long history: the completions and the starts of each element, indexed apart

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28 18:00:00

The heatmap (engine.diagram_data.durations) reads the newest 5,000 completions of each element of a definition and
the start of each. Without these indexes that meant reading every completion of the definition's instances and
sorting them: about 4 s a page at a million history events (bench/console.py), 0.36 s with them. An element's
newest completions are then one backward walk of ``ix_history_event_completed`` that stops after 5,000, and each
start one probe of ``ix_history_event_started``; both are partial (only those two kinds of event) and, on
PostgreSQL, carry the columns read, so the table itself is not visited.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels = None
depends_on = None

# as in engine.models (kept literal here: a migration must not change with the models)
COMPLETED, STARTED = sa.text("kind = 'activity_completed'"), sa.text("kind = 'activity_started'")


def upgrade() -> None:
    """Apply this migration."""
    op.create_index('ix_history_event_completed', 'history_event', ['activity_id', 'id'], sqlite_where=COMPLETED,
                    postgresql_where=COMPLETED, postgresql_include=['instance_id', 'task_id', 'at'])
    op.create_index('ix_history_event_started', 'history_event', ['activity_id', 'instance_id', 'task_id'],
                    sqlite_where=STARTED, postgresql_where=STARTED, postgresql_include=['at'])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index('ix_history_event_started', table_name='history_event')
    op.drop_index('ix_history_event_completed', table_name='history_event')
