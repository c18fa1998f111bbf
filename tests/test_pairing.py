"""Pairing, as two people experience it through the fake Bot API."""

from __future__ import annotations

import copy
import re

from sqlalchemy import func, select

from bot.db.models import Couple, Invite, Person
from tests.fakegram import FakeUser
from tests.support import Harness

LINK = re.compile(r"https://t\.me/twentyminutes_bot\?start=([A-Za-z0-9_-]+)")


async def invite_code(bot: Harness, person: FakeUser) -> str:
    await bot.send(person.text("/pair"))
    match = LINK.search(person.last["text"])
    assert match, person.last["text"]
    code = match.group(1)
    assert f"/pair {code}" in person.last["text"]
    return code


async def paired(
    bot: Harness, names: tuple[str, str] = ("Alex", "Sam")
) -> tuple[FakeUser, FakeUser]:
    a, b = bot.tg.person(names[0]), bot.tg.person(names[1])
    code = await invite_code(bot, a)
    await bot.send(b.text(f"/start {code}"))
    return a, b


async def count(bot: Harness, model: type) -> int:
    async with bot.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_start_welcomes_and_explains_pairing(bot: Harness) -> None:
    alex = bot.tg.person("Alex")
    await bot.send(alex.text("/start"))
    assert "Hi Alex" in alex.last["text"] and "/pair" in alex.last["text"]


async def test_commands_are_registered_for_the_menu(bot: Harness) -> None:
    commands = bot.tg.calls("setMyCommands")[-1]["commands"]
    assert {"question", "pair", "help"} <= {c["command"] for c in commands}


async def test_pair_by_deep_link_tells_both_by_first_name(bot: Harness) -> None:
    alex, sam = await paired(bot)
    assert "paired with Alex" in sam.last["text"]
    assert "paired with Sam" in alex.last["text"]
    assert await count(bot, Couple) == 1


async def test_pair_by_code_command(bot: Harness) -> None:
    alex, sam = bot.tg.person("Alex"), bot.tg.person("Sam")
    code = await invite_code(bot, alex)
    await bot.send(sam.text(f"/pair {code}"))
    assert "paired with Alex" in sam.last["text"]


async def test_codes_are_long_random_and_stored_only_as_hashes(bot: Harness) -> None:
    alex = bot.tg.person("Alex")
    codes = {await invite_code(bot, alex) for _ in range(5)}
    assert len(codes) == 5 and all(len(c) >= 16 for c in codes)  # 96 bits of token_urlsafe
    async with bot.db.transaction() as s:
        stored = (await s.scalars(select(Invite.code_hash))).all()
    assert len(stored) == 1  # a new /pair replaces the old code
    assert not set(stored) & codes


async def test_new_pair_replaces_old_code(bot: Harness) -> None:
    alex, sam = bot.tg.person("Alex"), bot.tg.person("Sam")
    old = await invite_code(bot, alex)
    await invite_code(bot, alex)
    await bot.send(sam.text(f"/start {old}"))
    assert "don't know that invite code" in sam.last["text"]
    assert await count(bot, Couple) == 0


async def test_own_code_is_refused(bot: Harness) -> None:
    alex = bot.tg.person("Alex")
    code = await invite_code(bot, alex)
    await bot.send(alex.text(f"/start {code}"))
    assert "your own invite" in alex.last["text"]
    assert await count(bot, Couple) == 0


async def test_unknown_code_is_refused(bot: Harness) -> None:
    sam = bot.tg.person("Sam")
    await bot.send(sam.text("/pair notarealcode123"))
    assert "don't know that invite code" in sam.last["text"]


async def test_used_code_is_refused(bot: Harness) -> None:
    alex, sam, kim = bot.tg.person("Alex"), bot.tg.person("Sam"), bot.tg.person("Kim")
    code = await invite_code(bot, alex)
    await bot.send(sam.text(f"/start {code}"))
    await bot.send(kim.text(f"/start {code}"))
    # The invite row is gone or used: either way Kim learns it no longer works.
    assert "already been used" in kim.last["text"] or "don't know" in kim.last["text"]
    assert await count(bot, Couple) == 1


