"""The composition root: builds the Application, its shared services and its handlers."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.content import Libraries
from bot.db import crypto
from bot.db.engine import Database
from bot.db.models import GroupChat, Person
from bot.logs import TimedUpdates, hold_content_loggers
from bot.paths import content_dir
from bot.practices_content import Practices
from bot.services.notices import Notice
from bot.services.people import say
from bot.telegram import pairing, practices, privacy, rounds, scheduler
from bot.telegram.deps import Context, deps, serve
from bot.texts import Texts

log = logging.getLogger(__name__)
TELEGRAM_PER_SECOND = 30  # Telegram's overall limit for a bot's messages

MENU = [
    ("question", "A question for both of you, now"),
    ("add", "Drop a question into your jar"),
    ("jar", "How full your jar is"),
    ("history", "Past questions and answers"),
    ("thanks", "Tell your partner what you appreciate"),
    ("memory", "Save a good memory"),
    ("date", "An idea for a date"),
    ("eyes", "A few minutes of eye contact"),
    ("languages", "The love-languages quiz"),
    ("settings", "Evening time, time zone, jar day"),
    ("pair", "Invite your partner"),
    ("status", "Who you're paired with"),
    ("export", "A copy of your data"),
    ("forget", "Delete your data"),
    ("help", "Everything I can do"),
]


async def private_only(update: Update, context: Context) -> None:
    """Outside private chats the bot says once where it works, and does nothing else."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    message = update.effective_message
    added = update.my_chat_member is not None and update.my_chat_member.new_chat_member.status in (
        "member",
        "administrator",
    )
    is_command = message is not None and (message.text or "").startswith("/")
    if (added or is_command) and chat.type != ChatType.CHANNEL:
        d = deps(context)
        try:
            async with d.db.transaction() as session:
                session.add(GroupChat(chat_id=chat.id, told_at=d.clock.now()))
        except IntegrityError:
            raise ApplicationHandlerStop from None  # told before
        text = d.texts.render("private_only", None, bot_username=context.bot.username)
        await context.bot.send_message(chat.id, text)
    raise ApplicationHandlerStop


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot doesn't have: say so and point to /help."""
    await serve(update, context, lambda _s, person: _say(person, "unknown_command"))


async def unknown_button(update: Update, context: Context) -> None:
    """A button whose data we don't recognise (stale, forged or too long): change nothing."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await serve(update, context, lambda _s, person: _say(person, "button_stale"))


async def _say(person: Person, key: str) -> list[Notice]:
    return [say(person, key)]


async def on_error(update: object, context: Context) -> None:
    """Log what failed (never message text) and tell the person once that it went wrong."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "error handling update %s: %s",
        update_id,
        type(context.error).__name__,
        exc_info=(type(context.error), context.error, context.error.__traceback__)
        if context.error
        else None,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        if update.effective_chat.type != ChatType.PRIVATE:
            return
        text = deps(context).texts.render(
            "something_wrong",
            update.effective_user.language_code if update.effective_user else None,
        )
        try:
            await context.bot.send_message(update.effective_chat.id, text)
        except Exception as exc:  # the person is told if we can; the error is logged anyway
            log.warning("could not tell chat about the error: %s", type(exc).__name__)


def build_application(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, ready to run; tests pass their own database, clock and transport."""
    hold_content_loggers()  # also when the bot is built without setup_logging (tests)
    crypto.configure(crypto.load_keys(settings))

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        from bot.telegram.deps import Deps

        app.bot_data["deps"] = Deps(
            settings=settings,
            db=db or Database.from_url(settings.database_url),
            clock=clock or SystemClock(),
            texts=Texts.load(content_dir()),
            libraries=Libraries.load(content_dir()),
            practices=Practices.load(content_dir()),
        )
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in MENU])

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        if db is None and "deps" in app.bot_data:
            await app.bot_data["deps"].db.dispose()

    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .rate_limiter(
            # Telegram's 30 messages a second, paced in bursts of SEND_BURST: evenly paced
            # (1) an evening fan-out reached 94% of 30/s with no 429s in bench/, bursts of 30
            # (the library's default) 87% with 222 429s a minute.
            AIORateLimiter(
                overall_max_rate=settings.send_burst,
                overall_time_period=settings.send_burst / TELEGRAM_PER_SECOND,
                max_retries=3,
            )
        )
        .concurrent_updates(TimedUpdates())  # one at a time, each logged with id and timing
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()

    # Group -1 is the gate: only private chats get past it.
    app.add_handler(TypeHandler(Update, private_only), group=-1)
    app.add_handlers(pairing.HANDLERS)
    app.add_handlers(scheduler.HANDLERS)
    app.add_handlers(privacy.HANDLERS)
    app.add_handlers(practices.HANDLERS)
    app.add_handlers(rounds.HANDLERS)
    # Whatever no feature took: unknown commands, and buttons with data we don't know.
    app.add_handlers(
        [
            MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, unknown_command),
            CallbackQueryHandler(unknown_button),
        ]
    )
    # Commands run from new messages only: editing "/add ..." must not add a second slip.
    for handler in app.handlers[0]:
        if isinstance(handler, CommandHandler):
            handler.filters = handler.filters & filters.UpdateType.MESSAGE
    app.add_error_handler(on_error)
    scheduler.schedule_jobs(app, settings.tick_seconds)
    return app
