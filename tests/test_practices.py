"""The other practices, end to end through the fake Bot API, on a controlled clock."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from bot.telegram.scheduler import run_tick
from tests.fakegram import FakeUser
from tests.support import Harness
from tests.test_pairing import paired

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def count(person: FakeUser, fragment: str) -> int:
    return sum(fragment in t for t in person.texts)


async def test_thanks_reaches_the_partner_and_the_gratitude_list(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/thanks for the soup when I was ill"))
    assert "Alex appreciates you:\nfor the soup when I was ill" in sam.last["text"]
    assert "gratitude list" in alex.last["text"]
    await bot.send(sam.text("/thanks for the walk"))
    await bot.send(sam.text("/gratitude"))
    page = sam.last["text"]
    assert page.index("Sam: for the walk") < page.index("Alex: for the soup")  # newest first
    await bot.send(alex.text("/thanks"))
    assert "Write what you appreciate" in alex.last["text"]


async def test_gratitude_pages(bot: Harness) -> None:
    alex, sam = await paired(bot)
    for i in range(10):
        await bot.send(alex.text(f"/thanks number {i}"))
    await bot.send(sam.text("/gratitude"))
    assert "1-8 of 10" in sam.last["text"] and "number 9" in sam.last["text"]
    await bot.send(sam.button("Older"))
    assert "9-10 of 10" in sam.last["text"] and "number 0" in sam.last["text"]


async def test_a_weekly_nudge_goes_only_to_who_sent_no_thanks(bot: Harness) -> None:
    alex, sam = await paired(bot)  # Monday 2 March; the weekly nudge comes Saturday 11:00
    bot.clock.set(at(5, 9))
    await bot.send(alex.text("/thanks for the coffee"))
    bot.clock.set(at(7, 10, 59))
    await run_tick(bot.app)
    assert count(sam, "A small idea for this week") == 0
    bot.clock.set(at(7, 11, 0))
    await run_tick(bot.app)
    await run_tick(bot.app)
    assert count(sam, "A small idea for this week") == 1
    assert count(alex, "A small idea for this week") == 0
    assert count(alex, "An idea for something to do together") == 1  # a date idea for both
    await bot.send(alex.text("/weekly off"))
    assert "Alex turned the weekly ideas off" in sam.last["text"]
    bot.clock.set(at(14, 11, 0))
    await run_tick(bot.app)
    assert count(sam, "A small idea for this week") == 1


async def test_the_weekly_nudge_follows_the_couples_time_zone_and_pause(bot: Harness) -> None:
    alex, _sam = await paired(bot)
    await bot.send(alex.text("/timezone Asia/Tokyo"))  # Saturday 11:00 in Tokyo is 02:00 UTC
    bot.clock.set(at(7, 2, 0))
    await run_tick(bot.app)
    assert count(alex, "A small idea for this week") == 1
    await bot.send(alex.text("/pause 10"))
    bot.clock.set(at(14, 2, 0))
    await run_tick(bot.app)
    assert count(alex, "A small idea for this week") == 1


async def test_memories_are_saved_shared_and_come_back_on_their_anniversary(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/memory 2019-03-04 Our first walk along the river"))
    assert "dated 04 Mar 2019" in alex.last["text"]
    assert "Alex saved a memory of you two:\nOur first walk" in sam.last["text"]
    await bot.send(sam.text("/memory 2030-01-01 Not yet"))
    assert "still to come" in sam.last["text"]
    await bot.send(sam.text("/memories"))
    assert "04 Mar 2019: Our first walk along the river" in sam.last["text"]
    bot.clock.set(at(3, 20, 0))
    await run_tick(bot.app)
    assert count(alex, "On this day 7 years ago: Our first walk") == 0  # 3 March: not yet
    bot.clock.set(at(4, 20, 0))
    await run_tick(bot.app)
    assert count(alex, "On this day 7 years ago: Our first walk along the river") == 1
    assert count(sam, "On this day 7 years ago") == 1


async def test_a_memory_without_a_date_resurfaces_now_and_then(bot: Harness) -> None:
    alex, _ = await paired(bot)
    await bot.send(alex.text("/memory The night the tent blew away"))
    for day in range(2, 14):
        bot.clock.set(at(day, 20, 0))
        await run_tick(bot.app)
    seen = count(alex, "Remember when: The night the tent blew away")
    assert 1 <= seen <= 4  # about once in five evenings, not every evening


async def test_checkin_is_opt_in_daily_and_revealed_like_a_round(bot: Harness) -> None:
    alex, sam = await paired(bot)
    bot.clock.set(at(2, 12, 30))
    await run_tick(bot.app)
    assert count(alex, "midday check-in") == 0  # off by default
    await bot.send(alex.text("/checkin on 13:00"))
    assert "Alex turned on the daily check-in, at 13:00" in sam.last["text"]
    bot.clock.set(at(2, 13, 0))
    await run_tick(bot.app)
    await run_tick(bot.app)
    assert count(alex, "midday check-in") == count(sam, "midday check-in") == 1
    checkin = next(m for m in sam.inbox if "midday check-in" in m.get("text", ""))
    await bot.send(sam.text("tired but fine", reply_to=checkin))
    await bot.send(alex.text("busy day", reply_to=alex.last_with_buttons()))
    assert count(sam, "busy day") == 1 and count(alex, "tired but fine") == 1
    bot.clock.set(at(3, 13, 0))
    await run_tick(bot.app)
    assert count(alex, "midday check-in") == 2
    await bot.send(sam.text("/checkin off"))
    bot.clock.set(at(4, 13, 0))
    await run_tick(bot.app)
    assert count(alex, "midday check-in") == 2
    await bot.send(sam.text("/checkin sometimes"))
    assert "Send /checkin on" in sam.last["text"]
    await bot.send(sam.text("/settings"))  # the settings screen turns it on and off too
    assert "Midday check-in: off" in sam.last["text"]
    await bot.send(sam.button("Daily check-in: on"))
    assert "Sam turned on the daily check-in, at 12:30" in alex.last["text"]
    await bot.send(alex.text("/settings"))
    await bot.send(alex.button("Weekly ideas: off"))
    assert "Alex turned the weekly ideas off" in sam.last["text"]


async def test_eye_contact_timer_tells_both_when_time_is_up(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/eyes"))
    assert "Eye contact, 2 minutes" in sam.last["text"]
    await bot.send(sam.button("Start"))
    assert count(alex, "Started") == count(sam, "Started") == 1
    await bot.send(alex.button("Start"))  # double tap
    assert "already running" in alex.last["text"]
    bot.clock.advance(minutes=1, seconds=59)
    await run_tick(bot.app)
    assert count(alex, "Time. How was that?") == 0
    bot.clock.advance(seconds=1)
    await run_tick(bot.app)
    await run_tick(bot.app)
    assert count(alex, "Time. How was that?") == count(sam, "Time. How was that?") == 1
    for wrong in ("/eyes 0", "/eyes 5", "/eyes ten"):
        await bot.send(alex.text(wrong))
        assert "/eyes 1 to /eyes 4" in alex.last["text"]
    await bot.send(alex.text("/eyes 4"))
    assert "Eye contact, 4 minutes" in alex.last["text"]


async def take_quiz(bot: Harness, person: FakeUser, choice: str) -> None:
    await bot.send(person.text("/languages"))
    for _ in range(15):
        await bot.send(person.button(choice, person.last_with_buttons()))


async def test_love_languages_results_come_only_when_both_have_finished(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await take_quiz(bot, alex, "A")
    assert "as soon as Sam finishes" in alex.last["text"]
    assert "Alex finished the love-languages quiz" in sam.last["text"]
    assert count(alex, "results are in") == 0
    await bot.send(alex.text("/languages"))
    assert "finished the quiz" in alex.last["text"]
    await take_quiz(bot, sam, "B")
    assert count(alex, "results are in") == count(sam, "results are in") == 1
    result = alex.last["text"]
    assert "You feel most loved through:" in result and "Sam feels most loved through:" in result
    assert "A few ways to show Sam love" in result


async def test_quiz_double_tap_is_harmless(bot: Harness) -> None:
    alex, _ = await paired(bot)
    await bot.send(alex.text("/languages"))
    first = alex.last_with_buttons()
    await bot.send(alex.button("A", first))
    await bot.send(alex.button("B", first))
    assert "already answered" in alex.last["text"]


async def test_date_ideas_and_we_did_it(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/date"))
    idea = alex.last["text"]
    assert "An idea for you two" in idea
    await bot.send(alex.button("We did it"))
    assert "1 so far" in alex.last["text"]
    assert "Alex marked a date as done" in sam.last["text"]
    await bot.send(alex.button("We did it", alex.inbox[-2]))
    assert "already on your list" in alex.last["text"]
    await bot.send(sam.text("/dates"))
    assert idea.split("\n", 1)[1] in sam.last["text"]
    await bot.send(alex.button("Another idea", alex.inbox[-3]))
    assert "An idea for you two" in alex.last["text"]


async def test_date_ideas_fit_the_season_where_the_couple_lives(bot: Harness) -> None:
    alex, _ = await paired(bot)
    practices = bot.deps.practices
    bot.clock.set(at(15, 12, month=7))  # July: summer in Berlin, winter in Sydney
    for zone, season, other in (
        ("Europe/Berlin", "summer", "winter"),
        ("Australia/Sydney", "winter", "summer"),
    ):
        await bot.send(alex.text(f"/timezone {zone}"))
        for _ in range(12):
            await bot.send(alex.text("/date"))
            text = alex.last["text"].split("\n", 1)[1]
            idea = next(d for d in practices.dates if d.text == text)
            assert other not in idea.tags or season in idea.tags, (zone, idea)


def test_content_counts_include_the_practices() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    dates = next(line for line in result.stdout.splitlines() if line.startswith("dates:"))
    assert int(dates.split("total ")[1].split(",")[0]) >= 100
    assert "'free': " in dates and "'at_home': " in dates
    assert "quiz_items 15" in result.stdout
