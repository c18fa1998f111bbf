"""Pairing two people into a couple (promise 2 in DESIGN.md).

A person is in at most one active couple; invite codes are unguessable (96 bits from
`secrets`), single-use and expire; only their SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Couple, Invite, Person
from bot.services.notices import Button, Notice, Refusal
from bot.services.people import couple_of, say
from bot.services.schedule import reschedule

CODE_BYTES = 12  # 96 bits; token_urlsafe gives 16 characters, fine for a /start payload
# Guessing is hopeless at 96 bits, but a flood of wrong codes is still refused for a while.
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = dt.timedelta(minutes=15)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def looks_like_code(text: str) -> bool:
    """Whether text could be one of our codes (cheap check before touching the database)."""
    text = text.strip()
    return 8 <= len(text) <= 64 and all(c.isalnum() or c in "-_" for c in text) and text.isascii()


async def create_invite(
    session: AsyncSession, person: Person, now: dt.datetime, ttl: dt.timedelta, bot_username: str
) -> list[Notice]:
    """A fresh code for `person`; any earlier unused code of theirs stops working."""
    if person.couple_id is not None:
        _, partner = await couple_of(session, person)
        raise Refusal(say(person, "already_paired", partner=partner.first_name))
    await session.execute(
        delete(Invite).where(Invite.person_id == person.id, Invite.used_at.is_(None))
    )
    code = secrets.token_urlsafe(CODE_BYTES)
    session.add(
        Invite(person_id=person.id, code_hash=hash_code(code), created_at=now, expires_at=now + ttl)
    )
    link = f"https://t.me/{bot_username}?start={code}"
    hours = round(ttl.total_seconds() / 3600)
    return [
        say(person, "invite_intro"),
        say(person, "invite_forward", link=link, code=code, hours=hours),
    ]


async def redeem(
    session: AsyncSession,
    person: Person,
    code: str,
    now: dt.datetime,
    default_timezone: str,
    default_evening: str,
) -> list[Notice]:
    """Join the couple that `code` invites to; refusals change nothing."""
    if person.couple_id is not None:
        _, partner = await couple_of(session, person)
        raise Refusal(say(person, "already_paired", partner=partner.first_name))
    since = person.code_failures_since
    recent = since is not None and since > now - WRONG_CODE_WINDOW
    if recent and person.code_failures >= MAX_WRONG_CODES:
        assert since is not None
        wait = since + WRONG_CODE_WINDOW - now
        raise Refusal(say(person, "code_throttled", minutes=int(wait.total_seconds() // 60) + 1))
    invite = None
    if looks_like_code(code):
        invite = await session.scalar(select(Invite).where(Invite.code_hash == hash_code(code)))
    if invite is None:
        # Not a refusal: the count of wrong codes must be kept.
        person.code_failures = person.code_failures + 1 if recent else 1
        person.code_failures_since = since if recent else now
        return [say(person, "code_unknown")]
    if invite.person_id == person.id:
        raise Refusal(say(person, "code_own"))
    if invite.used_at is not None:
        raise Refusal(say(person, "code_used"))
    if invite.expires_at <= now:
        raise Refusal(say(person, "code_expired"))
    inviter = await session.get(Person, invite.person_id)
    assert inviter is not None
    if inviter.couple_id is not None:
        raise Refusal(say(person, "inviter_paired", partner=inviter.first_name))

    # The claim and the pairing are conditional updates, so two redemptions racing for the
    # same code, or for the same person, cannot both win: the loser sees 0 rows and refuses.
    claimed = await session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Refusal(say(person, "code_used"))
    couple = Couple(
        person_a_id=inviter.id,
        person_b_id=person.id,
        created_at=now,
        timezone=default_timezone,
        evening_time=default_evening,
        jar_day="sunday",
        weekly_on=True,
    )
    reschedule(couple, now)
    session.add(couple)
    await session.flush()
    joined = await session.execute(
        update(Person)
        .where(Person.id.in_([inviter.id, person.id]), Person.couple_id.is_(None))
        .values(couple_id=couple.id)
        .execution_options(synchronize_session=False)
    )
    if joined.rowcount != 2:  # type: ignore[attr-defined]
        raise Refusal(say(person, "inviter_paired", partner=inviter.first_name))
    inviter.couple_id = person.couple_id = couple.id
    inviter.awaiting = person.awaiting = None  # an answer or slip in progress was for before
    person.code_failures, person.code_failures_since = 0, None
    await session.execute(
        delete(Invite).where(
            Invite.person_id.in_([inviter.id, person.id]), Invite.used_at.is_(None)
        )
    )
    return [
        say(person, "paired", partner=inviter.first_name),
        say(inviter, "paired", partner=person.first_name),
    ]


async def ask_unpair(session: AsyncSession, person: Person) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    buttons = (
        (Button("btn_unpair_yes", f"unpair:yes:{couple.id}"), Button("btn_unpair_no", "unpair:no")),
    )
    return [
        Notice(
            person.chat_id,
            "unpair_confirm",
            {"partner": partner.first_name},
            buttons,
            person.language_code,
        )
    ]


async def unpair(
    session: AsyncSession, person: Person, couple_id: int, now: dt.datetime
) -> list[Notice]:
    """End the couple that the confirm button was for (a stale button changes nothing)."""
    if person.couple_id is None or person.couple_id != couple_id:
        raise Refusal(say(person, "unpair_stale"))
    couple, partner = await couple_of(session, person)
    couple.ended_at = now
    await session.execute(
        update(Person)
        .where(Person.couple_id == couple.id)
        .values(couple_id=None)
        .execution_options(synchronize_session=False)
    )
    person.couple_id = partner.couple_id = None
    person.awaiting = partner.awaiting = None
    return [
        say(person, "unpaired", partner=partner.first_name),
        say(partner, "unpaired_by_partner", partner=person.first_name),
    ]


async def status(session: AsyncSession, person: Person) -> list[Notice]:
    if person.couple_id is None:
        return [say(person, "status_unpaired")]
    couple, partner = await couple_of(session, person)
    return [
        say(
            person,
            "status_paired",
            partner=partner.first_name,
            since=couple.created_at.strftime("%d %b %Y"),
            timezone=couple.timezone,
            time=couple.evening_time,
            jarday=couple.jar_day,
        )
    ]
