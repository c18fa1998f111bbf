"""Question rounds: a question to both partners, private answers, and the reveal.

Promise 1 in DESIGN.md: no answer is shown to anyone but its author until both partners
have answered; then each receives the other's answer exactly once. Answers to one round
are serialised by a lock on the round's row (SQLite: the write lock every transaction
takes at BEGIN), so of two answers given in the same instant exactly one sees both and
reveals; the reveal rows are unique per person and round as a second guard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Libraries
from bot.db.models import Answer, Couple, JarSlip, Person, Reveal, Round, RoundMessage
from bot.parse import clean_text
from bot.services.gratitude import memory_line
from bot.services.notices import Button, Notice, Refusal
from bot.services.people import couple_of, partner_id, say

MEDIA_KINDS = ("voice", "photo", "video_note")


@dataclass(frozen=True)
class AnswerContent:
    """What the person sent as an answer: text, or a media file (kept by its file id)."""

    chat_id: int
    message_id: int
    text: str | None = None
    media_kind: str | None = None
    file_id: str | None = None


def round_tag(round_id: int, person_id: int) -> str:
    return f"round:{round_id}:{person_id}"


async def question_of(
    session: AsyncSession, rnd: Round, libraries: Libraries, language: str | None
) -> tuple[str, str | None]:
    """The question's text, and the jar slip's author's first name when it came from the jar."""
    if rnd.slip_id is not None:
        slip = await session.get(JarSlip, rnd.slip_id)
        assert slip is not None
        author = await session.get(Person, slip.author_id)
        return slip.text, author.first_name if author else None
    item = libraries.for_language(language).get(rnd.item_id or "") or libraries.for_language(
        None
    ).get(rnd.item_id or "")
    return (item.text if item else "(this question is no longer in the library)"), None


async def round_notice(
    session: AsyncSession, rnd: Round, person: Person, libraries: Libraries
) -> Notice:
    """The message that puts a round's question to one partner, with its buttons."""
    text, author = await question_of(session, rnd, libraries, person.language_code)
    answer = (Button("btn_answer", f"ans:{rnd.id}"),)
    buttons: tuple[tuple[Button, ...], ...] = (answer,)
    params = {"question": text, "author": author or ""}
    if rnd.source == "evening":
        memory = await memory_line(session, rnd)
        key = f"evening_{memory['memory_kind']}" if memory else "evening"
        params.update(memory)
        buttons = ((Button("btn_timer", f"timer:{rnd.id}"),),)
        if rnd.swapped_at is None:
            buttons += ((Button("btn_swap", f"swap:{rnd.id}"),),)
        buttons += (answer,)
    elif rnd.source == "jar_day":
        key = "jar_draw" if author else "jar_draw_library"
    elif rnd.source == "checkin":
        key = "checkin"
    else:
        key = "question_jar" if author else "question"
    return Notice(
        person.chat_id,
        key,
        params,
        buttons,
        person.language_code,
        tag=round_tag(rnd.id, person.id),
    )


async def deliver_round(
    session: AsyncSession, rnd: Round, couple: Couple, libraries: Libraries
) -> list[Notice]:
    """The question, to both partners."""
    notices = []
    for pid in (couple.person_a_id, couple.person_b_id):
        person = await session.get(Person, pid)
        assert person is not None
        notices.append(await round_notice(session, rnd, person, libraries))
    return notices


async def round_for_reply(
    session: AsyncSession, person: Person, chat_id: int, message_id: int
) -> int | None:
    """The round a replied-to bot message belongs to, if it was delivered to this person."""
    return await session.scalar(
        select(RoundMessage.round_id).where(
            RoundMessage.chat_id == chat_id,
            RoundMessage.message_id == message_id,
            RoundMessage.person_id == person.id,
        )
    )


async def open_rounds_waiting_for(session: AsyncSession, person: Person) -> list[int]:
    """Rounds of the person's couple that are not revealed and that they have not answered."""
    if person.couple_id is None:
        return []
    answered = select(Answer.round_id).where(Answer.person_id == person.id)
    rows = await session.scalars(
        select(Round.id)
        .where(
            Round.couple_id == person.couple_id,
            Round.revealed_at.is_(None),
            Round.id.not_in(answered),
        )
        .order_by(Round.id.desc())
        .limit(2)
    )
    return list(rows)


async def own_round(
    session: AsyncSession, person: Person, round_id: int, lock: bool = False
) -> tuple[Round, Couple, Person]:
    """A round of the person's current couple, or a polite refusal (forged or stale ids)."""
    query = select(Round).where(Round.id == round_id)
    rnd = await session.scalar(query.with_for_update() if lock else query)
    if rnd is None or person.couple_id is None or rnd.couple_id != person.couple_id:
        raise Refusal(say(person, "round_unknown"))
    couple, partner = await couple_of(session, person)
    return rnd, couple, partner


