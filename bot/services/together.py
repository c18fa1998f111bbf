"""Eye contact, the love-languages quiz, date ideas, and the check-in and weekly settings."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import parse_hhmm
from bot.db.models import Couple, DoneDate, EyeContact, Person, QuizAnswer
from bot.parse import number
from bot.practices_content import SEASONS, Practices
from bot.services.notices import Button, Notice, Refusal
from bot.services.people import couple_of, partner_id, reachable, say
from bot.services.schedule import reschedule, zone

EYES_DEFAULT, EYES_MAX = 2, 4  # minutes; two is the dose studies used
CHECKIN_DEFAULT = "12:30"
SOUTHERN = (
    "Australia/",
    "Pacific/Auckland",
    "America/Argentina",
    "America/Sao_Paulo",
    "America/Santiago",
    "America/Montevideo",
    "Africa/Johannesburg",
    "Antarctica/",
)


# -- eye contact ----------------------------------------------------------------------------
async def eyes(session: AsyncSession, person: Person, arg: str, now: dt.datetime) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    minutes = number(arg, most=EYES_MAX) if arg else EYES_DEFAULT
    if not minutes:
        raise Refusal(say(person, "eyes_usage"))
    row = EyeContact(couple_id=couple.id, minutes=minutes, created_at=now)
    session.add(row)
    await session.flush()
    start = ((Button("btn_eyes_start", f"eyes:{row.id}"),),)
    return [
        Notice(
            p.chat_id,
            "eyes_invite",
            {"minutes": minutes, "partner": o.first_name},
            start,
            p.language_code,
        )
        for p, o in ((person, partner), (partner, person))
    ]


async def start_eyes(
    session: AsyncSession, person: Person, eyes_id: int, now: dt.datetime
) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    row = await session.get(EyeContact, eyes_id, with_for_update=True)
    if row is None or row.couple_id != couple.id:
        raise Refusal(say(person, "button_stale"))
    if row.ends_at is not None:
        raise Refusal(say(person, "eyes_running" if row.done_at is None else "eyes_over"))
    row.ends_at = now + dt.timedelta(minutes=row.minutes)
    return [say(p, "eyes_started", minutes=row.minutes) for p in (person, partner)]


async def due_eyes(session: AsyncSession, now: dt.datetime) -> list[Notice]:
    rows = list(
        await session.scalars(
            select(EyeContact)
            .where(EyeContact.ends_at <= now, EyeContact.done_at.is_(None))
            .with_for_update(skip_locked=True)
        )
    )
    notices = []
    for row in rows:
        row.done_at = now
        couple = await session.get(Couple, row.couple_id)
        assert couple is not None
        notices += [
            say(p, "eyes_done", minutes=row.minutes) for p in await reachable(session, couple)
        ]
    return notices


# -- love languages ---------------------------------------------------------------------------
def quiz_item_notice(person: Person, practices: Practices, index: int) -> Notice:
    item = practices.love.quiz[index]
    return Notice(
        person.chat_id,
        "quiz_item",
        {
            "n": index + 1,
            "total": len(practices.love.quiz),
            "prompt": item.prompt,
            "a": item.a.text,
            "b": item.b.text,
        },
        ((Button("btn_quiz_a", f"ll:{index}:a"), Button("btn_quiz_b", f"ll:{index}:b")),),
        person.language_code,
    )


async def _answered(session: AsyncSession, couple_id: int, person_id: int) -> list[QuizAnswer]:
    return list(
        await session.scalars(
            select(QuizAnswer).where(
                QuizAnswer.couple_id == couple_id, QuizAnswer.person_id == person_id
            )
        )
    )


def top_language(answers: list[QuizAnswer]) -> str | None:
    if not answers:
        return None
    counts = Counter(a.language for a in answers)
    return max(sorted(counts), key=lambda lang: counts[lang])


async def start_quiz(session: AsyncSession, person: Person, practices: Practices) -> list[Notice]:
    couple, _ = await couple_of(session, person)
    done = {a.item_id for a in await _answered(session, couple.id, person.id)}
    for index, item in enumerate(practices.love.quiz):
        if item.id not in done:
            intro = [] if done else [say(person, "quiz_intro", total=len(practices.love.quiz))]
            return [*intro, quiz_item_notice(person, practices, index)]
    return [say(person, "quiz_done_already")]


async def quiz_answer(
    session: AsyncSession,
    person: Person,
    index: int,
    choice: str,
    practices: Practices,
    now: dt.datetime,
) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    if not 0 <= index < len(practices.love.quiz) or choice not in ("a", "b"):
        raise Refusal(say(person, "button_stale"))
    item = practices.love.quiz[index]
    picked = item.a if choice == "a" else item.b
    try:
        async with session.begin_nested():
            session.add(
                QuizAnswer(
                    couple_id=couple.id,
                    person_id=person.id,
                    item_id=item.id,
                    language=picked.language,
                    created_at=now,
                )
            )
    except IntegrityError:
        raise Refusal(say(person, "quiz_already")) from None
    mine = await _answered(session, couple.id, person.id)
    if len(mine) < len(practices.love.quiz):
        return await start_quiz(session, person, practices)
    theirs = await _answered(session, couple.id, partner.id)
    if len(theirs) < len(practices.love.quiz):
        return [
            say(person, "quiz_wait", partner=partner.first_name),
            say(partner, "quiz_partner_done", partner=person.first_name),
        ]
    claimed = await session.execute(
        update(Couple)
        .where(Couple.id == couple.id, Couple.quiz_revealed_at.is_(None))
        .values(quiz_revealed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return []
    tops = {person.id: top_language(mine), partner.id: top_language(theirs)}
    notices = []
    for viewer, other in ((person, partner), (partner, person)):
        own, their = tops[viewer.id], tops[other.id]
        assert own is not None and their is not None
        tips = practices.love.suggestions[their]  # type: ignore[index]
        notices.append(
            say(
                viewer,
                "quiz_results",
                mine=practices.love.languages[own].name,  # type: ignore[index]
                partner=other.first_name,
                theirs=practices.love.languages[their].name,  # type: ignore[index]
                about=practices.love.languages[their].about,  # type: ignore[index]
                tips="\n".join(f"- {t}" for t in tips),
            )
        )
    return notices


async def suggestion_for(
    session: AsyncSession, couple: Couple, person_id: int, practices: Practices, seed: object
) -> str:
    """An appreciation idea, tilted to the partner's top love language when it is known."""
    top = top_language(await _answered(session, couple.id, partner_id(couple, person_id)))
    options = practices.love.suggestions[top] if top else practices.love.appreciation_nudges  # type: ignore[index]
    return random.Random(str(seed)).choice(options)


