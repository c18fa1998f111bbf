"""rounds answers jar

Revision ID: 002
Revises: 001
Create Date: 2026-11-22 00:53:50.207527
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "002"
down_revision = "001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jar_slips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_jar_slips_author_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_jar_slips_couple_id_couples")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jar_slips")),
    )
    with op.batch_alter_table("jar_slips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jar_slips_couple_id"), ["couple_id"], unique=False)

    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("couple_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("slip_id", sa.Integer(), nullable=True),
        sa.Column("local_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["couple_id"], ["couples.id"], name=op.f("fk_rounds_couple_id_couples")
        ),
        sa.ForeignKeyConstraint(
            ["slip_id"], ["jar_slips.id"], name=op.f("fk_rounds_slip_id_jar_slips")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds")),
        sa.UniqueConstraint(
            "couple_id", "source", "local_date", name=op.f("uq_rounds_couple_id_source_local_date")
        ),
    )
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rounds_couple_id"), ["couple_id"], unique=False)

    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media_kind", sa.String(length=16), nullable=True),
        sa.Column("file_id", sa.String(length=256), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_answers_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_answers_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint("round_id", "person_id", name=op.f("uq_answers_round_id_person_id")),
    )
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answers_chat_id_message_id", ["chat_id", "message_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_answers_person_id"), ["person_id"], unique=False)

    op.create_table(
        "reveals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_reveals_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_reveals_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reveals")),
        sa.UniqueConstraint("round_id", "person_id", name=op.f("uq_reveals_round_id_person_id")),
    )
    op.create_table(
        "round_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_round_messages_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_messages_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_messages")),
        sa.UniqueConstraint(
            "chat_id", "message_id", name=op.f("uq_round_messages_chat_id_message_id")
        ),
    )
    with op.batch_alter_table("round_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_messages_round_id"), ["round_id"], unique=False)

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("awaiting")

    with op.batch_alter_table("round_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_messages_round_id"))

    op.drop_table("round_messages")
    op.drop_table("reveals")
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answers_person_id"))
        batch_op.drop_index("ix_answers_chat_id_message_id")

    op.drop_table("answers")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rounds_couple_id"))

    op.drop_table("rounds")
    with op.batch_alter_table("jar_slips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jar_slips_couple_id"))

    op.drop_table("jar_slips")
