"""officers' side: agencies, groups, comments, saved filters, the dossier's supplement requests

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 06:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels = None
depends_on = None


def _big_id():
    return sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False)


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('agency',
                    sa.Column('code', sa.String(length=64), nullable=False),
                    sa.Column('name', sa.String(length=300), nullable=False),
                    sa.Column('parent_code', sa.String(length=64), nullable=True),
                    sa.Column('disabled', sa.Boolean(), nullable=False),
                    sa.Column('created_at', UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('code', name=op.f('pk_agency')))
    op.create_table('office_group',
                    sa.Column('name', sa.String(length=100), nullable=False),
                    sa.Column('title', sa.String(length=300), nullable=False),
                    sa.Column('created_at', UTCDateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_office_group')))
    op.create_table('dossier_comment', _big_id(),
                    sa.Column('instance_id', sa.String(length=36), nullable=False),
                    sa.Column('task_id', sa.String(length=36), nullable=True),
                    sa.Column('author', sa.String(length=100), nullable=False),
                    sa.Column('body', sa.Text(), nullable=False),
                    sa.Column('created_at', UTCDateTime(), nullable=False),
                    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ondelete='CASCADE',
                                            name=op.f('fk_dossier_comment_instance_id_process_instance')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_comment')))
    op.create_index('ix_dossier_comment_instance_id_id', 'dossier_comment', ['instance_id', 'id'])
    op.create_table('saved_filter', _big_id(),
                    sa.Column('account', sa.String(length=100), nullable=False),
                    sa.Column('name', sa.String(length=100), nullable=False),
                    sa.Column('query', sa.Text(), nullable=False),
                    sa.Column('created_at', UTCDateTime(), nullable=False),
                    sa.ForeignKeyConstraint(['account'], ['account.name'], ondelete='CASCADE',
                                            name=op.f('fk_saved_filter_account_account')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filter')),
                    sa.UniqueConstraint('account', 'name', name='uq_saved_filter_account_name'))
    op.create_index(op.f('ix_saved_filter_account'), 'saved_filter', ['account'])
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('supplement_requests', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('supplements_allowed', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.drop_column('supplements_allowed')
        batch.drop_column('supplement_requests')
    op.drop_index(op.f('ix_saved_filter_account'), table_name='saved_filter')
    op.drop_table('saved_filter')
    op.drop_index('ix_dossier_comment_instance_id_id', table_name='dossier_comment')
    op.drop_table('dossier_comment')
    op.drop_table('office_group')
    op.drop_table('agency')
