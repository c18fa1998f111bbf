"""A person's data: /export gives all of it, /forget deletes it (promise 4)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Libraries
from bot.db.models import (
    Answer,
    Appreciation,
    Couple,
    Delivery,
    Invite,
    JarSlip,
    Memory,
    Person,
    QuizAnswer,
    Reveal,
    Round,
    RoundMessage,
)
from bot.services.notices import Button, Notice
from bot.services.people import partner_id, say
from bot.services.rounds import question_of

FORGOTTEN_NAME = "Former partner"


def _answer(answer: Answer | None) -> dict[str, Any] | None:
    if answer is None:
        return None
    if answer.media_kind:
        return {
            "media": answer.media_kind,
            "file_id": answer.file_id,
            "at": answer.updated_at.isoformat(),
        }
    return {"text": answer.text, "at": answer.updated_at.isoformat()}


async def export(
    session: AsyncSession, person: Person, now: dt.datetime, libraries: Libraries
) -> list[Notice]:
    """Everything stored about the person, as a JSON file: their partner's answers only
    where they were revealed to them."""
    couples = list(
        await session.scalars(
            select(Couple)
            .where(or_(Couple.person_a_id == person.id, Couple.person_b_id == person.id))
            .order_by(Couple.id)
        )
    )
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "profile": {
            "first_name": person.first_name,
            "telegram_id": person.telegram_id,
            "language_code": person.language_code,
            "first_seen": person.created_at.isoformat(),
        },
        "couples": [],
        "appreciations_you_wrote": [
            {"text": a.text, "at": a.created_at.isoformat()}
            for a in await session.scalars(
                select(Appreciation)
                .where(Appreciation.author_id == person.id)
                .order_by(Appreciation.id)
            )
        ],
        "memories_you_saved": [
            {"text": m.text, "date": m.happened_on.isoformat() if m.happened_on else None}
            for m in await session.scalars(
                select(Memory).where(Memory.author_id == person.id).order_by(Memory.id)
            )
        ],
        "love_languages_answers": [
            {"item": q.item_id, "language": q.language}
            for q in await session.scalars(
                select(QuizAnswer).where(QuizAnswer.person_id == person.id)
            )
        ],
        "jar_slips_you_wrote": [
            {"text": s.text, "added": s.created_at.isoformat(), "drawn": s.drawn_at is not None}
            for s in await session.scalars(
                select(JarSlip).where(JarSlip.author_id == person.id).order_by(JarSlip.id)
            )
        ],
    }
    for couple in couples:
        partner = await session.get(Person, partner_id(couple, person.id))
        revealed_to_me = set(
            await session.scalars(
                select(Reveal.round_id)
                .join(Round, Round.id == Reveal.round_id)
                .where(Reveal.person_id == person.id, Round.couple_id == couple.id)
            )
        )
        rounds = []
        for rnd in await session.scalars(
            select(Round).where(Round.couple_id == couple.id).order_by(Round.id)
        ):
            answers = {
                a.person_id: a
                for a in await session.scalars(select(Answer).where(Answer.round_id == rnd.id))
            }
            question, _ = await question_of(session, rnd, libraries, person.language_code)
            rounds.append(
                {
                    "asked": rnd.created_at.isoformat(),
                    "kind": rnd.source,
                    "question": question,
                    "your_answer": _answer(answers.get(person.id)),
                    "partner_answer": _answer(answers.get(partner.id))
                    if partner and rnd.id in revealed_to_me
                    else None,
                }
            )
        data["couples"].append(
            {
                "partner": partner.first_name if partner else None,
                "paired": couple.created_at.isoformat(),
                "ended": couple.ended_at.isoformat() if couple.ended_at else None,
                "settings": {
                    "timezone": couple.timezone,
                    "evening_time": couple.evening_time,
                    "jar_day": couple.jar_day,
                    "paused_until": couple.paused_until.isoformat()
                    if couple.paused_until
                    else None,
                },
                "rounds": rounds,
            }
        )
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return [
        Notice(
            person.chat_id,
            "export_ready",
            language=person.language_code,
            document=(f"twenty-minutes-{now:%Y-%m-%d}.json", payload),
        )
    ]


async def ask_forget(session: AsyncSession, person: Person) -> list[Notice]:
    return [
        Notice(
            person.chat_id,
            "forget_confirm",
            {},
            ((Button("btn_forget_yes", "forget:yes"), Button("btn_forget_no", "forget:no")),),
            person.language_code,
        )
    ]


async def forget(session: AsyncSession, person: Person, now: dt.datetime) -> list[Notice]:
    """Delete the person's data and end their couple; tell the partner.

    What stays, so the partner's own history still reads: the couple's rounds and the
    questions asked (jar questions the person wrote that were already drawn included),
    under the name "Former partner". The person's answers, undrawn slips, appreciations,
    memories, quiz answers, invites and profile go.
    """
    notices = [say(person, "forgotten")]
    if person.couple_id is not None:
        couple = await session.get(Couple, person.couple_id)
        assert couple is not None
        couple.ended_at = now
        partner = await session.get(Person, partner_id(couple, person.id))
        if partner is not None:
            partner.couple_id = None
            notices.append(say(partner, "partner_forgot", partner=person.first_name))
    await session.execute(delete(Answer).where(Answer.person_id == person.id))
    await session.execute(delete(Reveal).where(Reveal.person_id == person.id))
    await session.execute(delete(RoundMessage).where(RoundMessage.person_id == person.id))
    await session.execute(delete(Delivery).where(Delivery.person_id == person.id))
    await session.execute(delete(Invite).where(Invite.person_id == person.id))
    await session.execute(delete(Appreciation).where(Appreciation.author_id == person.id))
    await session.execute(delete(QuizAnswer).where(QuizAnswer.person_id == person.id))
    memories = select(Memory.id).where(Memory.author_id == person.id)
    await session.execute(update(Round).where(Round.memory_id.in_(memories)).values(memory_id=None))
    await session.execute(delete(Memory).where(Memory.author_id == person.id))
    await session.execute(
        delete(JarSlip).where(JarSlip.author_id == person.id, JarSlip.drawn_at.is_(None))
    )
    person.first_name, person.telegram_id, person.chat_id = FORGOTTEN_NAME, -person.id, 0
    person.language_code = person.awaiting = person.couple_id = None
    person.code_failures, person.code_failures_since, person.unreachable_at = 0, None, None
    return notices
