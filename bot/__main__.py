"""`python -m bot`: run the bot, or one of its sub-commands."""

from __future__ import annotations

import argparse

from bot.config import load_settings

WEBHOOK_HELP = (
    "serve Telegram's webhook instead of long polling (needs WEBHOOK_URL and WEBHOOK_SECRET)"
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot",
        description="Twenty Minutes, a Telegram bot for couples. With no command, runs the bot.",
    )
    p.add_argument("--webhook", action="store_true", help=WEBHOOK_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot with long polling (the default) or --webhook")
    # SUPPRESS: `python -m bot --webhook run` must not be reset by the sub-command's default.
    run.add_argument("--webhook", action="store_true", default=argparse.SUPPRESS, help=WEBHOOK_HELP)
    sub.add_parser("migrate", help="bring the database schema to the latest revision")
    sub.add_parser(
        "check", help="check settings, database, schema and Telegram; exit 1 on a failure"
    )
    sub.add_parser("rekey", help="re-encrypt stored answers with the newest ENCRYPTION_KEYS key")
    sub.add_parser("newkey", help="print a new encryption key for ENCRYPTION_KEYS")
    content = sub.add_parser("content", help="count the content library by kind, theme and depth")
    content.add_argument("--json", action="store_true", help="print the counts as JSON")
    return p


def main(argv: list[str] | None = None) -> None:
    p = parser()
    args = p.parse_args(argv)
    if args.webhook and args.command not in (None, "run"):
        p.error("--webhook goes with running the bot, not with " + args.command)
    if args.command == "content":  # needs no settings: it only reads content/
        from bot.content import content_command

        raise SystemExit(content_command(args.json))
    if args.command == "newkey":
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return
    if args.command == "check":  # reports invalid settings as one of its lines
        from bot.check import check_command

        raise SystemExit(check_command())
    from bot import ops
    from bot.logs import setup_logging_for

    settings = load_settings()
    setup_logging_for(settings)
    if args.command == "migrate":
        ops.migrate(settings)
    elif args.command == "rekey":
        ops.rekey(settings)
    else:
        ops.run(settings, webhook=args.webhook)


if __name__ == "__main__":
    main()
