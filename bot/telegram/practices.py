"""/thanks, /gratitude, /memory, /memories, /checkin, /weekly, /eyes, /languages, /date, /dates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.db.models import Person
from bot.parse import number
from bot.services import gratitude, together
from bot.services.notices import Notice
from bot.services.people import say
from bot.telegram.deps import Context, Deps, Handler, deps, id_button, serve

# What a command does: (session, person, the text after the command, deps) -> notices.
Action = Callable[[AsyncSession, Person, str, Deps], Awaitable[list[Notice]]]


def command(action: Action, doc: str) -> Handler:
    async def handler(update: Update, context: Context) -> None:
        d = deps(context)
        message = update.effective_message
        parts = ((message.text if message else None) or "").split(maxsplit=1)
        arg = parts[1] if len(parts) > 1 else ""

        async def work(session: AsyncSession, person: Person) -> list[Notice]:
            return await action(session, person, arg, d)

        await serve(update, context, work)

    handler.__doc__ = doc
    return handler


def button(action: Action, doc: str) -> Handler:
    """A callback query: `action` gets the data after its prefix."""

    async def handler(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        d = deps(context)
        rest = (query.data or "").partition(":")[2]

        async def work(session: AsyncSession, person: Person) -> list[Notice]:
            return await action(session, person, rest, d)

        await serve(update, context, work)

    handler.__doc__ = doc
    return handler


async def _gratitude_page(s: AsyncSession, p: Person, arg: str, d: Deps) -> list[Notice]:
    return await gratitude.gratitude(s, p, number(arg) or 0)


async def _quiz_answer(s: AsyncSession, p: Person, arg: str, d: Deps) -> list[Notice]:
    index, _, choice = arg.partition(":")
    if number(index) is None:
        return [say(p, "button_stale")]
    return await together.quiz_answer(s, p, int(index), choice, d.practices, d.clock.now())


async def _date_button(s: AsyncSession, p: Person, arg: str, d: Deps) -> list[Notice]:
    what, _, idea_id = arg.partition(":")
    if what == "done":
        return await together.date_done(s, p, idea_id, d.practices, d.clock.now())
    return await together.suggest_date(s, p, d.practices, d.clock.now())


HANDLERS: list[CommandHandler[Any, None] | CallbackQueryHandler[Any, None]] = [
    CommandHandler(
        "thanks",
        command(
            lambda s, p, a, d: gratitude.thank(s, p, a, d.clock.now()),
            "Tell your partner what you appreciate; it goes on your gratitude list.",
        ),
    ),
    CommandHandler("gratitude", command(_gratitude_page, "Your gratitude list, newest first.")),
    CallbackQueryHandler(
        button(_gratitude_page, "Pages of the gratitude list."), pattern=r"^grat:"
    ),
    CommandHandler(
        "memory",
        command(
            lambda s, p, a, d: gratitude.add_memory(s, p, a, d.clock.now()),
            "Save a shared memory, with an optional date.",
        ),
    ),
    CommandHandler(
        "memories", command(lambda s, p, a, d: gratitude.memories(s, p), "Your saved memories.")
    ),
    CommandHandler(
        "checkin",
        command(
            lambda s, p, a, d: together.set_checkin(s, p, a, d.clock.now()),
            "Turn the midday check-in on (with a time) or off.",
        ),
    ),
    CommandHandler(
        "weekly",
        command(
            lambda s, p, a, d: together.set_weekly(s, p, a, d.clock.now()),
            "Turn the weekly appreciation and date ideas on or off.",
        ),
    ),
    CommandHandler(
        "eyes",
        command(
            lambda s, p, a, d: together.eyes(s, p, a.strip(), d.clock.now()),
            "A few minutes of eye contact, with a timer.",
        ),
    ),
    CallbackQueryHandler(
        id_button(
            "eyes",
            lambda s, p, i, d: together.start_eyes(s, p, i, d.clock.now()),
            "Start the eye-contact timer.",
        ),
        pattern=r"^eyes:",
    ),
    CommandHandler(
        "languages",
        command(
            lambda s, p, a, d: together.start_quiz(s, p, d.practices),
            "The love-languages quiz; results are shown when both have finished.",
        ),
    ),
    CallbackQueryHandler(button(_quiz_answer, "A choice in the quiz."), pattern=r"^ll:"),
    CommandHandler(
        "date",
        command(
            lambda s, p, a, d: together.suggest_date(s, p, d.practices, d.clock.now()),
            "An idea for a date or something new to do together.",
        ),
    ),
    CallbackQueryHandler(button(_date_button, "We did it / another idea."), pattern=r"^date:"),
    CommandHandler(
        "dates",
        command(
            lambda s, p, a, d: together.dates_done(s, p, d.practices), "The dates you've done."
        ),
    ),
]
