"""schedule and deliveries

Revision ID: 003
Revises: 002
Create Date: 2026-11-22 00:58:20.650472
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "003"
down_revision = "002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_deliveries_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_deliveries_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("round_id", "person_id", name=op.f("uq_deliveries_round_id_person_id")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("couples", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("jar_day", sa.String(length=9), nullable=False, server_default="sunday")
        )
        batch_op.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_evening_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_jar_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_couples_next_evening_at"), ["next_evening_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_couples_next_jar_at"), ["next_jar_at"], unique=False)

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("swapped_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("timer_ends_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("timer_done_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_rounds_timer_ends_at"), ["timer_ends_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_timer_ends_at"))
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("timer_done_at")
        batch_op.drop_column("timer_ends_at")
        batch_op.drop_column("swapped_at")

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")

    with op.batch_alter_table("couples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_couples_next_jar_at"))
        batch_op.drop_index(batch_op.f("ix_couples_next_evening_at"))
        batch_op.drop_column("next_jar_at")
        batch_op.drop_column("next_evening_at")
        batch_op.drop_column("paused_until")
        batch_op.drop_column("jar_day")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_next_attempt_at")

    op.drop_table("deliveries")
