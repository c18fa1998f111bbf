"""The scheduler's work, one tick at a time: evening prompts, jar days, timers, reminders.

Every tick: (1) couples whose slot has passed get tonight's round and one pending delivery
per partner, in the same transaction that moves their slot on: the round is unique per
couple, source and local date, so two schedulers (or a restart) cannot make two; (2)
pending deliveries are claimed (row locks that skip locked rows on PostgreSQL) and sent;
(3) finished 20-minute timers and due reminders are claimed the same way and sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import parse_hhmm
from bot.content import Libraries, choose
from bot.db.models import Answer, Couple, Delivery, Memory, Person, Round
from bot.practices_content import Practices
from bot.services import gratitude, together
from bot.services.jar import (
    days_together,
    history_sources,
    library_histories,
    library_history,
    new_round,
)
from bot.services.notices import Notice, Refusal
from bot.services.people import partner_id, reachable, say
from bot.services.rounds import own_round, question_of, round_notice
from bot.services.schedule import (
    WEEKDAYS,
    WEEKLY_AT,
    WEEKLY_DAY,
    is_paused,
    local_date,
    next_slot,
    reschedule,
    zone,
)

NIGHT_ENDS, NIGHT_STARTS = 9, 22  # no reminders from 22:00 to 08:59, the couple's time
REMINDER_WINDOW = dt.timedelta(hours=36)  # rounds older than this get no reminder
STALE_SENDING = dt.timedelta(minutes=10)  # a claim this old was cut off by a crash
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Rules:
    grace: dt.timedelta = dt.timedelta(hours=2)
    reminder_after: dt.timedelta = dt.timedelta(hours=3)
    timer: dt.timedelta = dt.timedelta(minutes=20)
    batch: int = 500


def _due_slot(
    couple: Couple, now: dt.datetime, grace: dt.timedelta, at: dt.time, weekday: int | None
) -> dt.datetime | None:
    """The most recent slot within the grace window, if one has passed; else None."""
    slot = next_slot(now - grace - dt.timedelta(microseconds=1), zone(couple.timezone), at, weekday)
    return slot if slot <= now else None


async def _open_round(
    session: AsyncSession,
    couple: Couple,
    now: dt.datetime,
    source: str,
    day: dt.date,
    libraries: Libraries,
    history: list[str] | None,
    memories: list[Memory],
) -> Round | None:
    """Record the slot's round and a pending delivery per partner; None if it exists."""
    try:
        async with session.begin_nested():
            rnd = await new_round(
                session,
                couple,
                now,
                libraries,
                jar_first=source == "jar_day",
                source=source,
                local_date=day,
                history=history,
            )
            if source == "evening":
                memory = gratitude.memory_for_evening(memories, day, now)
                rnd.memory_id = memory.id if memory else None
            for pid in (couple.person_a_id, couple.person_b_id):
                session.add(
                    Delivery(
                        round_id=rnd.id,
                        person_id=pid,
                        status="pending",
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )
            await session.flush()
    except IntegrityError:  # this couple already has it: another scheduler, or before a restart
        return None
    return rnd


async def claim_due(
    session: AsyncSession,
    now: dt.datetime,
    rules: Rules,
    libraries: Libraries,
    practices: Practices,
) -> tuple[int, list[Notice]]:
    """Open the rounds of couples whose evening, jar, check-in slot has passed (and make
    the weekly nudges); move every slot on.

    Returns how many couples were looked at, so the caller can loop until none are left,
    and the weekly nudges to send once the transaction has committed.
    """
    unscheduled = await session.scalars(
        select(Couple)
        .where(Couple.ended_at.is_(None), Couple.next_evening_at.is_(None))
        .limit(rules.batch)
    )
    for couple in unscheduled:
        reschedule(couple, now)
    due = list(
        await session.scalars(
            select(Couple)
            .where(
                Couple.ended_at.is_(None),
                or_(
                    Couple.next_evening_at <= now,
                    Couple.next_jar_at <= now,
                    Couple.next_checkin_at <= now,
                    Couple.next_weekly_at <= now,
                ),
            )
            .order_by(Couple.next_evening_at)
            .limit(rules.batch)
            .with_for_update(skip_locked=True)
        )
    )
    # What the loop needs, loaded for the whole batch at once (not a few queries a couple).
    couple_ids = [c.id for c in due]
    people = [pid for c in due for pid in (c.person_a_id, c.person_b_id)]
    (await session.scalars(select(Person).where(Person.id.in_(people)))).all()  # identity map
    histories = await library_histories(session, couple_ids)
    memories: dict[int, list[Memory]] = {}
    for memory in await session.scalars(select(Memory).where(Memory.couple_id.in_(couple_ids))):
        memories.setdefault(memory.couple_id, []).append(memory)
    notices: list[Notice] = []
    for couple in due:
        if is_paused(couple, now) or len(await reachable(session, couple)) < 2:
            reschedule(couple, now)
            continue
        evening_at = parse_hhmm(couple.evening_time)
        jar_weekday = None if couple.jar_day in ("daily", "off") else WEEKDAYS.index(couple.jar_day)
        checkin_at = parse_hhmm(couple.checkin_time) if couple.checkin_time else None
        slots = (
            ("evening", couple.next_evening_at, evening_at, None),
            ("jar_day", couple.next_jar_at, evening_at, jar_weekday),
            ("checkin", couple.next_checkin_at, checkin_at, None),
            ("weekly", couple.next_weekly_at, WEEKLY_AT, WEEKLY_DAY),
        )
        for source, next_at, at, weekday in slots:
            if next_at is None or next_at > now or at is None:
                continue
            slot = _due_slot(couple, now, rules.grace, at, weekday)
            if slot is None:
                continue
            if source == "weekly":
                notices += await _weekly(session, couple, now, practices)
            else:
                history = [
                    item
                    for s in history_sources(source)
                    for item in histories.get((couple.id, s), [])
                ]
                await _open_round(
                    session,
                    couple,
                    now,
                    source,
                    local_date(slot, couple),
                    libraries,
                    history if len(history_sources(source)) == 1 else None,
                    memories.get(couple.id, []),
                )
        reschedule(couple, now)
    return len(due), notices


async def _weekly(
    session: AsyncSession, couple: Couple, now: dt.datetime, practices: Practices
) -> list[Notice]:
    seed = (couple.id, now.date().isoformat())
    ideas = {
        pid: await together.suggestion_for(session, couple, pid, practices, (seed, pid))
        for pid in (couple.person_a_id, couple.person_b_id)
    }
    idea_id = await together.date_idea(session, couple, practices, now, seed)
    idea = practices.idea(idea_id) if idea_id else None
    return await gratitude.weekly_nudges(session, couple, now, ideas, idea.text if idea else None)


async def claim_deliveries(
    session: AsyncSession, now: dt.datetime, rules: Rules, libraries: Libraries
) -> list[tuple[int, Notice]]:
    """Claim deliveries to send now; late or unreachable ones are skipped, never sent days late."""
    rows = list(
        await session.scalars(
            select(Delivery)
            .where(
                or_(
                    Delivery.status.in_(("pending", "failed")) & (Delivery.next_attempt_at <= now),
                    (Delivery.status == "sending") & (Delivery.updated_at <= now - STALE_SENDING),
                )
            )
            .order_by(Delivery.id)
            .limit(rules.batch)
            .with_for_update(skip_locked=True)
        )
    )
    batch = []
    for delivery in rows:
        rnd = await session.get(Round, delivery.round_id)
        person = await session.get(Person, delivery.person_id)
        assert rnd is not None and person is not None
        delivery.updated_at = now
        if now - rnd.created_at > rules.grace:
            delivery.status, delivery.error = "skipped", "late"
        elif person.unreachable_at is not None:
            delivery.status, delivery.error = "skipped", "unreachable"
        else:
            delivery.status = "sending"
            batch.append((delivery.id, await round_notice(session, rnd, person, libraries)))
    return batch


async def record_outcome(
    session: AsyncSession, delivery_id: int, error: str | None, blocked: bool, now: dt.datetime
) -> list[Notice]:
    """After a send: sent, failed (retried later with backoff), or the person blocked us."""
    delivery = await session.get(Delivery, delivery_id)
    assert delivery is not None
    delivery.updated_at, delivery.attempts = now, delivery.attempts + 1
    if blocked:
        delivery.status, delivery.error = "skipped", "blocked"
        person = await session.get(Person, delivery.person_id)
        assert person is not None
        return await set_reachable(session, person, False, now)
    if error is None:
        delivery.status, delivery.error = "sent", None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.error = "failed_final", error[:64]
    else:
        delivery.status, delivery.error = "failed", error[:64]
        delivery.next_attempt_at = now + dt.timedelta(minutes=2**delivery.attempts)
    return []


async def set_reachable(
    session: AsyncSession, person: Person, reachable: bool, now: dt.datetime
) -> list[Notice]:
    """Someone blocked (or unblocked) the bot: deliveries skip them; the partner is told once."""
    was = person.unreachable_at is None
    person.unreachable_at = None if reachable else (person.unreachable_at or now)
    if was == reachable or person.couple_id is None:
        return []
    couple = await session.get(Couple, person.couple_id)
    assert couple is not None
    partner = await session.get(Person, partner_id(couple, person.id))
    assert partner is not None
    return [
        say(
            partner,
            "partner_back" if reachable else "partner_unreachable",
            partner=person.first_name,
        )
    ]


async def due_timers(session: AsyncSession, now: dt.datetime) -> list[Notice]:
    """Twenty minutes are up: a gentle note to both, once (the end time is in the database)."""
    rounds = list(
        await session.scalars(
            select(Round)
            .where(Round.timer_ends_at <= now, Round.timer_done_at.is_(None))
            .with_for_update(skip_locked=True)
        )
    )
    notices = []
    for rnd in rounds:
        rnd.timer_done_at = now
        couple = await session.get(Couple, rnd.couple_id)
        assert couple is not None
        for person in await reachable(session, couple):
            notices.append(say(person, "times_up"))
    return notices


async def due_reminders(
    session: AsyncSession, now: dt.datetime, rules: Rules, libraries: Libraries
) -> list[Notice]:
    """One gentle reminder per round to the partner who hasn't answered, never at night."""
    one_answer = (
        select(Answer.round_id)
        .group_by(Answer.round_id)
        .having(func.count() == 1, func.min(Answer.created_at) <= now - rules.reminder_after)
    )
    rounds = list(
        await session.scalars(
            select(Round)
            .where(
                Round.id.in_(one_answer),
                Round.revealed_at.is_(None),
                Round.reminded_at.is_(None),
                Round.created_at >= now - REMINDER_WINDOW,
            )
            .with_for_update(skip_locked=True)
        )
    )
    notices = []
    for rnd in rounds:
        couple = await session.get(Couple, rnd.couple_id)
        assert couple is not None
        hour = now.astimezone(zone(couple.timezone)).hour
        if couple.ended_at is not None or not NIGHT_ENDS <= hour < NIGHT_STARTS:
            continue
        rnd.reminded_at = now
        answered = await session.scalar(select(Answer.person_id).where(Answer.round_id == rnd.id))
        waiting = await session.get(Person, partner_id(couple, answered or 0))
        author = await session.get(Person, answered)
        if waiting is None or author is None or waiting.unreachable_at is not None:
            continue
        question, _ = await question_of(session, rnd, libraries, waiting.language_code)
        notices.append(say(waiting, "reminder", partner=author.first_name, question=question))
    return notices


async def start_timer(
    session: AsyncSession, person: Person, round_id: int, now: dt.datetime, rules: Rules
) -> list[Notice]:
    """ "Start our 20 minutes": both are told; the end time is stored, so it survives restarts."""
    rnd, couple, partner = await own_round(session, person, round_id, lock=True)
    tz = zone(couple.timezone)
    if rnd.timer_ends_at is not None:
        ends = rnd.timer_ends_at.astimezone(tz).strftime("%H:%M")
        key = "timer_running" if rnd.timer_done_at is None else "timer_over"
        raise Refusal(say(person, key, ends=ends))
    rnd.timer_ends_at = now + rules.timer
    ends = rnd.timer_ends_at.astimezone(tz).strftime("%H:%M")
    minutes = round(rules.timer.total_seconds() / 60)
    return [
        say(person, "timer_started", ends=ends, minutes=minutes),
        say(
            partner, "timer_started_partner", ends=ends, minutes=minutes, partner=person.first_name
        ),
    ]


async def swap(
    session: AsyncSession, person: Person, round_id: int, now: dt.datetime, libraries: Libraries
) -> list[Notice]:
    """ "Another one": tonight's starter is swapped once, before anyone has answered."""
    rnd, couple, partner = await own_round(session, person, round_id, lock=True)
    if rnd.source != "evening":
        raise Refusal(say(person, "button_stale"))
    if rnd.swapped_at is not None:
        raise Refusal(say(person, "swap_used"))
    answered = await session.scalar(select(func.count()).where(Answer.round_id == rnd.id))
    if answered:
        raise Refusal(say(person, "swap_answered"))
    history = await library_history(session, couple, ("evening",))
    items = libraries.for_language(None).items("evening")
    rnd.item_id = choose(items, history, days_together(couple, now), seed=couple.id).id
    rnd.swapped_at = now
    return [
        say(partner, "swapped_partner", partner=person.first_name),
        await round_notice(session, rnd, person, libraries),
        await round_notice(session, rnd, partner, libraries),
    ]
