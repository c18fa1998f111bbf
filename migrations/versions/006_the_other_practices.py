"""the other practices

Revision ID: 006
Revises: 005
Create Date: 2026-11-22 01:28:36.935591
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "006"
down_revision = "005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appreciations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_appreciations_author_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_appreciations_couple_id_couples")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appreciations")),
    )
    with op.batch_alter_table("appreciations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appreciations_couple_id"), ["couple_id"], unique=False)

    op.create_table(
        "done_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_done_dates_couple_id_couples")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_done_dates")),
        sa.UniqueConstraint("couple_id", "idea_id", name=op.f("uq_done_dates_couple_id_idea_id")),
    )
    with op.batch_alter_table("done_dates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_done_dates_couple_id"), ["couple_id"], unique=False)

    op.create_table(
        "eye_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_eye_contacts_couple_id_couples")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eye_contacts")),
    )
    with op.batch_alter_table("eye_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eye_contacts_couple_id"), ["couple_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_eye_contacts_ends_at"), ["ends_at"], unique=False)

    op.create_table(
        "memories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resurfaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_memories_author_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_memories_couple_id_couples")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memories_couple_id"), ["couple_id"], unique=False)

    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_quiz_answers_couple_id_couples")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_quiz_answers_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answers")),
        sa.UniqueConstraint(
            "couple_id",
            "person_id",
            "item_id",
            name=op.f("uq_quiz_answers_couple_id_person_id_item_id"),
        ),
    )
    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quiz_answers_couple_id"), ["couple_id"], unique=False)

    with op.batch_alter_table("couples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("next_checkin_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("weekly_on", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("next_weekly_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("quiz_revealed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_couples_next_checkin_at"), ["next_checkin_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_couples_next_weekly_at"), ["next_weekly_at"], unique=False
        )

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("memory_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_memory_id_memories"),
            "memories",
            ["memory_id"],
            ["id"],
            use_alter=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rounds_memory_id_memories"), type_="foreignkey")
        batch_op.drop_column("memory_id")

    with op.batch_alter_table("couples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_couples_next_weekly_at"))
        batch_op.drop_index(batch_op.f("ix_couples_next_checkin_at"))
        batch_op.drop_column("quiz_revealed_at")
        batch_op.drop_column("next_weekly_at")
        batch_op.drop_column("weekly_on")
        batch_op.drop_column("next_checkin_at")
        batch_op.drop_column("checkin_time")

    with op.batch_alter_table("quiz_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_answers_couple_id"))

    op.drop_table("quiz_answers")
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memories_couple_id"))

    op.drop_table("memories")
    with op.batch_alter_table("eye_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eye_contacts_ends_at"))
        batch_op.drop_index(batch_op.f("ix_eye_contacts_couple_id"))

    op.drop_table("eye_contacts")
    with op.batch_alter_table("done_dates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_done_dates_couple_id"))

    op.drop_table("done_dates")
    with op.batch_alter_table("appreciations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appreciations_couple_id"))

    op.drop_table("appreciations")
