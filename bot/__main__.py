"""`python -m bot`: run the bot, or one of its sub-commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import Settings, load_settings


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def _migrate(settings: Settings) -> None:
    from bot.db.engine import make_engine
    from bot.db.migrate import upgrade

    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def run(settings: Settings) -> None:
    from telegram import Update

    from bot.telegram.app import build_application

    if settings.migrate_on_start:
        asyncio.run(_migrate(settings))
    app = build_application(settings)
    logging.getLogger("bot").info("Twenty Minutes is starting (long polling)")
    app.run_polling(allowed_updates=Update.ALL_TYPES)


def migrate(settings: Settings) -> None:
    asyncio.run(_migrate(settings))
    logging.getLogger("bot").info("database schema is at the latest revision")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot",
        description="Twenty Minutes, a Telegram bot for couples. With no command, runs the bot.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot with long polling (the default)")
    sub.add_parser("migrate", help="bring the database schema to the latest revision")
    content = sub.add_parser("content", help="count the content library by kind, theme and depth")
    content.add_argument("--json", action="store_true", help="print the counts as JSON")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "content":  # needs no settings: it only reads content/
        from bot.content import content_command

        raise SystemExit(content_command(args.json))
    settings = load_settings()
    setup_logging(settings.log_level)
    commands = {"run": run, "migrate": migrate, None: run}
    commands[args.command](settings)


if __name__ == "__main__":
    main()