async def test_expired_code_is_refused(bot: Harness) -> None:
    alex, sam = bot.tg.person("Alex"), bot.tg.person("Sam")
    code = await invite_code(bot, alex)
    bot.clock.advance(hours=24, seconds=1)
    await bot.send(sam.text(f"/start {code}"))
    assert "expired" in sam.last["text"]
    assert await count(bot, Couple) == 0


async def test_someone_already_paired_cannot_pair_again(bot: Harness) -> None:
    alex, sam = await paired(bot)
    kim = bot.tg.person("Kim")
    code = await invite_code(bot, kim)
    await bot.send(sam.text(f"/start {code}"))
    assert "already paired with Alex" in sam.last["text"]
    await bot.send(alex.text("/pair"))
    assert "already paired with Sam" in alex.last["text"]
    assert await count(bot, Couple) == 1


async def test_invite_of_someone_who_paired_meanwhile_is_refused(bot: Harness) -> None:
    alex, sam, kim = bot.tg.person("Alex"), bot.tg.person("Sam"), bot.tg.person("Kim")
    kims_code = await invite_code(bot, kim)
    code = await invite_code(bot, alex)
    await bot.send(kim.text(f"/start {code}"))  # Kim pairs with Alex; Kim's own code dies
    await bot.send(sam.text(f"/start {kims_code}"))
    assert "don't know" in sam.last["text"] or "already paired" in sam.last["text"]
    assert await count(bot, Couple) == 1


async def test_unpair_asks_then_tells_both(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/unpair"))
    assert "End your pairing with Sam?" in alex.last["text"]
    await bot.send(alex.button("Yes"))
    assert "no longer paired" in alex.last["text"]
    assert "Alex ended your pairing" in sam.last["text"]
    async with bot.db.transaction() as s:
        couple = await s.scalar(select(Couple))
        people = (await s.scalars(select(Person))).all()
    assert couple is not None and couple.ended_at is not None  # history stays
    assert all(p.couple_id is None for p in people)


async def test_unpair_no_keeps_the_couple(bot: Harness) -> None:
    alex, _sam = await paired(bot)
    await bot.send(alex.text("/unpair"))
    await bot.send(alex.button("No"))
    assert "nothing changed" in alex.last["text"]
    await bot.send(alex.text("/status"))
    assert "paired with Sam" in alex.last["text"]


async def test_stale_unpair_button_changes_nothing(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/unpair"))
    confirm = copy.deepcopy(alex.last_with_buttons())  # as the old chat still shows it
    await bot.send(alex.button("Yes", confirm))
    code = await invite_code(bot, alex)
    await bot.send(sam.text(f"/start {code}"))  # paired again, a new couple
    await bot.send(alex.button("Yes", confirm))  # the old button
    assert "already ended" in alex.last["text"]
    await bot.send(sam.text("/status"))
    assert "paired with Alex" in sam.last["text"]


async def test_unpaired_people_get_told_to_pair(bot: Harness) -> None:
    alex = bot.tg.person("Alex")
    await bot.send(alex.text("/unpair"))
    assert "not paired yet" in alex.last["text"]


async def test_status_and_help(bot: Harness) -> None:
    alex, _ = await paired(bot)
    await bot.send(alex.text("/status"))
    assert "paired with Sam, since 02 Mar 2026" in alex.last["text"]
    assert "20:00 (UTC)" in alex.last["text"]
    await bot.send(alex.text("/help"))
    assert "/pair" in alex.last["text"] and "/unpair" in alex.last["text"]


async def test_groups_are_told_the_bot_is_private_only(bot: Harness) -> None:
    alex = bot.tg.person("Alex")
    update = alex.text("/pair")
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "Friends"}
    await bot.send(update)
    assert "only work in private chats" in bot.tg.inbox(-100123)[-1]["text"]
    assert bot.tg.inbox(alex.id) == []
    assert await count(bot, Invite) == 0
