"""the audit log of administrative actions, and the heartbeats the scheduler writes for /healthz

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels = None
depends_on = None

AUDIT_INDEXES = {
    'ix_audit_event_at': ['at'],
    'ix_audit_event_actor_at': ['actor', 'at'],
    'ix_audit_event_action_at': ['action', 'at'],
    'ix_audit_event_target': ['target_kind', 'target_id'],
}


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('audit_event',
                    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                              nullable=False),
                    sa.Column('at', UTCDateTime(), nullable=False),
                    sa.Column('actor', sa.String(length=100), nullable=False),
                    sa.Column('action', sa.String(length=50), nullable=False),
                    sa.Column('target_kind', sa.String(length=50), nullable=False),
                    sa.Column('target_id', sa.String(length=300), nullable=False),
                    sa.Column('reason', sa.Text(), nullable=True),
                    sa.Column('details', sa.Text(), nullable=True),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')))
    for name, columns in AUDIT_INDEXES.items():
        op.create_index(name, 'audit_event', columns)
    op.create_table('heartbeat',
                    sa.Column('component', sa.String(length=50), nullable=False),
                    sa.Column('instance', sa.String(length=255), nullable=False),
                    sa.Column('started_at', UTCDateTime(), nullable=False),
                    sa.Column('last_seen', UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('component', 'instance', name=op.f('pk_heartbeat')))
    op.create_index(op.f('ix_heartbeat_last_seen'), 'heartbeat', ['last_seen'])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f('ix_heartbeat_last_seen'), table_name='heartbeat')
    op.drop_table('heartbeat')
    for name in AUDIT_INDEXES:
        op.drop_index(name, table_name='audit_event')
    op.drop_table('audit_event')
