"""people, couples and invites

Revision ID: 001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("language_code", sa.String(length=16), nullable=True),
        sa.Column("couple_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_people_telegram_id")),
    )
    op.create_index(op.f("ix_people_couple_id"), "people", ["couple_id"])
    op.create_table(
        "couples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_a_id", sa.Integer(), nullable=False),
        sa.Column("person_b_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("evening_time", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_a_id"], ["people.id"], name=op.f("fk_couples_person_a_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["person_b_id"], ["people.id"], name=op.f("fk_couples_person_b_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_couples")),
    )
    with op.batch_alter_table("people") as batch:
        batch.create_foreign_key(
            op.f("fk_people_couple_id_couples"), "couples", ["couple_id"], ["id"]
        )
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_invites_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invites_code_hash")),
    )
    op.create_index(op.f("ix_invites_person_id"), "invites", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invites_person_id"), table_name="invites")
    op.drop_table("invites")
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint(op.f("fk_people_couple_id_couples"), type_="foreignkey")
    op.drop_table("couples")
    op.drop_index(op.f("ix_people_couple_id"), table_name="people")
    op.drop_table("people")
