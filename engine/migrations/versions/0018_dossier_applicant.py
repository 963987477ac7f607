"""the applicant's name on the dossier (the inbox lists it), filled in for existing dossiers

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 07:30:00
"""
from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels = None
depends_on = None
BATCH = 1000


def upgrade() -> None:
    """Apply this migration: add the column, then copy each open dossier's applicant from its variables."""
    with op.batch_alter_table('dossier') as batch:
        batch.add_column(sa.Column('applicant_name', sa.String(length=200), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT d.instance_id, p.variables FROM dossier d JOIN process_instance p ON p.id = d.instance_id "
        "WHERE d.finished_at IS NULL")).fetchall()
    names = []
    for instance_id, variables in rows:
        try:
            known = json.loads(variables or "{}")
        except ValueError:
            continue
        name = known.get("applicant_name") or known.get("full_name") if isinstance(known, dict) else None
        if name:
            names.append({"id": instance_id, "name": str(name).strip()[:200]})
    for start in range(0, len(names), BATCH):
        connection.execute(sa.text("UPDATE dossier SET applicant_name = :name WHERE instance_id = :id"),
                           names[start:start + BATCH])


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('dossier') as batch:
        batch.drop_column('applicant_name')
