"""/question, /add, /jar, /history, and answering in the chat."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.db.models import Person
from bot.parse import clean_text
from bot.services import jar, rounds
from bot.services.incoming import incoming
from bot.services.notices import Notice
from bot.services.people import say
from bot.services.rounds import AnswerContent
from bot.telegram.deps import Context, callback_int, deps, id_button, serve


def answer_content(message: Message) -> AnswerContent | None:
    """What a message holds that can be an answer: text, voice, a photo or a video note."""
    chat_id, message_id = message.chat_id, message.message_id
    if message.text:
        text = clean_text(message.text)
        return AnswerContent(chat_id, message_id, text=text) if text else None
    if message.voice:
        return AnswerContent(chat_id, message_id, media_kind="voice", file_id=message.voice.file_id)
    if message.photo:
        photo = message.photo[-1]  # the largest size
        caption = clean_text(message.caption) or None
        return AnswerContent(chat_id, message_id, caption, "photo", photo.file_id)
    if message.video_note:
        note = message.video_note
        return AnswerContent(chat_id, message_id, media_kind="video_note", file_id=note.file_id)
    return None


async def question(update: Update, context: Context) -> None:
    """A question for both partners right now, drawn from the jar first."""
    d = deps(context)

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await jar.ask_now(session, person, d.clock.now(), d.libraries)

    await serve(update, context, work)


async def add(update: Update, context: Context) -> None:
    """/add QUESTION drops a slip into the jar; /add alone asks for it next."""
    d = deps(context)
    text = update.effective_message.text if update.effective_message else None
    parts = (text or "").split(maxsplit=1)
    slip = parts[1] if len(parts) > 1 else None

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await jar.add_slip(session, person, slip, d.clock.now())

    await serve(update, context, work)


async def jar_status(update: Update, context: Context) -> None:
    """How many slips wait in the jar, and who added how many (never their text)."""

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await jar.jar_status(session, person)

    await serve(update, context, work)


async def history(update: Update, context: Context) -> None:
    """Past rounds, newest first, paged with buttons."""
    d = deps(context)
    offset = callback_int(update, "hist") if update.callback_query else 0
    if update.callback_query:
        await update.callback_query.answer()

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        if offset is None:  # a page button with data we don't recognise
            return [say(person, "button_stale")]
        return await jar.history(session, person, offset, d.libraries, d.texts)

    await serve(update, context, work)


async def take_answer(update: Update, context: Context) -> None:
    """ "Yes, that's my answer" under an offer: the message it replied to becomes the answer."""
    d = deps(context)
    query = update.callback_query
    assert query is not None
    await query.answer()
    round_id = callback_int(update, "take")
    offer = query.message if isinstance(query.message, Message) else None
    original = offer.reply_to_message if offer else None
    content = answer_content(original) if original else None

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        if round_id is None or content is None or content.chat_id != person.chat_id:
            return [say(person, "button_stale")]
        return await rounds.submit_answer(
            session, person, round_id, content, d.clock.now(), d.libraries
        )

    await serve(update, context, work)


async def message(update: Update, context: Context) -> None:
    """A plain message: an answer, a jar slip, or a hint on how to answer."""
    d = deps(context)
    msg = update.effective_message
    assert msg is not None
    reply_to = msg.reply_to_message.message_id if msg.reply_to_message else None

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await incoming(
            session, person, answer_content(msg), msg.text, reply_to, d.clock.now(), d.libraries
        )

    await serve(update, context, work)


async def edited(update: Update, context: Context) -> None:
    """Editing an answer's message changes the answer, until the reveal."""
    d = deps(context)
    msg = update.edited_message
    if msg is None or not msg.text:
        return
    new_text = msg.text

    async def work(session: AsyncSession, person: Person) -> list[Notice]:
        return await rounds.edit_answer(
            session, person, msg.chat_id, msg.message_id, new_text, d.clock.now()
        )

    await serve(update, context, work)


HANDLERS = [
    CommandHandler("question", question),
    CommandHandler("add", add),
    CommandHandler("jar", jar_status),
    CommandHandler("history", history),
    CallbackQueryHandler(history, pattern=r"^hist:"),
    CallbackQueryHandler(
        id_button(
            "ans",
            lambda s, p, rid, d: rounds.press_answer(s, p, rid, d.libraries),
            "The Answer button: the next message becomes the answer.",
        ),
        pattern=r"^ans:",
    ),
    CallbackQueryHandler(take_answer, pattern=r"^take:"),
    MessageHandler(filters.UpdateType.EDITED_MESSAGE, edited),
    # Last: any other message in a private chat that is not a command.
    MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, message),
]
