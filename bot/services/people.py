"""Who is talking to the bot, and their couple."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Couple, Person
from bot.services.notices import Notice, Refusal


@dataclass(frozen=True)
class PersonInfo:
    """What the messenger tells us about the person behind an update."""

    telegram_id: int
    chat_id: int
    first_name: str
    language_code: str | None = None


async def touch_person(session: AsyncSession, info: PersonInfo, now: dt.datetime) -> Person:
    """The person for this update, created on first contact and kept up to date."""
    person = await session.scalar(select(Person).where(Person.telegram_id == info.telegram_id))
    name = (info.first_name or "").strip()[:128] or "Your partner"
    if person is None:
        person = Person(
            telegram_id=info.telegram_id,
            chat_id=info.chat_id,
            first_name=name,
            language_code=info.language_code,
            created_at=now,
        )
        session.add(person)
        await session.flush()
    else:
        person.chat_id = info.chat_id
        person.first_name = name
        person.language_code = info.language_code
    return person


def say(person: Person, key: str, **params: object) -> Notice:
    return Notice(person.chat_id, key, dict(params), language=person.language_code)


async def couple_of(session: AsyncSession, person: Person) -> tuple[Couple, Person]:
    """The person's couple and partner, or a refusal telling them to pair first."""
    if person.couple_id is None:
        raise Refusal(say(person, "pair_first"))
    couple = await session.get(Couple, person.couple_id)
    assert couple is not None
    partner_id = couple.person_b_id if couple.person_a_id == person.id else couple.person_a_id
    partner = await session.get(Person, partner_id)
    assert partner is not None
    return couple, partner


async def reachable(session: AsyncSession, couple: Couple) -> list[Person]:
    """The couple's partners who have not blocked the bot."""
    people = [await session.get(Person, pid) for pid in (couple.person_a_id, couple.person_b_id)]
    return [p for p in people if p is not None and p.unreachable_at is None]


def partner_id(couple: Couple, person_id: int) -> int:
    return couple.person_b_id if couple.person_a_id == person_id else couple.person_a_id
