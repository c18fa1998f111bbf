"""`python -m bot check`: is this bot ready to run? One line a check, exit 0 when all pass."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pydantic import ValidationError

from bot.config import Settings
from bot.ops import webhook_problem

TIMEOUT = 20.0  # seconds for each check that goes over the network

Check = Callable[[Settings], Awaitable[str]]


class CheckFailed(Exception):
    """The check ran and found a problem, said in its message."""


def describe(exc: ValidationError) -> str:
    """The first problem of invalid settings, as "NAME is ...", like load_settings says it."""
    error = exc.errors()[0]
    name = str(error["loc"][0]).upper() if error["loc"] else "settings"
    if error["type"] == "missing":
        return f"{name} is required but not set"
    return f"{name} is invalid: {error['msg'].removeprefix('Value error, ')}"


async def settings_line(settings: Settings) -> str:
    if settings.webhook_url is not None or settings.webhook_secret is not None:
        problem = webhook_problem(settings)
        if problem:
            raise CheckFailed(problem)
        return f"webhook mode ready for {settings.webhook_endpoint}"
    return "long polling (set WEBHOOK_URL and WEBHOOK_SECRET for webhook mode)"


async def database_line(settings: Settings) -> str:
    from sqlalchemy import text

    from bot.db.engine import make_engine

    path = settings.sqlite_path
    if path is not None and not path.exists():  # connecting would create an empty file
        raise CheckFailed(f"no SQLite file at {path.resolve()}")
    engine = make_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    return f"{engine.dialect.name} answers"


async def schema_line(settings: Settings) -> str:
    from alembic.script import ScriptDirectory

    from bot.db.engine import make_engine
    from bot.db.migrate import alembic_config, current_revision, head_revision

    if settings.sqlite_path is not None and not settings.sqlite_path.exists():
        raise CheckFailed("no database to read it from")
    engine = make_engine(settings.database_url)
    try:
        current = await current_revision(engine)
    finally:
        await engine.dispose()
    head = head_revision()
    if current == head:
        return f"at the latest revision, {head}"
    if current is None:
        raise CheckFailed(f"empty, not migrated: run `python -m bot migrate` (latest is {head})")
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if current not in known:
        raise CheckFailed(
            f"at {current}, which this version of the bot does not know (latest is {head})"
        )
    raise CheckFailed(f"at {current}, behind the latest {head}: run `python -m bot migrate`")


async def telegram_line(settings: Settings) -> str:
    from telegram import Bot

    async with Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_base_url
    ) as bot:  # initialising the bot calls getMe
        return f"getMe answers @{bot.username}"


CHECKS: list[tuple[str, Check]] = [
    ("database", database_line),
    ("schema", schema_line),
    ("telegram", telegram_line),
]


async def _run(name: str, check: Check, settings: Settings) -> tuple[bool, str]:
    try:
        detail = await asyncio.wait_for(check(settings), TIMEOUT)
    except CheckFailed as exc:
        return False, f"{name}: FAIL {exc}"
    except TimeoutError:
        return False, f"{name}: FAIL no answer within {TIMEOUT:.0f} seconds"
    except Exception as exc:  # whatever went wrong is the answer, in one line
        reason = " ".join(str(exc).split()) or "no details"
        return False, f"{name}: FAIL {type(exc).__name__}: {reason}"
    return True, f"{name}: OK {detail}"


async def check(settings: Settings | ValidationError) -> tuple[bool, list[str]]:
    """Run every check; (all passed, one line each). Later checks need valid settings."""
    if isinstance(settings, ValidationError):
        skipped = [f"{name}: SKIPPED (settings are invalid)" for name, _ in CHECKS]
        return False, [f"settings: FAIL {describe(settings)}", *skipped]
    results = [await _run("settings", settings_line, settings)]
    for name, step in CHECKS:
        results.append(await _run(name, step, settings))
    token = settings.telegram_bot_token.get_secret_value()
    lines = [line.replace(token, "<token>") if token else line for _, line in results]
    return all(ok for ok, _ in results), lines


def check_command() -> int:
    from bot.logs import setup_logging_for

    settings: Settings | ValidationError
    try:
        settings = Settings()  # filled from the environment
    except ValidationError as exc:
        settings = exc
    else:
        setup_logging_for(settings)
    passed, lines = asyncio.run(check(settings))
    for line in lines:
        print(line, flush=True)
    return 0 if passed else 1
