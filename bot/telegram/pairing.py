"""/start, /pair, /unpair, /status, /help."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.db.models import Person
from bot.parse import number
from bot.services import pairing
from bot.services.notices import Notice
from bot.services.people import couple_of, say
from bot.telegram.deps import Context, deps, serve
from bot.telegram.send import remove_buttons


async def start(update: Update, context: Context) -> None:
    """A welcome saying what the bot does and how to pair."""

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        if person.couple_id is None:
            return [say(person, "welcome", name=person.first_name)]
        _, partner = await couple_of(session, person)
        return [say(person, "welcome_back", name=person.first_name, partner=partner.first_name)]

    await serve(update, context, work)


async def join(update: Update, context: Context) -> None:
    """Opening a partner's invite link (/start CODE) or sending /pair CODE pairs the two."""
    code = (context.args or [""])[0]
    d = deps(context)

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await pairing.redeem(
            session,
            person,
            code,
            d.clock.now(),
            d.settings.default_timezone,
            d.settings.evening_time,
        )

    await serve(update, context, work)


async def pair(update: Update, context: Context) -> None:
    """/pair gives an invite to forward; /pair CODE joins the partner's invite."""
    if context.args:
        await join(update, context)
        return
    d = deps(context)
    ttl = dt.timedelta(hours=d.settings.invite_ttl_hours)

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await pairing.create_invite(
            session, person, d.clock.now(), ttl, context.bot.username
        )

    await serve(update, context, work)


async def unpair(update: Update, context: Context) -> None:
    """Asks to confirm ending the pairing."""

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await pairing.ask_unpair(session, person)

    await serve(update, context, work)


async def unpair_answer(update: Update, context: Context) -> None:
    """The confirm buttons of /unpair."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    parts = (query.data or "").split(":")
    d = deps(context)

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        couple_id = number(parts[2]) if len(parts) == 3 and parts[1] == "yes" else None
        if couple_id is not None:
            return await pairing.unpair(session, person, couple_id, d.clock.now())
        return [say(person, "unpair_kept")]

    await serve(update, context, work)
    if query.message is not None:
        await remove_buttons(query)


async def status(update: Update, context: Context) -> None:
    """Whether you are paired, with whom and since when, and your couple's settings."""

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await pairing.status(session, person)

    await serve(update, context, work)


async def help_command(update: Update, context: Context) -> None:
    """The list of commands."""

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return [say(person, "help")]

    await serve(update, context, work)


HANDLERS = [
    # A deep link arrives as "/start CODE": the payload filter must come before plain /start.
    CommandHandler("start", join, filters.Regex(r"^/start\s+\S")),
    CommandHandler("start", start),
    CommandHandler("pair", pair),
    CommandHandler("unpair", unpair),
    CallbackQueryHandler(unpair_answer, pattern=r"^unpair:"),
    CommandHandler("status", status),
    CommandHandler("help", help_command),
]