# -- dates ----------------------------------------------------------------------------------
def season(couple: Couple, now: dt.datetime) -> str:
    """The season where the couple lives, guessed from their time zone's hemisphere."""
    month = now.astimezone(zone(couple.timezone)).month
    # Northern quarters: Dec-Feb winter, Mar-May spring...; SEASONS starts with spring.
    index = ((month % 12) // 3 + 3) % 4
    if couple.timezone.startswith(SOUTHERN):
        index = (index + 2) % 4
    return SEASONS[index]


async def date_idea(
    session: AsyncSession, couple: Couple, practices: Practices, now: dt.datetime, seed: object
) -> str | None:
    """An idea the couple hasn't done, for this season or any season."""
    done = set(
        await session.scalars(select(DoneDate.idea_id).where(DoneDate.couple_id == couple.id))
    )
    now_season = season(couple, now)
    fits = [
        d
        for d in practices.dates
        if d.id not in done and ("any_season" in d.tags or now_season in d.tags)
    ]
    return random.Random(str(seed)).choice(fits).id if fits else None


async def suggest_date(
    session: AsyncSession, person: Person, practices: Practices, now: dt.datetime
) -> list[Notice]:
    couple, _ = await couple_of(session, person)
    idea_id = await date_idea(session, couple, practices, now, (couple.id, now.isoformat()))
    if idea_id is None:
        return [say(person, "date_none_left")]
    idea = practices.idea(idea_id)
    assert idea is not None
    return [
        Notice(
            person.chat_id,
            "date_idea",
            {"idea": idea.text},
            (
                (
                    Button("btn_date_done", f"date:done:{idea.id}"),
                    Button("btn_date_more", "date:next"),
                ),
            ),
            person.language_code,
        )
    ]


async def date_done(
    session: AsyncSession, person: Person, idea_id: str, practices: Practices, now: dt.datetime
) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    idea = practices.idea(idea_id)
    if idea is None:
        raise Refusal(say(person, "button_stale"))
    try:
        async with session.begin_nested():
            session.add(DoneDate(couple_id=couple.id, idea_id=idea.id, done_at=now))
    except IntegrityError:
        raise Refusal(say(person, "date_already")) from None
    count = await session.scalar(select(func.count()).where(DoneDate.couple_id == couple.id))
    return [
        say(person, "date_done", count=count),
        say(partner, "date_done_partner", partner=person.first_name, idea=idea.text),
    ]


async def dates_done(session: AsyncSession, person: Person, practices: Practices) -> list[Notice]:
    couple, _ = await couple_of(session, person)
    rows = list(
        await session.scalars(
            select(DoneDate)
            .where(DoneDate.couple_id == couple.id)
            .order_by(DoneDate.done_at.desc())
        )
    )
    if not rows:
        return [say(person, "dates_empty")]
    lines = [
        f"{r.done_at:%d %b %Y}: {idea.text}"
        for r in rows
        if (idea := practices.idea(r.idea_id)) is not None
    ]
    return [say(person, "dates_list", entries="\n".join(lines))]


# -- scheduled practices: check-in and the weekly nudges --------------------------------------
async def set_checkin(
    session: AsyncSession, person: Person, arg: str, now: dt.datetime
) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    words = arg.lower().split()
    if not words or words[0] not in ("on", "off"):
        raise Refusal(say(person, "checkin_usage"))
    if words[0] == "off":
        couple.checkin_time = None
    else:
        try:
            at = parse_hhmm(words[1]) if len(words) > 1 else parse_hhmm(CHECKIN_DEFAULT)
        except ValueError:
            raise Refusal(say(person, "checkin_usage")) from None
        couple.checkin_time = at.strftime("%H:%M")
    reschedule(couple, now)
    key = "checkin_on" if couple.checkin_time else "checkin_off"
    return [
        say(person, key, time=couple.checkin_time or ""),
        say(partner, f"{key}_partner", partner=person.first_name, time=couple.checkin_time or ""),
    ]


async def set_weekly(
    session: AsyncSession, person: Person, arg: str, now: dt.datetime
) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    if arg.lower() not in ("on", "off"):
        raise Refusal(say(person, "weekly_usage"))
    couple.weekly_on = arg.lower() == "on"
    reschedule(couple, now)
    key = "weekly_on" if couple.weekly_on else "weekly_off"
    return [say(person, key), say(partner, f"{key}_partner", partner=person.first_name)]
