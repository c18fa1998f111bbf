"""Shared services of the running bot, created once and reachable from every handler."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from bot.clock import Clock
from bot.config import Settings
from bot.content import Libraries
from bot.db.engine import Database
from bot.db.models import Person, ProcessedUpdate
from bot.logs import bind
from bot.parse import number
from bot.practices_content import Practices
from bot.services import rounds
from bot.services.notices import Notice, Refusal
from bot.services.people import PersonInfo, say, touch_person
from bot.telegram.send import send_notices
from bot.texts import Texts


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    texts: Texts
    libraries: Libraries
    practices: Practices


log = logging.getLogger("bot.updates")
Context = ContextTypes.DEFAULT_TYPE
Work = Callable[[AsyncSession, Person], Awaitable[list[Notice]]]
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
# What a button with an id does: (session, person, the id, deps) -> notices.
IdAction = Callable[[AsyncSession, Person, int, "Deps"], Awaitable[list[Notice]]]


def deps(context: Context | Any) -> Deps:
    found: Deps = context.application.bot_data["deps"]
    return found


def person_info(update: Update) -> PersonInfo:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return PersonInfo(user.id, chat.id, user.first_name, user.language_code)


async def serve(update: Update, context: Context, work: Work) -> list[Any]:
    """Run `work` for the person behind `update` in one transaction, then send its notices.

    Nothing is sent before the transaction commits, so whatever the bot acknowledges is
    stored. A `Refusal` rolls everything back and sends its own notices.
    """
    d = deps(context)
    try:
        async with d.db.transaction() as session:
            if not await first_delivery(session, update.update_id, d.clock.now()):
                log.info("update %s was handled before", update.update_id)
                return []
            person = await touch_person(session, person_info(update), d.clock.now())
            bind(couple_id=person.couple_id)
            notices = await work(session, person)
            outcome = "done"
    except Refusal as refusal:
        notices, outcome = refusal.notices, "refused"
    sent = await send_notices(context.bot, d.texts, notices)
    await record_sent(d, notices, sent)
    # Message keys only: never the text of a question, answer or slip.
    log.info("update %s %s: %s", update.update_id, outcome, ",".join(n.key for n in notices))
    return sent


def callback_int(update: Update, prefix: str) -> int | None:
    """The number after `prefix:` in callback data, or None when the data is not ours."""
    data = (update.callback_query.data if update.callback_query else None) or ""
    if not data.startswith(f"{prefix}:"):
        return None
    return number(data.removeprefix(f"{prefix}:"))


def id_button(prefix: str, action: IdAction, doc: str) -> Handler:
    """A handler for buttons whose data is `prefix:<id>`; other data changes nothing."""

    async def handler(update: Update, context: Context) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        d, button_id = deps(context), callback_int(update, prefix)

        async def work(session: AsyncSession, person: Person) -> list[Notice]:
            if button_id is None:
                return [say(person, "button_stale")]
            return await action(session, person, button_id, d)

        await serve(update, context, work)

    handler.__doc__ = doc
    return handler


async def first_delivery(session: AsyncSession, update_id: int, now: dt.datetime) -> bool:
    """Record the update id in the handling transaction; False if it was handled already."""
    try:
        async with session.begin_nested():
            session.add(ProcessedUpdate(update_id=update_id, seen_at=now))
    except IntegrityError:
        return False
    return True


async def forget_old_updates(session: AsyncSession, now: dt.datetime) -> None:
    """Telegram stops redelivering an update within a day; two are kept to be safe."""
    await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.seen_at < now - dt.timedelta(days=2))
    )


async def record_sent(d: Deps, notices: list[Notice], sent: list[Any]) -> None:
    """After sending: map question messages to rounds; mark reveals delivered."""
    tagged = [(n, m) for n, m in zip(notices, sent, strict=True) if n.tag and m is not None]
    if tagged:
        async with d.db.transaction() as session:
            for notice, message in tagged:
                assert notice.tag is not None
                await rounds.record_sent(
                    session, notice.tag, notice.chat_id, message.message_id, d.clock.now()
                )
