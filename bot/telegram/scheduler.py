"""The scheduler job, the couple's settings commands, and the evening buttons."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
)

from bot.db.models import Person
from bot.services import evening, schedule, together
from bot.services.notices import Notice
from bot.services.people import say
from bot.services.rounds import unsent_reveals
from bot.telegram.deps import (
    Context,
    Deps,
    deps,
    forget_old_updates,
    id_button,
    record_sent,
    serve,
)
from bot.telegram.send import send_notice, send_notices

log = logging.getLogger(__name__)
SEND_CONCURRENCY = 30  # in flight at once; AIORateLimiter keeps to Telegram's limits


def rules(d: Deps) -> evening.Rules:
    s = d.settings
    return evening.Rules(
        grace=dt.timedelta(hours=s.grace_hours),
        reminder_after=dt.timedelta(hours=s.reminder_hours),
        timer=dt.timedelta(minutes=s.timer_minutes),
    )


async def tick(context: Context) -> None:
    """Every minute: open due rounds, send pending deliveries, timers and reminders."""
    await run_tick(context.application)


async def run_tick(app: Application) -> None:  # type: ignore[type-arg]
    d: Deps = app.bot_data["deps"]
    r, now = rules(d), d.clock.now()
    nudges: list[Notice] = []
    while True:  # every due couple, a batch per transaction
        async with d.db.transaction() as session:
            looked_at, weekly = await evening.claim_due(session, now, r, d.libraries, d.practices)
        nudges += weekly
        if looked_at < r.batch:
            break
    while True:
        async with d.db.transaction() as session:
            batch = await evening.claim_deliveries(session, now, r, d.libraries)
        if not batch:
            break
        gate = asyncio.Semaphore(SEND_CONCURRENCY)
        await asyncio.gather(*(_deliver(app, d, gate, delivery_id, n) for delivery_id, n in batch))
        if len(batch) < r.batch:
            break
    async with d.db.transaction() as session:
        await forget_old_updates(session, now)
        notices = nudges + await evening.due_timers(session, now)
        notices += await together.due_eyes(session, now)
        notices += await unsent_reveals(session, now, d.libraries)
        notices += await evening.due_reminders(session, now, r, d.libraries)
    sent = await send_notices(app.bot, d.texts, notices)
    await record_sent(d, notices, sent)


async def _deliver(
    app: Application,  # type: ignore[type-arg]
    d: Deps,
    gate: asyncio.Semaphore,
    delivery_id: int,
    notice: Notice,
) -> None:
    """Send one delivery and record what happened; one failure never stops the others."""
    error, blocked, sent = None, False, None
    async with gate:
        try:
            sent = await send_notice(app.bot, d.texts, notice)
        except Forbidden:
            blocked = True
        except TelegramError as exc:
            error = type(exc).__name__
            log.warning("delivery %s failed: %s", delivery_id, error)
    async with d.db.transaction() as session:
        notices = await evening.record_outcome(session, delivery_id, error, blocked, d.clock.now())
    if sent is not None:
        await record_sent(d, [notice], [sent])
    await send_notices(app.bot, d.texts, notices)


def _setting(what: str) -> Any:
    async def handler(update: Update, context: Context) -> None:
        d = deps(context)
        value = " ".join(context.args or [])

        async def work(session: AsyncSession, person: Person) -> list[Notice]:
            if what in ("time", "timezone", "jar") and not value:
                return [say(person, f"{what}_usage")]
            return await schedule.change(session, person, what, value, d.clock.now())

        await serve(update, context, work)

    handler.__doc__ = f"Change the couple's {what} setting; the partner is told."
    return handler


async def settings(update: Update, context: Context) -> None:
    """All of the couple's settings on one screen, with buttons."""
    d = deps(context)

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await schedule.show_settings(session, person, d.clock.now())

    await serve(update, context, work)


async def settings_button(update: Update, context: Context) -> None:
    """The buttons of /settings: earlier/later, jar day, pause/resume."""
    d = deps(context)
    assert update.callback_query is not None
    await update.callback_query.answer()
    _, what, value = ((update.callback_query.data or "") + "::").split(":")[:3]

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        if what == "checkin":
            return await together.set_checkin(session, person, value, d.clock.now())
        if what == "weekly":
            return await together.set_weekly(session, person, value, d.clock.now())
        return await schedule.change(session, person, what, value, d.clock.now())

    await serve(update, context, work)


async def blocked_or_back(update: Update, context: Context) -> None:
    """Someone blocked or unblocked the bot in their private chat."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    reachable = change.new_chat_member.status not in ("kicked", "left")
    d = deps(context)

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await evening.set_reachable(session, person, reachable, d.clock.now())

    await serve(update, context, work)


def schedule_jobs(app: Application, interval: float) -> None:  # type: ignore[type-arg]
    assert app.job_queue is not None, "install python-telegram-bot[job-queue]"
    app.job_queue.run_repeating(tick, interval=interval, first=1.0, name="tick")


HANDLERS = [
    CommandHandler("time", _setting("time")),
    CommandHandler("timezone", _setting("timezone")),
    CommandHandler("jarday", _setting("jar")),
    CommandHandler("pause", _setting("pause")),
    CommandHandler("resume", _setting("resume")),
    CommandHandler("settings", settings),
    CallbackQueryHandler(settings_button, pattern=r"^set:"),
    CallbackQueryHandler(
        id_button(
            "timer",
            lambda s, p, rid, d: evening.start_timer(s, p, rid, d.clock.now(), rules(d)),
            '"Start our 20 minutes": a timer for both that survives a restart.',
        ),
        pattern=r"^timer:",
    ),
    CallbackQueryHandler(
        id_button(
            "swap",
            lambda s, p, rid, d: evening.swap(s, p, rid, d.clock.now(), d.libraries),
            '"Another one": swap tonight\'s starter, once.',
        ),
        pattern=r"^swap:",
    ),
    ChatMemberHandler(blocked_or_back, ChatMemberHandler.MY_CHAT_MEMBER),
]
