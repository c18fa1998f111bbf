"""Promises under real concurrency: two bot processes (two Applications with their own
connection pools) on one database. On PostgreSQL this is the multi-process set-up."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.db.engine import Database
from bot.db.models import Couple, Reveal
from bot.telegram.app import build_application
from bot.telegram.scheduler import run_tick
from tests.fakegram import FakeRequest, FakeTelegram, FakeUser
from tests.support import FakeClock, Harness, make_settings
from tests.test_pairing import invite_code, paired
from tests.test_rounds import question_message, reveals_to

STARTER = "Tonight's conversation starter"


@pytest.fixture
async def second(db_url: str, clock: FakeClock, tg: FakeTelegram) -> AsyncIterator[Harness]:
    """A second bot on the same database and Telegram, with its own connections."""
    db = Database.from_url(db_url)
    app = build_application(make_settings(db_url), db=db, clock=clock, request=FakeRequest(tg))
    harness = Harness(app, tg, clock, db)
    await harness.start()
    yield harness
    await harness.stop()
    await db.dispose()


async def test_two_schedulers_at_the_same_moment_send_each_prompt_once(
    bot: Harness, second: Harness
) -> None:
    couples: list[tuple[FakeUser, FakeUser]] = []
    for i in range(12):
        couples.append(await paired(bot, (f"A{i}", f"B{i}")))
    for evening in range(3):
        bot.clock.set(dt.datetime(2026, 3, 2 + evening, 20, 0, tzinfo=dt.UTC))
        await asyncio.wait_for(asyncio.gather(run_tick(bot.app), run_tick(second.app)), 60)
        for a, b in couples:
            for person in (a, b):
                assert sum(STARTER in t for t in person.texts) == evening + 1, person.first_name


@pytest.mark.parametrize("attempt", range(10))
async def test_both_answering_at_once_on_two_bots_reveals_once_each(
    bot: Harness, second: Harness, attempt: int
) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    qa, qs = question_message(alex), question_message(sam)
    await asyncio.wait_for(
        asyncio.gather(
            bot.send(alex.text(f"a{attempt}", reply_to=qa)),
            second.send(sam.text(f"s{attempt}", reply_to=qs)),
        ),
        30,
    )
    assert reveals_to(alex, f"s{attempt}") == 1 and reveals_to(sam, f"a{attempt}") == 1
    async with bot.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Reveal)) == 2


@pytest.mark.parametrize("attempt", range(5))
async def test_two_people_redeeming_one_code_at_once(
    bot: Harness, second: Harness, attempt: int
) -> None:
    alex, sam, kim = bot.tg.person("Alex"), bot.tg.person("Sam"), bot.tg.person("Kim")
    code = await invite_code(bot, alex)
    await asyncio.wait_for(
        asyncio.gather(
            bot.send(sam.text(f"/start {code}")), second.send(kim.text(f"/start {code}"))
        ),
        30,
    )
    winners = [p for p in (sam, kim) if "paired with Alex" in p.last["text"]]
    losers = [p for p in (sam, kim) if p not in winners]
    assert len(winners) == 1 and len(losers) == 1, attempt
    # Which refusal depends on where the loser's transaction waited: on the code's row
    # ("already been used"), or after the winner committed ("already paired ... no longer").
    refusal = losers[0].last["text"]
    assert "already been used" in refusal or "no longer works" in refusal, refusal
    async with bot.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Couple)) == 1
