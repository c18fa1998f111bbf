"""The tables. Schema changes go through Alembic revisions in migrations/ only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.db.crypto import EncryptedText
from bot.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    """Someone who talks to the bot in a private chat."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(128))
    language_code: Mapped[str | None] = mapped_column(String(16))
    couple_id: Mapped[int | None] = mapped_column(
        ForeignKey("couples.id", use_alter=True), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # What the person's next plain message is for: "add" (a jar slip) or "answer:<round id>".
    awaiting: Mapped[str | None] = mapped_column(String(32))
    # Set when the person blocked the bot: deliveries skip them until they come back.
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Wrong invite codes in a row, and since when: too many in a short time are throttled.
    code_failures: Mapped[int] = mapped_column(default=0)
    code_failures_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Couple(Base):
    """Two people paired; ended_at is set when they unpair (history stays)."""

    __tablename__ = "couples"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_a_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    person_b_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    evening_time: Mapped[str] = mapped_column(String(5))
    jar_day: Mapped[str] = mapped_column(String(9), default="sunday")  # a weekday, daily, off
    paused_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The next scheduled instants, in UTC, computed from the couple's own clock; the
    # scheduler's query is "which of these have passed", answered by an index.
    next_evening_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    next_jar_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    # The other practices: an opt-in midday check-in, and a weekly nudge (appreciation, a date).
    checkin_time: Mapped[str | None] = mapped_column(String(5))  # None: off
    next_checkin_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    weekly_on: Mapped[bool] = mapped_column(default=True)
    next_weekly_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    quiz_revealed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Invite(Base):
    """A pairing code; only its SHA-256 is stored, so a leaked table reveals no live code."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class JarSlip(Base):
    """A question one partner dropped into the couple's jar; drawn once."""

    __tablename__ = "jar_slips"

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    drawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Round(Base):
    """One question put to one couple: from /question, the evening prompt or a jar draw.

    The question is referenced, not copied: a content item id (stable across rewording)
    or a jar slip. `local_date` is set for evening rounds: one per couple per local date.
    """

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("couple_id", "source", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # question | jar | evening
    item_id: Mapped[str | None] = mapped_column(String(64))
    slip_id: Mapped[int | None] = mapped_column(ForeignKey("jar_slips.id"))
    local_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revealed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Evening rounds: "Another one" used, the 20-minute timer, the one reminder.
    swapped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timer_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    timer_done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # An evening may bring back a shared memory ("Remember when ...?").
    memory_id: Mapped[int | None] = mapped_column(ForeignKey("memories.id", use_alter=True))


class Answer(Base):
    """One person's answer to one round: text, or media kept by file id."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        Index("ix_answers_chat_id_message_id", "chat_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    text: Mapped[str | None] = mapped_column(EncryptedText)
    media_kind: Mapped[str | None] = mapped_column(String(16))  # voice | photo | video_note
    file_id: Mapped[str | None] = mapped_column(String(256))
    chat_id: Mapped[int] = mapped_column(BigInteger)  # the message it came in, for edits
    message_id: Mapped[int] = mapped_column(BigInteger)  # and for copying media
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Reveal(Base):
    """The partner's answer shown to `person_id`: claimed once, then marked sent."""

    __tablename__ = "reveals"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The last time the scheduler claimed it to send again (its first send was not confirmed).
    retried_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RoundMessage(Base):
    """A message the bot delivered for a round, so a reply to it finds the round."""

    __tablename__ = "round_messages"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)


class Delivery(Base):
    """A scheduled round's message to one partner: recorded before it is sent.

    status: pending (to send), sending (claimed by a scheduler), sent, failed (retried on
    a later tick), skipped (the person blocked the bot, or the grace window passed).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("round_id", "person_id"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(64))


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so an update delivered twice is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class GroupChat(Base):
    """A group or channel that was told, once, that the bot works in private chats only."""

    __tablename__ = "group_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    told_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Appreciation(Base):
    """One partner's "thank you" to the other; together they are the gratitude list."""

    __tablename__ = "appreciations"

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Memory(Base):
    """A shared good memory, resurfaced now and then and on its anniversary."""

    __tablename__ = "memories"

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(EncryptedText)
    happened_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resurfaced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class EyeContact(Base):
    """A few minutes of eye contact: the end time is stored so "done" survives restarts."""

    __tablename__ = "eye_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    minutes: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class QuizAnswer(Base):
    """One person's choice on one love-languages quiz item, within their couple."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("couple_id", "person_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    item_id: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DoneDate(Base):
    """A date idea the couple marked "we did it"."""

    __tablename__ = "done_dates"
    __table_args__ = (UniqueConstraint("couple_id", "idea_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id"), index=True)
    idea_id: Mapped[str] = mapped_column(String(16))
    done_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
