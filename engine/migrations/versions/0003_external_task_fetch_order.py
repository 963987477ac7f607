"""external task fetch order index

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.drop_index("ix_external_task_topic_priority", table_name="external_task")
    op.create_index("ix_external_task_fetch_order", "external_task",
                    ["topic", sa.text("priority DESC"), "created_at", "id"])  # as the model declares it


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_external_task_fetch_order", table_name="external_task")
    op.create_index("ix_external_task_topic_priority", "external_task", ["topic", "priority"])
