"""Test helpers: a clock the tests move, settings, and a bot driven through the fake API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.db.engine import Database
from tests.fakegram import FakeTelegram

TOKEN = "123456:TEST-token-not-real"
ENCRYPTION_KEY = "BHQAM7eL2cbB0jwppaiNrKb8z0j-VynUVytX_-bCzdg="  # for tests only


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self._now = start

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += dt.timedelta(**delta)

    def set(self, when: dt.datetime) -> None:
        self._now = when


def make_settings(
    database_url: str = "sqlite+aiosqlite:///unused.db", **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "database_url": database_url,
        "telegram_base_url": "http://fake.invalid/bot",
        "encryption_keys": ENCRYPTION_KEY,
        "send_burst": 30,  # the library's default: scenario tests send in short bursts
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Harness:
    """A real Application with handlers unchanged, fed updates directly."""

    def __init__(self, app: Application, tg: FakeTelegram, clock: FakeClock, db: Database) -> None:  # type: ignore[type-arg]
        self.app, self.tg, self.clock, self.db = app, tg, clock, db
        self.errors: list[BaseException] = []

        async def record(update: object, context: Any) -> None:
            self.errors.append(context.error)

        app.add_error_handler(record)

    @property
    def deps(self) -> Any:
        return self.app.bot_data["deps"]

    async def send(self, *updates: dict[str, Any], expect_error: bool = False) -> None:
        """Feed updates one after another, as Telegram would; errors fail the test."""
        for update in updates:
            before = len(self.errors)
            await self.app.process_update(Update.de_json(update, self.app.bot))
            if not expect_error and len(self.errors) > before:
                raise self.errors[-1]

    async def start(self) -> None:
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)

    async def stop(self) -> None:
        await self.app.shutdown()
        if self.app.post_shutdown is not None:
            await self.app.post_shutdown(self.app)
