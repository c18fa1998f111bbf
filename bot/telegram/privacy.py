"""/export and /forget."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.db.models import Person
from bot.services import privacy
from bot.services.notices import Notice
from bot.services.people import say
from bot.telegram.deps import Context, deps, serve
from bot.telegram.send import remove_buttons


async def export(update: Update, context: Context) -> None:
    """A JSON file of everything the bot keeps about you."""
    d = deps(context)

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await privacy.export(session, person, d.clock.now(), d.libraries)

    await serve(update, context, work)


async def forget(update: Update, context: Context) -> None:
    """Asks to confirm deleting your data."""

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await privacy.ask_forget(session, person)

    await serve(update, context, work)


async def forget_answer(update: Update, context: Context) -> None:
    """The confirm buttons of /forget."""
    d = deps(context)
    query = update.callback_query
    assert query is not None
    await query.answer()
    confirmed = query.data == "forget:yes"

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        if not confirmed:
            return [say(person, "forget_kept")]
        return await privacy.forget(session, person, d.clock.now())

    await serve(update, context, work)
    await remove_buttons(query)


HANDLERS = [
    CommandHandler("export", export),
    CommandHandler("forget", forget),
    CallbackQueryHandler(forget_answer, pattern=r"^forget:(yes|no)$"),
]
