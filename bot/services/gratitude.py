"""Appreciation and good memories: saying thank you, and remembering good times."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Appreciation, Couple, Memory, Person, Round
from bot.parse import clean_text
from bot.services.notices import Button, Notice, Refusal, pager
from bot.services.people import couple_of, partner_id, say
from bot.services.schedule import zone

TEXT_MAX = 500
PAGE = 8
RESURFACE_EVERY = 5  # an ordinary evening brings back a memory about once in five


async def thank(session: AsyncSession, person: Person, text: str, now: dt.datetime) -> list[Notice]:
    """/thanks TEXT: the partner hears it at once, and it goes on the gratitude list."""
    couple, partner = await couple_of(session, person)
    text = clean_text(text)
    if not text:
        raise Refusal(say(person, "thanks_usage", partner=partner.first_name))
    if len(text) > TEXT_MAX:
        raise Refusal(say(person, "too_long", limit=TEXT_MAX, length=len(text)))
    session.add(Appreciation(couple_id=couple.id, author_id=person.id, text=text, created_at=now))
    return [
        say(person, "thanks_sent", partner=partner.first_name),
        say(partner, "thanks_received", partner=person.first_name, text=text),
    ]


async def gratitude(session: AsyncSession, person: Person, offset: int) -> list[Notice]:
    """/gratitude: the couple's appreciations, newest first, paged."""
    couple, partner = await couple_of(session, person)
    total = int(
        await session.scalar(select(func.count()).where(Appreciation.couple_id == couple.id)) or 0
    )
    if total == 0:
        return [say(person, "gratitude_empty", partner=partner.first_name)]
    offset = min(max(0, offset), max(0, total - 1))
    rows = list(
        await session.scalars(
            select(Appreciation)
            .where(Appreciation.couple_id == couple.id)
            .order_by(Appreciation.id.desc())
            .offset(offset)
            .limit(PAGE)
        )
    )
    names = {person.id: person.first_name, partner.id: partner.first_name}
    lines = [f"{a.created_at:%d %b}, {names.get(a.author_id, '?')}: {a.text}" for a in rows]
    return [
        Notice(
            person.chat_id,
            "gratitude_page",
            {
                "entries": "\n".join(lines),
                "first": offset + 1,
                "last": offset + len(rows),
                "total": total,
            },
            pager("grat", offset, PAGE, total),
            person.language_code,
        )
    ]


def parse_memory(text: str) -> tuple[dt.date | None, str]:
    """ "2019-06-14 Our first walk" -> (date, text); a memory without a date is fine too."""
    first, _, rest = text.strip().partition(" ")
    try:
        return dt.date.fromisoformat(first), rest.strip()
    except ValueError:
        return None, text.strip()


async def add_memory(
    session: AsyncSession, person: Person, text: str, now: dt.datetime
) -> list[Notice]:
    """/memory [YYYY-MM-DD] TEXT: a shared memory, which both see."""
    couple, partner = await couple_of(session, person)
    day, text = parse_memory(clean_text(text))
    if not text:
        raise Refusal(say(person, "memory_usage"))
    if len(text) > TEXT_MAX:
        raise Refusal(say(person, "too_long", limit=TEXT_MAX, length=len(text)))
    if day is not None and day > now.date():
        raise Refusal(say(person, "memory_future"))
    session.add(
        Memory(couple_id=couple.id, author_id=person.id, text=text, happened_on=day, created_at=now)
    )
    when = day.strftime("%d %b %Y") if day else ""
    return [
        say(person, "memory_saved_dated" if day else "memory_saved", when=when),
        say(partner, "memory_partner", partner=person.first_name, text=text),
    ]


async def memories(session: AsyncSession, person: Person) -> list[Notice]:
    couple, _ = await couple_of(session, person)
    rows = list(
        await session.scalars(
            select(Memory).where(Memory.couple_id == couple.id).order_by(Memory.id.desc()).limit(30)
        )
    )
    if not rows:
        return [say(person, "memories_empty")]
    lines = [f"{m.happened_on:%d %b %Y}: {m.text}" if m.happened_on else m.text for m in rows]
    return [say(person, "memories_list", entries="\n".join(lines))]


def memory_for_evening(rows: list[Memory], day: dt.date, now: dt.datetime) -> Memory | None:
    """Of a couple's memories, one for tonight: one from this date in an earlier year, else
    now and then the one least recently brought back."""
    for memory in rows:
        when = memory.happened_on
        if when and (when.month, when.day) == (day.month, day.day) and when.year < day.year:
            memory.resurfaced_at = now
            return memory
    if not rows or day.toordinal() % RESURFACE_EVERY:
        return None
    memory = min(rows, key=lambda m: (m.resurfaced_at or m.created_at, m.id))
    memory.resurfaced_at = now
    return memory


async def memory_line(session: AsyncSession, rnd: Round) -> dict[str, str]:
    """The params that bring a memory into an evening message."""
    if rnd.memory_id is None:
        return {}
    memory = await session.get(Memory, rnd.memory_id)
    if memory is None:
        return {}
    if (
        memory.happened_on
        and rnd.local_date
        and (memory.happened_on.month, memory.happened_on.day)
        == (rnd.local_date.month, rnd.local_date.day)
    ):
        years = rnd.local_date.year - memory.happened_on.year
        return {"memory": memory.text, "years": str(years), "memory_kind": "anniversary"}
    return {"memory": memory.text, "memory_kind": "remember"}


async def weekly_nudges(
    session: AsyncSession,
    couple: Couple,
    now: dt.datetime,
    suggestion_for: dict[int, str],
    date_idea: str | None,
) -> list[Notice]:
    """Once a week: a gentle idea to notice something, for whoever sent no thanks this week,
    and a date idea for both."""
    notices = []
    since = now - dt.timedelta(days=7)
    for pid in (couple.person_a_id, couple.person_b_id):
        person = await session.get(Person, pid)
        partner = await session.get(Person, partner_id(couple, pid))
        if person is None or partner is None or person.unreachable_at is not None:
            continue
        sent = await session.scalar(
            select(func.count()).where(
                Appreciation.couple_id == couple.id,
                Appreciation.author_id == pid,
                Appreciation.created_at >= since,
            )
        )
        if not sent:
            notices.append(
                say(person, "weekly_thanks", partner=partner.first_name, idea=suggestion_for[pid])
            )
        if date_idea:
            notices.append(
                Notice(
                    person.chat_id,
                    "weekly_date",
                    {"idea": date_idea},
                    ((Button("btn_date_more", "date:next"),),),
                    person.language_code,
                )
            )
    return notices


def local_hour(couple: Couple, now: dt.datetime) -> int:
    return now.astimezone(zone(couple.timezone)).hour


def pick(options: tuple[str, ...], seed: object) -> str:
    return random.Random(str(seed)).choice(options)
