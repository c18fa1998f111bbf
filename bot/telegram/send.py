"""Rendering and sending notices."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyParameters,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.services.notices import Notice
from bot.texts import Texts

log = logging.getLogger(__name__)


def keyboard(texts: Texts, notice: Notice) -> InlineKeyboardMarkup | None:
    if not notice.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.render(b.label, notice.language, **b.params),
                    callback_data=b.data,
                    url=b.url,
                )
                for b in row
            ]
            for row in notice.buttons
        ]
    )


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Split text into pieces of at most `limit` characters, at line or word ends if possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut <= limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut <= limit // 2:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n ") if cut < limit else text[cut:]
    pieces.append(text)
    return [piece for piece in pieces if piece.strip()]


# Seconds to wait before trying again after a timeout or network error. Rate limits (429)
# are waited out by AIORateLimiter; after the last try the caller records the failure.
RETRY_DELAYS: tuple[float, ...] = (0.5, 2.0)


async def send_notice(bot: Bot, texts: Texts, notice: Notice) -> Message | MessageId | None:
    """Send one notice, trying again with backoff on timeouts and network errors."""
    for delay in (*RETRY_DELAYS, None):
        try:
            return await _send_once(bot, texts, notice)
        except BadRequest:
            raise  # a subclass of NetworkError, but trying again would not help
        except NetworkError as exc:  # TimedOut included
            if delay is None:
                raise
            log.info("sending %s failed (%s); trying again", notice.key, type(exc).__name__)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def _send_once(bot: Bot, texts: Texts, notice: Notice) -> Message | MessageId | None:
    """Send one notice; long text goes in several messages, buttons on the last one."""
    text = texts.render(notice.key, notice.language, **notice.params)
    markup = keyboard(texts, notice)
    if notice.document is not None:
        name, content = notice.document
        return await bot.send_document(notice.chat_id, content, filename=name, caption=text)
    sent: Message | MessageId | None = None
    pieces = split_text(text)
    reply = (
        ReplyParameters(notice.reply_to, allow_sending_without_reply=True)
        if notice.reply_to
        else None
    )
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1 and notice.copy_from is None
        sent = await bot.send_message(
            notice.chat_id,
            piece,
            reply_markup=markup if last else None,
            reply_parameters=reply if i == 0 else None,
        )
    if notice.copy_from is not None:
        from_chat, message_id = notice.copy_from
        sent = await bot.copy_message(notice.chat_id, from_chat, message_id, reply_markup=markup)
    return sent


async def remove_buttons(query: CallbackQuery) -> None:
    """Take the buttons off a message once used; a second tap finds them gone already."""
    with contextlib.suppress(BadRequest):  # "not modified": a double tap, or an old message
        await query.edit_message_reply_markup(None)


async def send_notices(
    bot: Bot, texts: Texts, notices: list[Notice]
) -> list[Message | MessageId | None]:
    """Send each notice; one that fails (blocked, Telegram down) doesn't stop the others.

    Whatever must not be lost is recorded before it is sent and sent again by the
    scheduler when its send is not confirmed (deliveries, reveals).
    """
    results: list[Message | MessageId | None] = []
    for notice in notices:
        try:
            results.append(await send_notice(bot, texts, notice))
        except Forbidden:
            log.info("chat %s has blocked the bot; notice %s not sent", notice.chat_id, notice.key)
            results.append(None)
        except TelegramError as exc:
            log.warning("notice %s not sent: %s", notice.key, type(exc).__name__)
            results.append(None)
    return results
