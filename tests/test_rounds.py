"""Question rounds, answers and the reveal, as the two partners experience them."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.db.models import Answer, Reveal
from tests.fakegram import FakeUser
from tests.support import Harness
from tests.test_pairing import paired


def question_message(person: FakeUser) -> dict:
    """The newest question delivered to this person (it has an Answer button)."""
    for message in reversed(person.inbox):
        labels = [
            b["text"]
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        ]
        if "Answer" in labels:
            return message
    raise AssertionError(f"{person.first_name} has no question")


def question_text(message: dict) -> str:
    return message["text"].split("\n\n")[1]


def reveals_to(person: FakeUser, answer: str) -> int:
    return sum(answer in t for t in person.texts)


async def test_question_goes_to_both_with_an_answer_button(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    qa, qs = question_message(alex), question_message(sam)
    assert question_text(qa) == question_text(qs)
    assert qa["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("ans:")


async def test_answer_then_reveal_each_sees_the_other_once(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    await bot.send(alex.text("Your laugh in the morning", reply_to=question_message(alex)))
    assert "Saved" in alex.last["text"]
    # Sam's inbox holds no trace of Alex's answer before Sam answers.
    assert reveals_to(sam, "Your laugh in the morning") == 0
    assert "Alex answered; answer to see theirs" in sam.last["text"]
    # Sam answers through the Answer button and the next message.
    await bot.send(sam.button("Answer"))
    assert "next message" in sam.last["text"]
    await bot.send(sam.text("The way you listen"))
    assert reveals_to(sam, "Your laugh in the morning") == 1
    assert reveals_to(alex, "The way you listen") == 1
    assert "Sam's answer" in alex.last["text"] and "Alex's answer" in sam.last["text"]
    assert reveals_to(alex, "Your laugh in the morning") == 0  # nobody is sent their own


async def test_answering_again_before_the_reveal_replaces_and_says_so(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    q = question_message(alex)
    await bot.send(alex.text("first thought", reply_to=q))
    await bot.send(alex.text("better thought", reply_to=q))
    assert "replaces your earlier answer" in alex.last["text"]
    assert sum("answered; answer to see theirs" in t for t in sam.texts) == 1  # one nudge only
    await bot.send(sam.text("mine", reply_to=question_message(sam)))
    assert reveals_to(sam, "better thought") == 1 and reveals_to(sam, "first thought") == 0


async def test_editing_the_answer_message_changes_it_until_the_reveal(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    sent = alex.text("draft", reply_to=question_message(alex))
    await bot.send(sent)
    await bot.send(alex.edit(sent, "edited answer"))
    assert "edit is saved" in alex.last["text"]
    await bot.send(sam.text("mine", reply_to=question_message(sam)))
    assert reveals_to(sam, "edited answer") == 1
    # After the reveal answers are final, by edit or by answering again.
    await bot.send(alex.edit(sent, "too late"))
    assert "final" in alex.last["text"]
    await bot.send(alex.text("again", reply_to=question_message(alex)))
    assert "final" in alex.last["text"]
    assert reveals_to(sam, "too late") == 0 and reveals_to(sam, "again") == 0


@pytest.mark.parametrize("attempt", range(5))
async def test_concurrent_answers_reveal_exactly_once_to_each(bot: Harness, attempt: int) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    qa, qs = question_message(alex), question_message(sam)
    await asyncio.wait_for(
        asyncio.gather(
            bot.send(alex.text(f"alex-{attempt}", reply_to=qa)),
            bot.send(sam.text(f"sam-{attempt}", reply_to=qs)),
        ),
        30,
    )
    assert reveals_to(alex, f"sam-{attempt}") == 1
    assert reveals_to(sam, f"alex-{attempt}") == 1
    async with bot.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Reveal)) == 2
        assert await s.scalar(select(func.count()).select_from(Answer)) == 2


async def test_another_couples_round_is_refused_politely(bot: Harness) -> None:
    alex, sam = await paired(bot)
    kim, _lee = await paired(bot, ("Kim", "Lee"))
    await bot.send(alex.text("/question"))
    forged = question_message(alex)["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await bot.send(kim.press(kim.last, forged))
    assert "couldn't find that question" in kim.last["text"]
    round_id = forged.split(":")[1]
    await bot.send(kim.press(kim.last, f"take:{round_id}"))
    assert "Saved" not in kim.last["text"]
    # Replying to Alex's question message id from Kim's chat finds nothing either.
    await bot.send(kim.text("sneaky", reply_to=question_message(alex)))
    assert not any("sneaky" in t for t in alex.texts + sam.texts)
    assert "Saved" not in kim.last["text"]


async def test_a_long_reveal_is_split_never_cut(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    long_answer = " ".join(f"word{i}" for i in range(800))  # about 6,000 characters
    await bot.send(alex.text(long_answer, reply_to=question_message(alex)))
    before = len(sam.inbox)
    await bot.send(sam.text("short", reply_to=question_message(sam)))
    pieces = [m["text"] for m in sam.inbox[before:] if "short" not in m.get("text", "x")]
    assert len(pieces) >= 2 and all(len(p) <= 4096 for p in pieces)
    joined = " ".join(pieces)
    assert all(f"word{i}" in joined.split() for i in range(800))


async def test_a_voice_answer_is_revealed_by_copying_it(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    voice = alex.voice("voice-abc", reply_to=question_message(alex))
    await bot.send(voice)
    assert "Saved" in alex.last["text"]
    assert not bot.tg.calls("copyMessage")
    await bot.send(sam.text("in words", reply_to=question_message(sam)))
    copy = bot.tg.calls("copyMessage")[-1]
    assert copy["chat_id"] == sam.id and copy["from_chat_id"] == alex.id
    assert copy["message_id"] == voice["message"]["message_id"]
    assert sam.last["voice"]["file_id"] == "voice-abc"
    assert reveals_to(alex, "in words") == 1


async def test_a_plain_message_gets_a_hint_or_an_offer(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("hello?"))
    assert "reply to it" in alex.last["text"]  # nothing open: a hint
    await bot.send(alex.text("/question"))
    await bot.send(alex.text("my answer without replying"))
    assert "Is this your answer" in alex.last["text"]
    assert reveals_to(sam, "my answer without replying") == 0
    async with bot.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Answer)) == 0  # never silently
    await bot.send(alex.button("my answer"))
    assert "Saved" in alex.last["text"]
    await bot.send(sam.text("ok", reply_to=question_message(sam)))
    assert reveals_to(sam, "my answer without replying") == 1


async def test_a_sticker_gets_a_hint(bot: Harness) -> None:
    alex, _ = await paired(bot)
    await bot.send(alex.text("/question"))
    await bot.send(
        alex.message(
            None,
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        )
    )
    assert "text, voice messages, photos and video notes" in alex.last["text"]


async def test_unpaired_people_are_told_to_pair_first(bot: Harness) -> None:
    solo = bot.tg.person("Solo")
    for command in ("/question", "/add Hi?", "/jar", "/history"):
        await bot.send(solo.text(command))
        assert "not paired yet" in solo.last["text"], command


async def test_add_tells_the_partner_but_not_the_text(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/add What would your perfect Sunday look like?"))
    assert "In the jar" in alex.last["text"]
    assert "Alex dropped a new question" in sam.last["text"]
    assert not any("perfect Sunday" in t for t in sam.texts)
    await bot.send(sam.text("/add"))
    assert "next message" in sam.last["text"]
    await bot.send(sam.text("Which song takes you back to being fifteen?"))
    assert "In the jar! 2 waiting" in sam.last["text"]
    assert not any("fifteen" in t for t in alex.texts)
    await bot.send(alex.text("/jar"))
    assert "2 questions waiting" in alex.last["text"]
    assert "Added by you: 1. Added by Sam: 1." in alex.last["text"]
    assert "Sunday" not in alex.last["text"]


async def test_add_refuses_empty_and_too_long_slips(bot: Harness) -> None:
    alex, _ = await paired(bot)
    await bot.send(alex.text("/add " + "x" * 301))
    assert "301 characters" in alex.last["text"]
    await bot.send(alex.text("/add"))
    await bot.send(alex.text("   "))
    assert "empty" in alex.last["text"]
    await bot.send(alex.text("/jar"))
    assert "0 questions waiting" in alex.last["text"]


async def test_question_draws_from_the_jar_first_each_slip_once(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/add What smell reminds you of home?"))
    await bot.send(sam.text("/add Which teacher shaped you most?"))
    drawn = []
    for _ in range(2):
        await bot.send(alex.text("/question"))
        message = question_message(sam)
        assert "From your jar" in message["text"]
        drawn.append(question_text(message))
    assert sorted(drawn) == ["What smell reminds you of home?", "Which teacher shaped you most?"]
    await bot.send(alex.text("/question"))  # the jar is empty: the library
    assert "A question for you both" in question_message(sam)["text"]
    await bot.send(alex.text("/jar"))
    assert "0 questions waiting" in alex.last["text"]


async def test_library_questions_do_not_repeat(bot: Harness) -> None:
    alex, _ = await paired(bot)
    seen = set()
    for _ in range(15):
        await bot.send(alex.text("/question"))
        seen.add(question_text(question_message(alex)))
    assert len(seen) == 15


async def test_history_shows_revealed_answers_and_hides_open_ones(bot: Harness) -> None:
    alex, sam = await paired(bot)
    await bot.send(alex.text("/question"))
    await bot.send(alex.text("alex one", reply_to=question_message(alex)))
    await bot.send(sam.text("sam one", reply_to=question_message(sam)))
    await bot.send(alex.text("/question"))
    await bot.send(sam.text("sam two", reply_to=question_message(sam)))
    await bot.send(alex.text("/history"))
    page = alex.last["text"]
    assert "alex one" in page and "sam one" in page
    assert "sam two" not in page and "(waiting for Sam)" in page
    assert "(not answered)" in page
    await bot.send(sam.text("/history"))
    page = sam.last["text"]
    assert "sam two" in page and "(waiting for Alex)" in page
    assert page.index("sam two") < page.index("sam one")  # newest first


async def test_history_pages_with_buttons(bot: Harness) -> None:
    alex, _ = await paired(bot)
    for _ in range(7):
        await bot.send(alex.text("/question"))
    await bot.send(alex.text("/history"))
    assert "1-5 of 7" in alex.last["text"]
    await bot.send(alex.button("Older"))
    assert "6-7 of 7" in alex.last["text"]
    await bot.send(alex.button("Newer"))
    assert "1-5 of 7" in alex.last["text"]
