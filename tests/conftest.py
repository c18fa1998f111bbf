"""Fixtures: a clean database per test (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db.engine import Database, make_engine
from bot.db.migrate import upgrade
from bot.db.models import Base
from bot.telegram.app import build_application
from tests.fakegram import FakeRequest, FakeTelegram
from tests.support import FakeClock, Harness, make_settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if TEST_DATABASE_URL else 'SQLite'}"


async def _reset_postgres(url: str) -> None:
    # A clean schema for every run: drop everything, then migrate from empty.
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the latest revision: the PostgreSQL URL, or a template SQLite file."""
    if TEST_DATABASE_URL:
        asyncio.run(_reset_postgres(TEST_DATABASE_URL))  # fails, not skips, if unreachable
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return str(path)


@pytest.fixture
def db_url(migrated: str, tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        return migrated
    target = tmp_path / "bot.sqlite3"
    shutil.copy(migrated, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(db_url)
    if TEST_DATABASE_URL:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with database.transaction() as session:
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield database
    await database.dispose()


@pytest.fixture(autouse=True)
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send retries after a timeout happen at once in tests (their order is what is tested)."""
    monkeypatch.setattr("bot.telegram.send.RETRY_DELAYS", (0.0, 0.0))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def tg() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def bot(
    db: Database, db_url: str, clock: FakeClock, tg: FakeTelegram
) -> AsyncIterator[Harness]:
    app = build_application(make_settings(db_url), db=db, clock=clock, request=FakeRequest(tg))
    harness = Harness(app, tg, clock, db)
    await harness.start()
    yield harness
    await harness.stop()
