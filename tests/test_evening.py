"""Evening prompts and jar draws on each couple's own clock, with the clock moved by tests."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from bot.db.engine import Database
from bot.db.models import Couple, Round
from bot.telegram.app import build_application
from bot.telegram.scheduler import run_tick
from tests.fakegram import FakeRequest, FakeTelegram, FakeUser
from tests.process import eventually
from tests.support import FakeClock, Harness, make_settings
from tests.test_pairing import paired

STARTER = "Tonight's conversation starter"
UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def prompts(person: FakeUser) -> int:
    return sum(STARTER in t for t in person.texts)


async def tick(bot: Harness) -> None:
    await asyncio.wait_for(run_tick(bot.app), 60)


async def restarted(bot: Harness, db_url: str) -> Harness:
    """A new Application on the same database and fake Telegram: a restart of the bot."""
    await bot.stop()
    db = Database.from_url(db_url)
    app = build_application(
        make_settings(db_url), db=db, clock=bot.clock, request=FakeRequest(bot.tg)
    )
    again = Harness(app, bot.tg, bot.clock, db)
    await again.start()
    return again


@pytest.fixture
async def couple(bot: Harness) -> tuple[FakeUser, FakeUser]:
    return await paired(bot)  # paired on Mon 2 March 2026, 12:00 UTC; evening 20:00 UTC


async def test_the_evening_prompt_comes_once_when_the_time_passes(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    bot.clock.set(at(2, 19, 59))
    await tick(bot)
    assert prompts(alex) == prompts(sam) == 0
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    assert prompts(alex) == prompts(sam) == 1
    for minute in range(1, 5):
        bot.clock.set(at(2, 20, minute))
        await tick(bot)
    assert prompts(alex) == prompts(sam) == 1
    bot.clock.set(at(3, 20, 0))
    await tick(bot)
    assert prompts(alex) == prompts(sam) == 2
    first, second = [m for m in alex.inbox if STARTER in m.get("text", "")]
    assert first["text"] != second["text"]  # a new starter every evening


async def test_restart_after_sending_does_not_repeat(
    bot: Harness, couple: tuple[FakeUser, FakeUser], db_url: str
) -> None:
    alex, sam = couple
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    bot = await restarted(bot, db_url)
    bot.clock.set(at(2, 20, 1))
    await tick(bot)
    assert prompts(alex) == prompts(sam) == 1
    await bot.stop()


async def test_restart_before_sending_sends_the_pending_prompt(
    bot: Harness, couple: tuple[FakeUser, FakeUser], db_url: str
) -> None:
    from bot.services import evening
    from bot.telegram.scheduler import rules

    alex, sam = couple
    bot.clock.set(at(2, 20, 0))
    async with bot.db.transaction() as session:  # recorded, then the bot stops before sending
        d = bot.deps
        await evening.claim_due(session, bot.clock.now(), rules(d), d.libraries, d.practices)
    assert prompts(alex) == 0
    bot = await restarted(bot, db_url)
    bot.clock.set(at(2, 20, 3))
    await tick(bot)
    assert prompts(alex) == prompts(sam) == 1
    await tick(bot)
    assert prompts(alex) == prompts(sam) == 1
    await bot.stop()


async def test_a_prompt_missed_while_down_is_sent_within_the_grace_window(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, _ = couple
    bot.clock.set(at(2, 21, 59))  # down from before 20:00 until 21:59: within 2 hours
    await tick(bot)
    assert prompts(alex) == 1


async def test_a_prompt_missed_past_the_grace_window_skips_to_tomorrow(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, _ = couple
    bot.clock.set(at(2, 22, 1))
    await tick(bot)
    assert prompts(alex) == 0
    bot.clock.set(at(5, 9, 0))  # days later: still nothing old comes
    await tick(bot)
    assert prompts(alex) == 0
    bot.clock.set(at(5, 20, 0))
    await tick(bot)
    assert prompts(alex) == 1


async def ticks_every(bot: Harness, start: dt.datetime, end: dt.datetime, minutes: int) -> None:
    bot.clock.set(start)
    while bot.clock.now() <= end:
        await tick(bot)
        bot.clock.advance(minutes=minutes)


async def evening_dates(bot: Harness) -> list[dt.date]:
    async with bot.db.transaction() as s:
        rows = await s.scalars(
            select(Round.local_date).where(Round.source == "evening").order_by(Round.id)
        )
        return [d for d in rows if d is not None]


@pytest.mark.parametrize(
    ("month", "days"),
    [(3, (28, 29, 30)), (10, (24, 25, 26))],  # Berlin: spring forward 29 Mar, fall back 25 Oct
    ids=["spring-forward", "fall-back"],
)
async def test_daylight_saving_nights_give_exactly_one_prompt(
    bot: Harness, couple: tuple[FakeUser, FakeUser], month: int, days: tuple[int, ...]
) -> None:
    alex, sam = couple
    bot.clock.set(at(days[0] - 1, 12, month=month))
    await bot.send(alex.text("/timezone Europe/Berlin"))
    await bot.send(alex.text("/time 02:30"))  # missing on 29 Mar, twice on 25 Oct
    await ticks_every(bot, at(days[0], 0, month=month), at(days[-1], 23, 45, month=month), 15)
    assert await evening_dates(bot) == [dt.date(2026, month, d) for d in days]
    assert prompts(alex) == prompts(sam) == 3


@pytest.mark.parametrize(("zone", "local_day"), [("Pacific/Kiritimati", 3), ("Etc/GMT+12", 2)])
async def test_far_time_zones_get_their_own_local_date(
    bot: Harness, couple: tuple[FakeUser, FakeUser], zone: str, local_day: int
) -> None:
    alex, _ = couple
    await bot.send(alex.text(f"/timezone {zone}"))  # UTC+14 and UTC-12
    await bot.send(alex.text("/time 20:00"))
    # 20:00 on 3 March at UTC+14 is 06:00 UTC on 3 March;
    # 20:00 on 2 March at UTC-12 is 08:00 UTC on 3 March.
    await ticks_every(bot, at(3, 5, 0), at(3, 9, 0), 30)
    assert await evening_dates(bot) == [dt.date(2026, 3, local_day)]
    assert prompts(alex) == 1


async def test_pause_holds_prompts_and_they_resume_by_themselves(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    await bot.send(alex.text("/pause 2"))
    assert "Alex paused your evening prompts for 2 days" in sam.last["text"]
    for day in (2, 3):
        bot.clock.set(at(day, 20, 0))
        await tick(bot)
    assert prompts(alex) == prompts(sam) == 0
    bot.clock.set(at(4, 20, 0))
    await tick(bot)
    assert prompts(alex) == prompts(sam) == 1


async def test_resume_ends_a_pause_early(bot: Harness, couple: tuple[FakeUser, FakeUser]) -> None:
    alex, sam = couple
    await bot.send(alex.text("/pause 30"))
    await bot.send(sam.text("/resume"))
    assert "Sam resumed" in alex.last["text"]
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    assert prompts(alex) == 1


async def test_jar_day_draws_a_slip_at_the_evening_time(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    await bot.send(alex.text("/jarday wednesday"))  # 4 March 2026 is a Wednesday
    assert "Alex set your jar day to wednesday" in sam.last["text"]
    await bot.send(sam.text("/add Where would you go with a free week?"))
    for day in (2, 3):
        bot.clock.set(at(day, 20, 0))
        await tick(bot)
    assert not any("Jar day" in t for t in alex.texts)
    bot.clock.set(at(4, 20, 0))
    await tick(bot)
    jar = [t for t in alex.texts if "Jar day" in t]
    assert len(jar) == 1 and "free week" in jar[0] and "written by Sam" in jar[0]
    assert prompts(alex) == 3  # the evening prompt comes too
    bot.clock.set(at(11, 20, 0))  # next Wednesday: the jar is empty, a library question instead
    await tick(bot)
    assert sum("Jar day" in t for t in alex.texts) == 2
    assert "jar is empty" in [t for t in alex.texts if "Jar day" in t][-1]


async def test_jar_day_off_means_no_draws(bot: Harness, couple: tuple[FakeUser, FakeUser]) -> None:
    alex, _ = couple
    await bot.send(alex.text("/jarday off"))
    bot.clock.set(at(8, 20, 0))  # a Sunday, the default jar day
    await tick(bot)
    assert not any("Jar day" in t for t in alex.texts)


async def test_timer_ends_with_times_up_even_after_a_restart(
    bot: Harness, couple: tuple[FakeUser, FakeUser], db_url: str
) -> None:
    alex, sam = couple
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    bot.clock.set(at(2, 20, 2))
    await bot.send(sam.button("Start our 20 minutes"))
    assert "Sam started your twenty minutes" in alex.last["text"]
    assert "20:22" in sam.last["text"]
    await bot.send(alex.button("Start our 20 minutes"))  # a double tap changes nothing
    assert "already running" in alex.last["text"]
    bot = await restarted(bot, db_url)
    bot.clock.set(at(2, 20, 21))
    await tick(bot)
    assert not any("Time's up" in t for t in alex.texts)
    bot.clock.set(at(2, 20, 22))
    await tick(bot)
    await tick(bot)
    assert sum("Time's up" in t for t in alex.texts) == 1
    assert sum("Time's up" in t for t in sam.texts) == 1
    await bot.stop()


async def test_another_one_swaps_tonights_starter_once(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    first = alex.last_with_buttons()["text"]
    await bot.send(alex.button("Another one"))
    assert "Alex asked for another starter" in "\n".join(sam.texts)
    assert prompts(alex) == prompts(sam) == 2 and alex.last_with_buttons()["text"] != first
    sams_first = next(m for m in sam.inbox if STARTER in m.get("text", ""))
    await bot.send(sam.button("Another one", sams_first))  # the old message still has it
    assert "already swapped" in sam.last["text"]


async def test_one_reminder_only_and_never_at_night(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    bot.clock.set(at(2, 20, 5))
    await bot.send(alex.text("thinking of you", reply_to=alex.last_with_buttons()))
    bot.clock.set(at(2, 23, 10))  # three hours later, but 23:10 where they live: no reminder
    await tick(bot)
    assert not any("waiting to see yours" in t for t in sam.texts)
    bot.clock.set(at(3, 9, 0))
    await tick(bot)
    bot.clock.set(at(3, 12, 0))
    await tick(bot)
    assert sum("waiting to see yours" in t for t in sam.texts) == 1
    assert not any("waiting to see yours" in t for t in alex.texts)


async def test_a_blocked_partner_pauses_the_couple_and_the_other_is_told_once(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    kim, lee = await paired(bot, ("Kim", "Lee"))
    bot.tg.blocked.add(sam.id)
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    assert sum("can't reach Sam" in t for t in alex.texts) == 1
    assert prompts(kim) == prompts(lee) == 1  # other couples are not held up
    bot.clock.set(at(3, 20, 0))
    await tick(bot)
    assert prompts(alex) == 1 and sum("can't reach Sam" in t for t in alex.texts) == 1
    # Sam unblocks the bot: Telegram sends a my_chat_member update.
    bot.tg.blocked.discard(sam.id)
    await bot.send(
        bot.tg.make_update(
            my_chat_member={
                "chat": sam.chat,
                "from": sam.user,
                "date": 0,
                "old_chat_member": {"status": "kicked", "user": bot.tg.bot_user, "until_date": 0},
                "new_chat_member": {"status": "member", "user": bot.tg.bot_user},
            }
        )
    )
    assert "Sam is back" in alex.last["text"]
    bot.clock.set(at(4, 20, 0))
    await tick(bot)
    assert prompts(alex) == 2 and prompts(sam) == 1


async def test_a_block_reported_by_telegram_marks_the_person_unreachable(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    await bot.send(
        bot.tg.make_update(
            my_chat_member={
                "chat": alex.chat,
                "from": alex.user,
                "date": 0,
                "old_chat_member": {"status": "member", "user": bot.tg.bot_user},
                "new_chat_member": {"status": "kicked", "user": bot.tg.bot_user, "until_date": 0},
            }
        )
    )
    assert "can't reach Alex" in sam.last["text"]
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    assert prompts(sam) == 0


async def test_a_failed_send_is_retried_on_a_later_tick(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    bot.tg.fail("sendMessage", "500", times=10, chat_id=alex.id)
    bot.clock.set(at(2, 20, 0))
    await tick(bot)
    assert prompts(alex) == 0 and prompts(sam) == 1
    bot.tg.faults.clear()
    bot.clock.set(at(2, 20, 5))
    await tick(bot)
    assert prompts(alex) == 1 and prompts(sam) == 1


async def test_settings_changes_tell_the_partner(
    bot: Harness, couple: tuple[FakeUser, FakeUser]
) -> None:
    alex, sam = couple
    await bot.send(alex.text("/time 21:30"))
    assert "Alex set your evening time to 21:30" in sam.last["text"]
    await bot.send(alex.text("/time 25:00"))
    assert "couldn't read that time" in alex.last["text"]
    await bot.send(sam.text("/timezone asia/kolkata"))
    assert "Asia/Kolkata" in sam.last["text"] and "17:30 on Mon 02 Mar" in sam.last["text"]
    assert "Sam set your time zone to Asia/Kolkata" in alex.last["text"]
    await bot.send(sam.text("/timezone UTC+05:45"))
    assert "UTC+05:45" in sam.last["text"] and "17:45" in sam.last["text"]
    await bot.send(sam.text("/timezone Mars/Olympus"))
    assert "don't know that time zone" in sam.last["text"]
    await bot.send(alex.text("/settings"))
    assert "21:30" in alex.last["text"] and "UTC+05:45" in alex.last["text"]
    await bot.send(alex.button("30 min later"))
    assert "Alex set your evening time to 22:00" in sam.last["text"]
    await bot.send(alex.text("/settings"))
    await bot.send(alex.button("Pause for a week"))
    assert "paused your evening prompts for 7 days" in sam.last["text"]
    async with bot.db.transaction() as s:
        couple_row = await s.scalar(select(Couple))
    assert couple_row is not None and couple_row.evening_time == "22:00"


async def test_the_real_job_runs_in_a_real_application(
    db: Database, db_url: str, tg: FakeTelegram
) -> None:
    clock = FakeClock(at(2, 12, 0))
    app = build_application(
        make_settings(db_url, tick_seconds=0.05), db=db, clock=clock, request=FakeRequest(tg)
    )
    bot = Harness(app, tg, clock, db)
    await bot.start()
    alex, sam = await paired(bot)
    clock.set(at(2, 20, 0))
    await app.start()  # starts the JobQueue: the tick job runs on its own
    try:
        await eventually(lambda: prompts(alex) + prompts(sam) >= 2, 20, "the job's prompts")
    finally:
        await app.stop()
        await bot.stop()
    assert prompts(alex) == prompts(sam) == 1
