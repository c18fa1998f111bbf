"""The question jar, /question, and /history."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Kind, Libraries, choose
from bot.db.models import Answer, Couple, JarSlip, Person, Round
from bot.parse import clean_text
from bot.services.notices import Notice, Refusal, pager
from bot.services.people import couple_of, say
from bot.services.rounds import deliver_round, question_of
from bot.texts import Texts

SLIP_MAX = 300
HISTORY_PAGE = 5


async def add_slip(
    session: AsyncSession, person: Person, text: str | None, now: dt.datetime
) -> list[Notice]:
    """Drop a question into the jar; the partner hears that a slip went in, not what it says."""
    couple, partner = await couple_of(session, person)
    if text is None:
        person.awaiting = "add"
        return [say(person, "add_prompt")]
    person.awaiting = None
    text = clean_text(text)
    if not text:
        raise Refusal(say(person, "add_empty"))
    if len(text) > SLIP_MAX:
        raise Refusal(say(person, "add_too_long", limit=SLIP_MAX, length=len(text)))
    session.add(JarSlip(couple_id=couple.id, author_id=person.id, text=text, created_at=now))
    await session.flush()
    waiting = await _waiting(session, couple.id)
    return [
        say(person, "add_done", partner=partner.first_name, waiting=waiting),
        say(partner, "add_partner", partner=person.first_name, waiting=waiting),
    ]


async def _waiting(session: AsyncSession, couple_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(JarSlip.couple_id == couple_id, JarSlip.drawn_at.is_(None))
        )
        or 0
    )


async def jar_status(session: AsyncSession, person: Person) -> list[Notice]:
    couple, partner = await couple_of(session, person)
    rows = await session.execute(
        select(JarSlip.author_id, func.count())
        .where(JarSlip.couple_id == couple.id)
        .group_by(JarSlip.author_id)
    )
    added = {author: n for author, n in rows}
    return [
        say(
            person,
            "jar_status",
            waiting=await _waiting(session, couple.id),
            mine=added.get(person.id, 0),
            partner=partner.first_name,
            theirs=added.get(partner.id, 0),
        )
    ]


async def draw_slip(session: AsyncSession, couple: Couple, now: dt.datetime) -> JarSlip | None:
    """A random undrawn slip, marked drawn; None when the jar is empty."""
    ids = list(
        await session.scalars(
            select(JarSlip.id)
            .where(JarSlip.couple_id == couple.id, JarSlip.drawn_at.is_(None))
            .order_by(JarSlip.id)
        )
    )
    if not ids:
        return None
    slip = await session.get(JarSlip, random.SystemRandom().choice(ids), with_for_update=True)
    assert slip is not None
    slip.drawn_at = now
    return slip


def days_together(couple: Couple, now: dt.datetime) -> int:
    return max(0, (now - couple.created_at).days)


def history_sources(source: str) -> tuple[str, ...]:
    """The round sources whose items a new `source` round must not repeat."""
    return (source,) if source in ("evening", "checkin") else ("question", "jar", "jar_day")


async def library_histories(
    session: AsyncSession, couple_ids: list[int]
) -> dict[tuple[int, str], list[str]]:
    """Every couple's past items by (couple id, source), oldest first: one query a batch."""
    rows = await session.execute(
        select(Round.couple_id, Round.source, Round.item_id)
        .where(Round.couple_id.in_(couple_ids), Round.item_id.is_not(None))
        .order_by(Round.id)
    )
    found: dict[tuple[int, str], list[str]] = {}
    for couple_id, source, item_id in rows:
        if item_id:
            found.setdefault((couple_id, source), []).append(item_id)
    return found


async def library_history(
    session: AsyncSession, couple: Couple, sources: tuple[str, ...]
) -> list[str]:
    rows = await session.scalars(
        select(Round.item_id)
        .where(Round.couple_id == couple.id, Round.source.in_(sources), Round.item_id.is_not(None))
        .order_by(Round.id)
    )
    return [r for r in rows if r]


