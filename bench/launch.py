"""The real bot, `python -m bot`, with at most the bench-only changes asked for by flag.

    python -m bench.launch [--no-rate-limit | --limiter RATE/BURST] [--profile PATH]

--no-rate-limit  replaces AIORateLimiter (Telegram's 30 messages a second, applied in
                 the bot) by a pass-through limiter: what the bot's own code can do with
                 Telegram's limit set aside. Everything else is the bot, unchanged.
--limiter R/B    AIORateLimiter with an overall limit of R messages a second and bursts
                 of at most B, whatever SEND_BURST says (the library's default is 30/30:
                 bursts of 30, then 30 a second).
--profile PATH   runs the bot under cProfile and writes the stats to PATH on exit.
"""

from __future__ import annotations

import argparse
import cProfile
from typing import Any

from telegram.ext import AIORateLimiter, BaseRateLimiter


class PassThrough(BaseRateLimiter[int]):
    """A rate limiter that limits nothing (python-telegram-bot's own default)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        return await callback(*args, **kwargs)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.launch")
    p.add_argument("--no-rate-limit", action="store_true")
    p.add_argument("--limiter", metavar="RATE/BURST")
    p.add_argument("--profile", metavar="PATH")
    args = p.parse_args()
    if args.no_rate_limit:
        import bot.telegram.app

        bot.telegram.app.AIORateLimiter = PassThrough  # type: ignore[misc,assignment]
    elif args.limiter:
        import bot.telegram.app

        rate_text, _, burst_text = args.limiter.partition("/")
        rate = float(rate_text)
        burst = float(burst_text or rate_text)

        def limiter(max_retries: int = 0, **_: Any) -> AIORateLimiter:
            return AIORateLimiter(
                overall_max_rate=burst, overall_time_period=burst / rate, max_retries=max_retries
            )

        bot.telegram.app.AIORateLimiter = limiter  # type: ignore[misc,assignment]
    from bot.__main__ import main as bot_main

    if not args.profile:
        bot_main([])
        return
    profile = cProfile.Profile()
    try:
        profile.runcall(bot_main, [])
    finally:
        profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
