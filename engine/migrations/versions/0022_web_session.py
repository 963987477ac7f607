"""web sessions kept on the server: signing out and disabling an account end them

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 21:00:00

The portal's and the inbox's cookie was the whole session, so a copy of it stayed valid for its eight hours after
the person signed out. Each signed-in session now has a row here (the SHA-256 of the id the cookie carries); signing
out deletes it, disabling an account deletes all of its rows, and every request checks it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        'web_session',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=100), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_session')))
    op.create_index('ix_web_session_subject', 'web_session', ['kind', 'subject'])
    op.create_index(op.f('ix_web_session_expires_at'), 'web_session', ['expires_at'])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f('ix_web_session_expires_at'), table_name='web_session')
    op.drop_index('ix_web_session_subject', table_name='web_session')
    op.drop_table('web_session')