async def submit_answer(
    session: AsyncSession,
    person: Person,
    round_id: int,
    content: AnswerContent,
    now: dt.datetime,
    libraries: Libraries,
) -> list[Notice]:
    rnd, couple, partner = await own_round(session, person, round_id, lock=True)
    person.awaiting = None
    if rnd.revealed_at is not None:
        raise Refusal(say(person, "answer_final"))
    question, _ = await question_of(session, rnd, libraries, person.language_code)
    existing = await session.scalar(
        select(Answer).where(Answer.round_id == rnd.id, Answer.person_id == person.id)
    )
    if existing is not None:
        existing.text, existing.media_kind, existing.file_id = (
            content.text,
            content.media_kind,
            content.file_id,
        )
        existing.chat_id, existing.message_id, existing.updated_at = (
            content.chat_id,
            content.message_id,
            now,
        )
        return [say(person, "answer_replaced", partner=partner.first_name)]
    session.add(
        Answer(
            round_id=rnd.id,
            person_id=person.id,
            text=content.text,
            media_kind=content.media_kind,
            file_id=content.file_id,
            chat_id=content.chat_id,
            message_id=content.message_id,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    answers = await session.scalar(select(func.count()).where(Answer.round_id == rnd.id))
    if answers == 1:
        return [
            say(person, "answer_saved", partner=partner.first_name),
            Notice(
                partner.chat_id,
                "partner_answered",
                {"partner": person.first_name, "question": question},
                ((Button("btn_answer", f"ans:{rnd.id}"),),),
                partner.language_code,
                tag=round_tag(rnd.id, partner.id),
            ),
        ]
    return await reveal(session, rnd, couple, now, libraries)


async def reveal(
    session: AsyncSession, rnd: Round, couple: Couple, now: dt.datetime, libraries: Libraries
) -> list[Notice]:
    """Claim the reveal once (a conditional update), and show each the other's answer."""
    claimed = await session.execute(
        update(Round)
        .where(Round.id == rnd.id, Round.revealed_at.is_(None))
        .values(revealed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return []
    rnd.revealed_at = now
    answers = {
        a.person_id: a
        for a in await session.scalars(select(Answer).where(Answer.round_id == rnd.id))
    }
    notices: list[Notice] = []
    for pid in (couple.person_a_id, couple.person_b_id):
        viewer = await session.get(Person, pid)
        author = await session.get(Person, partner_id(couple, pid))
        assert viewer is not None and author is not None
        session.add(Reveal(round_id=rnd.id, person_id=pid, created_at=now))
        notices.append(
            reveal_notice(
                viewer,
                author,
                answers[author.id],
                (await question_of(session, rnd, libraries, viewer.language_code))[0],
            )
        )
    return notices


def reveal_notice(viewer: Person, author: Person, answer: Answer, question: str) -> Notice:
    """The partner's answer under the question; media is copied from their chat."""
    tag = f"reveal:{answer.round_id}:{viewer.id}"
    if answer.media_kind:
        return Notice(
            viewer.chat_id,
            "reveal_media",
            {"partner": author.first_name, "question": question},
            language=viewer.language_code,
            tag=tag,
            copy_from=(answer.chat_id, answer.message_id),
        )
    return Notice(
        viewer.chat_id,
        "reveal",
        {"partner": author.first_name, "question": question, "answer": answer.text or ""},
        language=viewer.language_code,
        tag=tag,
    )


async def record_sent(
    session: AsyncSession, tag: str, chat_id: int, message_id: int, now: dt.datetime
) -> None:
    """After a send: map a question message to its round, or mark a reveal as delivered."""
    kind, round_id, person_id = tag.split(":")
    if kind == "round":
        session.add(
            RoundMessage(
                round_id=int(round_id),
                person_id=int(person_id),
                chat_id=chat_id,
                message_id=message_id,
            )
        )
    elif kind == "reveal":
        await session.execute(
            update(Reveal)
            .where(Reveal.round_id == int(round_id), Reveal.person_id == int(person_id))
            .values(sent_at=now)
        )


async def unsent_reveals(
    session: AsyncSession,
    now: dt.datetime,
    libraries: Libraries,
    wait: dt.timedelta = dt.timedelta(minutes=1),
) -> list[Notice]:
    """Reveals whose send was not confirmed (Telegram down, the bot stopped): again."""
    rows = list(
        await session.scalars(
            select(Reveal)
            .where(
                Reveal.sent_at.is_(None),
                func.coalesce(Reveal.retried_at, Reveal.created_at) <= now - wait,
            )
            .order_by(Reveal.id)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    )
    notices = []
    for row in rows:
        row.retried_at = now
        rnd = await session.get(Round, row.round_id)
        viewer = await session.get(Person, row.person_id)
        if rnd is None or viewer is None or viewer.unreachable_at is not None:
            continue
        couple = await session.get(Couple, rnd.couple_id)
        assert couple is not None
        author_id = partner_id(couple, viewer.id)
        author = await session.get(Person, author_id)
        answer = await session.scalar(
            select(Answer).where(Answer.round_id == rnd.id, Answer.person_id == author_id)
        )
        if author is None or answer is None:
            continue
        question, _ = await question_of(session, rnd, libraries, viewer.language_code)
        notices.append(reveal_notice(viewer, author, answer, question))
    return notices


async def edit_answer(
    session: AsyncSession,
    person: Person,
    chat_id: int,
    message_id: int,
    text: str,
    now: dt.datetime,
) -> list[Notice]:
    """An edited message that was an answer replaces it, until the reveal."""
    answer = await session.scalar(
        select(Answer).where(
            Answer.chat_id == chat_id,
            Answer.message_id == message_id,
            Answer.person_id == person.id,
        )
    )
    if answer is None:
        return []
    rnd = await session.scalar(select(Round).where(Round.id == answer.round_id).with_for_update())
    assert rnd is not None
    if rnd.revealed_at is not None:
        return [say(person, "answer_final")]
    text = clean_text(text)
    if not text:
        return [say(person, "answer_hint_media")]
    answer.text, answer.updated_at = text, now
    return [say(person, "answer_edited")]


async def press_answer(
    session: AsyncSession, person: Person, round_id: int, libraries: Libraries
) -> list[Notice]:
    """The Answer button: the next message the person sends is their answer."""
    rnd, _, _ = await own_round(session, person, round_id)
    if rnd.revealed_at is not None:
        raise Refusal(say(person, "answer_final"))
    question, _ = await question_of(session, rnd, libraries, person.language_code)
    person.awaiting = f"answer:{rnd.id}"
    return [say(person, "answer_prompt", question=question)]
