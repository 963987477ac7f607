"""the Decision 766 indicators over a million dossiers: the dossier's end of processing, fee and online payment, the
rating's agency, and the indexes a period's dossiers are read through

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 12:00:00

``dossier.resolved_at`` is NgayKetThucXuLy (the first status among 3, 7, 8, 9, 10, or the end of the procedure),
``resolved_days`` the calendar days from receipt to it; ``fee_requested_at`` the first time the dossier was asked to
pay (status 6); ``paid_online_at`` when a fee was paid through the gateway; ``dissatisfied_at`` when the citizen
rated it "Không hài lòng". They are filled in here from the history, the payment ledger and the ratings, then kept by
the engine (engine.dossiers, engine.payments, engine.ratings). A rating keeps its dossier's agency. On PostgreSQL the indexes carry every column the indicators read (INCLUDE), so a period is one index range.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.models import UTCDateTime

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels = None
depends_on = None

# as in engine.models and engine.citizen_models (kept literal here: a migration must not change with the models)
COLUMNS = ['status', 'channel', 'procedure_code', 'due_at', 'extended_due_at', 'paused_at', 'supplement_requests',
           'resolved_at', 'resolved_days', 'fee_requested_at', 'paid_online_at', 'dissatisfied_at']
UNRESOLVED, LONG = sa.text('resolved_at IS NULL'), sa.text('resolved_days > 60')
DISSATISFIED = {'sqlite': "json_extract(answers, '$.tieu_chi_11') = 0",
                'postgresql': "(answers::json ->> 'tieu_chi_11') = '0'"}
END_STATUSES = (3, 7, 8, 9, 10)


def _status_events(statuses) -> str:
    """History events that moved the dossier to one of ``statuses`` (details as engine.projections writes them)."""
    matches = " OR ".join(f"h.details LIKE '{{\"status\": {s},%'" for s in statuses)
    return (f"SELECT MIN(h.at) FROM history_event h WHERE h.instance_id = dossier.instance_id "
            f"AND h.kind = 'dossier_status' AND ({matches})")


def _backfill() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE dossier SET resolved_at = ({_status_events(END_STATUSES)})")
    op.execute("UPDATE dossier SET resolved_at = finished_at WHERE resolved_at IS NULL AND finished_at IS NOT NULL")
    days = ("EXTRACT(EPOCH FROM (resolved_at - received_at)) / 86400.0" if dialect == 'postgresql'
            else "julianday(resolved_at) - julianday(received_at)")
    op.execute(f"UPDATE dossier SET resolved_days = {days} WHERE resolved_at IS NOT NULL")
    op.execute(f"UPDATE dossier SET fee_requested_at = ({_status_events([6])})")
    op.execute("UPDATE dossier SET paid_online_at = (SELECT MIN(COALESCE(p.paid_at, p.settled_at, p.created_at)) "
               "FROM payment_order p WHERE p.instance_id = dossier.instance_id AND p.status = 'paid')")
    op.execute("UPDATE dossier_rating SET agency = (SELECT d.agency FROM dossier d "
               "WHERE d.instance_id = dossier_rating.instance_id)")
    op.execute(f"UPDATE dossier SET dissatisfied_at = (SELECT r.rated_at FROM dossier_rating r "
               f"WHERE r.instance_id = dossier.instance_id AND {DISSATISFIED[dialect]})")


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('resolved_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('resolved_days', sa.Float(), nullable=True))
        batch.add_column(sa.Column('fee_requested_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('paid_online_at', UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('dissatisfied_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('dossier_rating') as batch:
        batch.add_column(sa.Column('agency', sa.String(length=64), nullable=True))
    _backfill()
    op.create_index('ix_dossier_received_at', 'dossier', ['received_at'], postgresql_include=['agency', *COLUMNS])
    op.create_index('ix_dossier_agency_received_at', 'dossier', ['agency', 'received_at'], postgresql_include=COLUMNS)
    op.create_index('ix_dossier_unresolved', 'dossier', ['agency', 'received_at'], sqlite_where=UNRESOLVED,
                    postgresql_where=UNRESOLVED, postgresql_include=COLUMNS)
    op.create_index('ix_dossier_long_resolved', 'dossier', ['resolved_at'], sqlite_where=LONG, postgresql_where=LONG,
                    postgresql_include=['agency', 'received_at', *COLUMNS])
    op.create_index('ix_dossier_rating_agency_rated_at', 'dossier_rating', ['agency', 'rated_at'],
                    postgresql_include=['score'])
    op.create_index('ix_dossier_rating_dissatisfied', 'dossier_rating', ['instance_id', 'rated_at', 'agency'],
                    sqlite_where=sa.text(DISSATISFIED['sqlite']), postgresql_where=sa.text(DISSATISFIED['postgresql']))


def downgrade() -> None:
    """Revert this migration."""
    for name in ('ix_dossier_rating_dissatisfied', 'ix_dossier_rating_agency_rated_at'):
        op.drop_index(name, table_name='dossier_rating')
    for name in ('ix_dossier_long_resolved', 'ix_dossier_unresolved', 'ix_dossier_agency_received_at',
                 'ix_dossier_received_at'):
        op.drop_index(name, table_name='dossier')
    with op.batch_alter_table('dossier_rating') as batch:
        batch.drop_column('agency')
    with op.batch_alter_table('dossier') as batch:
        for column in ('dissatisfied_at', 'paid_online_at', 'fee_requested_at', 'resolved_days', 'resolved_at'):
            batch.drop_column(column)
