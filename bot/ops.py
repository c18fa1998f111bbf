"""Running the bot: long polling or Telegram's webhook, and database migrations."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.config import Settings

log = logging.getLogger("bot")


async def _migrate(settings: Settings) -> None:
    from bot.db.engine import make_engine
    from bot.db.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def migrate(settings: Settings) -> None:
    asyncio.run(_migrate(settings))
    log.info("database schema is at the latest revision")


def encryption(settings: Settings) -> None:
    """Set up the keys for answers at rest, or stop with one line saying what is missing."""
    from bot.db import crypto

    try:
        crypto.configure(crypto.load_keys(settings))
    except crypto.KeyProblem as problem:
        print(f"Configuration error: {problem}.", file=sys.stderr)
        raise SystemExit(2) from None


def rekey(settings: Settings) -> None:
    """Rewrite stored answers and jar slips with the newest key in ENCRYPTION_KEYS."""
    from bot.db import crypto
    from bot.db.engine import make_engine

    encryption(settings)

    async def go() -> int:
        engine = make_engine(settings.database_url)
        try:
            return await crypto.rekey(engine)
        finally:
            await engine.dispose()

    log.info("re-encrypted %d values with the newest key", asyncio.run(go()))


def webhook_problem(settings: Settings) -> str | None:
    """What webhook mode is missing, as "NAME is ...", or None when it can start."""
    for name, value in (
        ("WEBHOOK_URL", settings.webhook_url),
        ("WEBHOOK_SECRET", settings.webhook_secret),
    ):
        if value is None:
            return f"{name} is required in webhook mode but not set"
    return None


def run(settings: Settings, *, webhook: bool = False) -> None:
    """Run the bot until SIGINT or SIGTERM: long polling, or serving Telegram's webhook."""
    from telegram import Update

    from bot.telegram.app import build_application

    problem = webhook_problem(settings) if webhook else None
    if problem:
        print(f"Configuration error: {problem}.", file=sys.stderr)
        raise SystemExit(2)
    encryption(settings)
    if settings.migrate_on_start:
        asyncio.run(_migrate(settings))
    app = build_application(settings)
    if not webhook:
        log.info("Twenty Minutes is starting (long polling)")
        app.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    assert settings.webhook_secret is not None
    log.info(
        "Twenty Minutes is starting (webhook on %s:%s/%s)",
        settings.webhook_listen,
        settings.webhook_port,
        settings.webhook_path,
    )
    # Telegram sends the secret in X-Telegram-Bot-Api-Secret-Token with every update;
    # PTB's webhook server refuses (403) any request without it. Every process behind
    # the load balancer sets the same URL and secret, so starting one more is harmless,
    # and stopping one leaves the webhook in place for the others.
    app.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=settings.webhook_path,
        webhook_url=settings.webhook_endpoint,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=Update.ALL_TYPES,
    )