async def new_round(
    session: AsyncSession,
    couple: Couple,
    now: dt.datetime,
    libraries: Libraries,
    *,
    jar_first: bool = True,
    source: str = "question",
    local_date: dt.date | None = None,
    history: list[str] | None = None,
) -> Round:
    """A round for the couple: a jar slip first when asked, else a library question.

    `history` is the couple's past items for this source (see `history_sources`), when
    the caller has loaded it already (the scheduler does, for a whole batch at once)."""
    slip = await draw_slip(session, couple, now) if jar_first else None
    if slip is not None:
        rnd = Round(
            couple_id=couple.id,
            source="jar" if source == "question" else source,
            slip_id=slip.id,
            created_at=now,
            local_date=local_date,
        )
    else:
        kind: Kind = "evening" if source == "evening" else "questions"
        items = libraries.for_language(None).items(kind)
        if source == "checkin":  # light everyday questions for the midday check-in
            items = tuple(i for i in items if i.theme == "everyday" and i.depth == 1)
        if history is None:
            history = await library_history(session, couple, history_sources(source))
        item = choose(
            items,
            history,
            days_together(couple, now),
            seed=couple.id,
        )
        rnd = Round(
            couple_id=couple.id,
            source=source,
            item_id=item.id,
            created_at=now,
            local_date=local_date,
        )
    session.add(rnd)
    await session.flush()
    return rnd


async def ask_now(
    session: AsyncSession, person: Person, now: dt.datetime, libraries: Libraries
) -> list[Notice]:
    """/question: a round right now, from the jar if it has slips."""
    couple, _ = await couple_of(session, person)
    rnd = await new_round(session, couple, now, libraries)
    return await deliver_round(session, rnd, couple, libraries)


async def history(
    session: AsyncSession, person: Person, offset: int, libraries: Libraries, texts: Texts
) -> list[Notice]:
    """Past rounds, newest first: both answers once revealed, else only your own."""
    couple, partner = await couple_of(session, person)
    offset = max(0, offset)
    total = int(await session.scalar(select(func.count()).where(Round.couple_id == couple.id)) or 0)
    if total == 0:
        return [say(person, "history_empty")]
    rounds = list(
        await session.scalars(
            select(Round)
            .where(Round.couple_id == couple.id)
            .order_by(Round.id.desc())
            .offset(offset)
            .limit(HISTORY_PAGE)
        )
    )
    if not rounds:
        raise Refusal(say(person, "button_stale"))
    answers = {
        (a.round_id, a.person_id): a
        for a in await session.scalars(
            select(Answer).where(Answer.round_id.in_([r.id for r in rounds]))
        )
    }
    lang = person.language_code

    def shown(answer: Answer | None) -> str:
        if answer is None:
            return texts.render("history_not_answered", lang)
        if answer.media_kind:
            return texts.render(f"media_{answer.media_kind}", lang)
        return answer.text or ""

    entries = []
    for rnd in rounds:
        question, _ = await question_of(session, rnd, libraries, lang)
        if rnd.revealed_at is not None:
            theirs = shown(answers.get((rnd.id, partner.id)))
        else:
            theirs = texts.render("history_waiting", lang, partner=partner.first_name)
        entries.append(
            texts.render(
                "history_entry",
                lang,
                date=f"{rnd.created_at:%d %b %Y}",
                question=question,
                mine=shown(answers.get((rnd.id, person.id))),
                partner=partner.first_name,
                theirs=theirs,
            )
        )
    return [
        Notice(
            person.chat_id,
            "history_page",
            {
                "entries": "\n\n".join(entries),
                "first": offset + 1,
                "last": offset + len(rounds),
                "total": total,
            },
            pager("hist", offset, HISTORY_PAGE, total),
            person.language_code,
        )
    ]
