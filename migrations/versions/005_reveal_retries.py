"""reveal retries

Revision ID: 005
Revises: 004
Create Date: 2026-11-22 01:16:38.095058
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "005"
down_revision = "004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reveals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retried_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reveals", schema=None) as batch_op:
        batch_op.drop_column("retried_at")
