"""The ceiling: a minimal python-telegram-bot echo bot, one reply per text message.

`python -m bench.echo`, with TELEGRAM_BOT_TOKEN and TELEGRAM_BASE_URL as for the bot.
ECHO_RATE_LIMITER=1 adds the AIORateLimiter the real bot uses (Telegram's 30 a second).
No database, no logging of updates: what python-telegram-bot itself allows.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.text is not None
    await context.bot.send_message(message.chat_id, message.text)


def main() -> None:
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_BASE_URL"])
    )
    if os.environ.get("ECHO_RATE_LIMITER") == "1":
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
