"""What a plain message (not a command) is for: an answer, a jar slip, or neither."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content import Libraries
from bot.db.models import Person, Round
from bot.services.jar import add_slip
from bot.services.notices import Button, Notice
from bot.services.people import say
from bot.services.rounds import (
    AnswerContent,
    open_rounds_waiting_for,
    question_of,
    round_for_reply,
    submit_answer,
)


async def incoming(
    session: AsyncSession,
    person: Person,
    content: AnswerContent | None,
    text: str | None,
    reply_to: int | None,
    now: dt.datetime,
    libraries: Libraries,
) -> list[Notice]:
    """Route a message: a reply to a question, or the one awaited after Answer or /add.

    A message that is none of these is never stored silently: the person gets a hint,
    or, when exactly one round waits for their answer, an offer to take it as the answer.
    """
    round_id = None
    if reply_to is not None:
        round_id = await round_for_reply(session, person, person.chat_id, reply_to)
    if round_id is None and person.awaiting == "add":
        if text is not None:
            return await add_slip(session, person, text, now)
        return [say(person, "add_prompt")]
    if round_id is None and person.awaiting and person.awaiting.startswith("answer:"):
        round_id = int(person.awaiting.removeprefix("answer:"))
    if person.couple_id is None:
        return [say(person, "pair_first")]
    if content is None:
        return [say(person, "answer_hint_media")]
    if round_id is not None:
        return await submit_answer(session, person, round_id, content, now, libraries)
    waiting = await open_rounds_waiting_for(session, person)
    if len(waiting) == 1:
        rnd = await session.get(Round, waiting[0])
        assert rnd is not None
        question, _ = await question_of(session, rnd, libraries, person.language_code)
        return [
            Notice(
                person.chat_id,
                "answer_offer",
                {"question": question},
                ((Button("btn_take_answer", f"take:{rnd.id}"),),),
                person.language_code,
                reply_to=content.message_id,
            )
        ]
    return [say(person, "answer_hint")]
