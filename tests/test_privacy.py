"""Privacy: encrypted at rest, no text in logs, export, forget; updates handled once."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from bot.db import crypto
from bot.db.models import Answer, Appreciation, Invite, JarSlip, Memory, Person
from bot.telegram.scheduler import run_tick
from tests.conftest import TEST_DATABASE_URL
from tests.support import ENCRYPTION_KEY, Harness
from tests.test_pairing import paired
from tests.test_rounds import question_message

SECRET_ANSWER = "I have never told anyone about the lighthouse"
SECRET_SLIP = "What do you miss most about your grandmother's kitchen?"


async def full_scenario(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text(f"/add {SECRET_SLIP}"))
    await bot.send(sam.text("/question"))
    await bot.send(alex.text(SECRET_ANSWER, reply_to=question_message(alex)))
    await bot.send(sam.text("Sam's private reply", reply_to=question_message(sam)))
    await bot.send(alex.text("/history"))
    await bot.send(alex.text("/export"))


async def test_answers_and_slips_are_encrypted_at_rest(bot: Harness, db_url: str) -> None:
    await full_scenario(bot)
    if TEST_DATABASE_URL:
        rows = []
        async with bot.db.transaction() as s:
            for table in ("answers", "jar_slips"):
                rows += (await s.execute(text(f"SELECT * FROM {table}"))).all()
        dump = " ".join(str(row) for row in rows)
    else:
        await bot.db.dispose()  # flush the WAL so the file holds everything
        path = db_url.split("///", 1)[1]
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(FULL)")
        raw = Path(path).read_bytes()  # noqa: ASYNC240 - a test reading the file once
        dump = raw.decode("utf-8", "replace")
    assert "lighthouse" not in dump and "grandmother" not in dump
    assert "gAAAAA" in dump  # Fernet tokens are there instead


async def test_no_question_answer_or_slip_text_in_logs(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await full_scenario(bot)
    logged = "\n".join(r.getMessage() + str(r.args) + str(r.exc_info) for r in caplog.records)
    assert logged  # the capture works: there are records
    for secret in ("lighthouse", "grandmother", "Sam's private reply"):
        assert secret not in logged


async def test_export_has_own_answers_and_only_revealed_partner_answers(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(sam.text("/question"))
    await bot.send(alex.text("alex revealed", reply_to=question_message(alex)))
    await bot.send(sam.text("sam revealed", reply_to=question_message(sam)))
    await bot.send(sam.text("/question"))
    await bot.send(sam.text("sam still hidden", reply_to=question_message(sam)))
    await bot.send(alex.text("/export"))
    document = bot.tg.calls("sendDocument")[-1]["document"]
    data = json.loads(document.input_file_content)
    rounds = data["couples"][0]["rounds"]
    assert data["profile"]["first_name"] == "Alex"
    assert rounds[0]["your_answer"]["text"] == "alex revealed"
    assert rounds[0]["partner_answer"]["text"] == "sam revealed"
    assert rounds[1]["partner_answer"] is None  # not revealed to Alex
    assert "sam still hidden" not in document.input_file_content.decode()
    assert data["couples"][0]["settings"]["evening_time"] == "20:00"
    assert data["appreciations_you_wrote"] == [] and data["memories_you_saved"] == []


async def test_forget_deletes_the_person_and_tells_the_partner(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    await bot.send(alex.text("/add A slip that was never drawn?"))
    await bot.send(alex.text("my secret", reply_to=question_message(alex)))
    await bot.send(sam.text("sam's answer", reply_to=question_message(sam)))
    await bot.send(alex.text("/thanks for the tea"))
    await bot.send(alex.text("/memory 2020-05-01 The picnic in the rain"))
    bot.clock.set(dt.datetime(2027, 5, 1, 20, 0, tzinfo=dt.UTC))  # its anniversary evening
    await run_tick(bot.app)
    await bot.send(alex.text("/forget"))
    assert "What stays" in alex.last["text"]
    await bot.send(alex.button("Yes, delete"))
    assert "your data is deleted" in alex.last["text"]
    assert "Alex deleted their data" in sam.last["text"]
    async with bot.db.transaction() as s:
        people = {p.first_name: p for p in await s.scalars(select(Person))}
        assert "Alex" not in people and "Former partner" in people
        gone = people["Former partner"]
        assert gone.telegram_id != alex.id and gone.couple_id is None
        assert await s.scalar(select(func.count()).where(Answer.person_id == gone.id)) == 0
        assert await s.scalar(select(func.count()).where(JarSlip.author_id == gone.id)) == 0
        assert await s.scalar(select(func.count()).select_from(Invite)) == 0
        assert await s.scalar(select(func.count()).select_from(Appreciation)) == 0
        assert await s.scalar(select(func.count()).select_from(Memory)) == 0
        # Sam's own answer stays.
        assert await s.scalar(select(func.count()).select_from(Answer)) == 1
    await bot.send(alex.text("/start"))  # Alex can come back fresh
    assert "Hi Alex" in alex.last["text"]


async def test_forget_no_keeps_everything(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/forget"))
    await bot.send(alex.button("No"))
    assert "Nothing was deleted" in alex.last["text"]
    await bot.send(sam.text("/status"))
    assert "paired with Alex" in sam.last["text"]


async def test_an_update_delivered_twice_is_handled_once(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    update = alex.text("only once", reply_to=question_message(alex))
    await bot.send(update)
    before = (len(alex.inbox), len(sam.inbox))
    await bot.send(update)
    assert (len(alex.inbox), len(sam.inbox)) == before


async def test_keys_rotate_and_rekey_rewrites_old_rows(bot: Harness) -> None:
    alex, _sam = await paired(bot)
    await bot.send(alex.text("/add A question under the old key?"))
    new_key = Fernet.generate_key().decode()
    crypto.configure([new_key, ENCRYPTION_KEY])
    try:
        assert await crypto.rekey(bot.db.engine) == 1
        crypto.configure([new_key])  # the old key is gone: rows still read
        async with bot.db.transaction() as s:
            slip = await s.scalar(select(JarSlip))
        assert slip is not None and slip.text == "A question under the old key?"
    finally:
        crypto.configure([ENCRYPTION_KEY])


def test_a_key_file_is_created_beside_sqlite_readable_only_by_its_owner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support import make_settings

    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}", encryption_keys=None)
    keys = crypto.load_keys(settings)
    key_file = tmp_path / "b.sqlite3.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
    assert crypto.load_keys(settings) == keys  # the same key next time
    crypto.configure(keys)
    crypto.configure([ENCRYPTION_KEY])


def test_postgresql_without_a_key_refuses_to_start() -> None:
    from tests.support import make_settings

    settings = make_settings("postgresql+asyncpg://x@127.0.0.1/y", encryption_keys=None)
    with pytest.raises(crypto.KeyProblem, match="ENCRYPTION_KEYS"):
        crypto.load_keys(settings)


async def test_groups_are_told_once(bot: Harness) -> None:
    alex = bot.tg.person("Alex")
    for _ in range(3):
        update = alex.text("/question")
        update["message"]["chat"] = {"id": -100777, "type": "supergroup", "title": "Friends"}
        await bot.send(update)
    assert len(bot.tg.inbox(-100777)) == 1


async def test_wrong_codes_are_throttled_for_a_while(bot: Harness) -> None:
    alex, sam = bot.tg.person("Alex"), bot.tg.person("Sam")
    for i in range(5):
        await bot.send(sam.text(f"/pair wrongcode{i:04d}xx"))
        assert "don't know that invite code" in sam.last["text"]
    from tests.test_pairing import invite_code

    code = await invite_code(bot, alex)
    await bot.send(sam.text(f"/pair {code}"))
    assert "wrong codes" in sam.last["text"]  # even the right one waits
    bot.clock.advance(minutes=16)
    await bot.send(sam.text(f"/pair {code}"))
    assert "paired with Alex" in sam.last["text"]
