"""Bad input (issue 7): whatever people send, the bot answers sensibly or stays silent.

Every case feeds updates through the real handlers and checks a fragment of the reply (or
that nothing was sent), that no exception escaped (Harness.send raises it), and, where
the input should change nothing, that the database is exactly as before.

Speed: these are a few hundred small cases, so they share one Application, built once
for the module with python-telegram-bot's rate limiter opened up (the cases send far more
than 30 messages a second, which is not what they test). Each case still gets its own
database, fake Telegram and clock, as the `bot` fixture of conftest.py gives; a case that
starts from a paired couple gets a copy of a database in which `paired()` made one.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import itertools
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, inspect, select, text
from telegram.ext import AIORateLimiter

import bot.telegram.app as app_module
from bot.content import Libraries
from bot.db.engine import Database
from bot.db.models import (
    Answer,
    Base,
    Couple,
    Delivery,
    Invite,
    JarSlip,
    Person,
    Reveal,
    Round,
    RoundMessage,
)
from bot.telegram.app import build_application
from bot.telegram.scheduler import run_tick
from tests.fakegram import BOT_USER, FakeRequest, FakeTelegram, FakeUser
from tests.support import FakeClock, Harness, make_settings
from tests.test_pairing import invite_code, paired
from tests.test_rounds import question_message

pytestmark = pytest.mark.asyncio(loop_scope="module")

START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)  # a Monday; evenings at 20:00 UTC
EVENING = dt.datetime(2026, 3, 2, 20, 0, tzinfo=dt.UTC)
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

# -- the shared Application -----------------------------------------------------------------

_load_libraries = Libraries.load


@functools.cache
def _libraries(root: Path) -> Libraries:
    return _load_libraries(root)


@dataclasses.dataclass
class Shared:
    harness: Harness
    request: FakeRequest
    folder: Path
    empty: str  # the migrated database file (SQLite)
    couple: str | None = None  # the same with Alex and Sam paired, through the real handlers
    next_update: int = 1  # the first update id not used in making `couple`
    files: itertools.count[int] = dataclasses.field(default_factory=itertools.count)

    def copy(self, template: str) -> str:
        path = self.folder / f"case{next(self.files)}.sqlite3"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"


SHARED: list[Shared] = []


async def use(bot: Harness, db: Database | None, tg: FakeTelegram | None = None) -> None:
    """Point the shared Application at another database (and fake Telegram), disposing the old."""
    old = bot.db
    if tg is not None:
        SHARED[0].request.tg = bot.tg = tg
        bot.clock, bot.errors = FakeClock(START), []
    if db is not None:
        bot.db = db
        deps = bot.app.bot_data["deps"]
        bot.app.bot_data["deps"] = dataclasses.replace(deps, db=db, clock=bot.clock)
        await old.dispose()
        path = Path(old.engine.url.database or "")
        if path.name.startswith("case") and path.parent == SHARED[0].folder:
            for leftover in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                leftover.unlink(missing_ok=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(migrated: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shared]:
    folder = tmp_path_factory.mktemp("bad_input")
    url = TEST_DATABASE_URL or f"sqlite+aiosqlite:///{folder / 'first.sqlite3'}"
    if not TEST_DATABASE_URL:
        shutil.copy(migrated, folder / "first.sqlite3")
    db = Database.from_url(url)
    request = FakeRequest(FakeTelegram())

    def unlimited(**kwargs: Any) -> AIORateLimiter:
        return AIORateLimiter(
            overall_max_rate=0, group_max_rate=0, max_retries=kwargs["max_retries"]
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(app_module, "AIORateLimiter", unlimited)
        mp.setattr(Libraries, "load", _libraries)
        app = build_application(make_settings(url), db=db, clock=FakeClock(START), request=request)
        harness = Harness(app, request.tg, FakeClock(START), db)
        await harness.start()
    SHARED[:] = [Shared(harness, request, folder, migrated)]
    if not TEST_DATABASE_URL:  # a paired couple to start from, made once
        template = folder / "couple.sqlite3"
        shutil.copy(migrated, template)
        await use(harness, Database.from_url(f"sqlite+aiosqlite:///{template}"), FakeTelegram())
        await paired(harness)
        SHARED[0].next_update = harness.tg.make_update()["update_id"]
        await use(harness, Database.from_url(url))
        SHARED[0].couple = str(template)
    yield SHARED[0]
    await harness.stop()
    await harness.db.dispose()


@pytest_asyncio.fixture(loop_scope="module")
async def bot(shared: Shared) -> AsyncIterator[Harness]:
    """The shared Application on a fresh database, fake Telegram and clock."""
    harness = shared.harness
    if TEST_DATABASE_URL:
        await use(harness, Database.from_url(TEST_DATABASE_URL), FakeTelegram())
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with harness.db.transaction() as session:
            await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        await use(harness, Database.from_url(shared.copy(shared.empty)), FakeTelegram())
    yield harness


async def couple(bot: Harness) -> tuple[FakeUser, FakeUser]:
    """Alex and Sam, paired: `paired()`, or a copy of the database it made, which is faster."""
    shared = SHARED[0]
    if shared.couple is None:
        return await paired(bot)
    alex, sam = bot.tg.person("Alex"), bot.tg.person("Sam")  # the ids the template has
    assert bot.tg.make_update()["update_id"] == 1, "couple() comes before any other update"
    while bot.tg.make_update()["update_id"] < shared.next_update:
        pass  # update ids the template has seen would be taken for redeliveries
    await use(bot, Database.from_url(shared.copy(shared.couple)))
    return alex, sam


# -- inputs -----------------------------------------------------------------------------------

HUGE = "x" * 5000
EMOJI = "👩‍❤️‍💋‍👨 🏳️‍🌈 🫶🏽 🕗"  # zero-width-joiner sequences, skin tones, variation selectors
RTL = "\u202bמה שלומך مساء الخير\u202c Z\u0351\u0360a\u0334l\u0337g\u0338o e\u0301\u0302"
CONTROL = "\x00\x01\x07\x1b\x7f\u200b\u200d\u2060\ufeff\u202e"  # NUL, controls, invisibles
UNICODE = f"{EMOJI} {RTL} {CONTROL}"

TIME = START.timestamp()
STICKER = {
    "file_id": "s",
    "file_unique_id": "s",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}
POLL = {
    "id": "p1",
    "question": "Tea or coffee?",
    "options": [
        {"persistent_id": "1", "text": "Tea", "voter_count": 0},
        {"persistent_id": "2", "text": "Coffee", "voter_count": 0},
    ],
    "total_voter_count": 0,
    "is_closed": False,
    "is_anonymous": True,
    "type": "regular",
    "allows_multiple_answers": False,
    "allows_revoting": False,
    "members_only": False,
}
NOT_TEXT: dict[str, dict[str, Any]] = {
    "sticker": {"sticker": STICKER},
    "location": {"location": {"latitude": 52.52, "longitude": 13.405}},
    "contact": {"contact": {"phone_number": "+10000000000", "first_name": "Kim"}},
    "poll": {"poll": POLL},
    "document": {
        "document": {"file_id": "d", "file_unique_id": "d", "file_name": "notes.pdf"},
        "caption": "my notes",
    },
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
}
FORWARD_ORIGIN = {
    "type": "user",
    "date": int(TIME),
    "sender_user": {"id": 4242, "is_bot": False, "first_name": "Someone"},
}

# -- reply fragments (content/en/messages.yaml) ------------------------------------------------

PAIR_FIRST = "not paired yet"
WELCOME = "I'm Twenty Minutes"
WELCOME_BACK = "Welcome back"
INVITE = "Here's your invite"
CODE_UNKNOWN = "don't know that invite code"
ALREADY_PAIRED = "already paired with"
HELP = "Here is what I can do"
UNPAIR_ASK = "End your pairing with"
STATUS_PAIRED = "You're paired with"
QUESTION = "A question for you both"
ADD_PROMPT = "What question should go into your jar"
ADD_DONE = "In the jar!"
ADD_EMPTY = "That slip is empty"
JAR = "questions waiting"
HISTORY_EMPTY = "No questions yet"
SETTINGS = "Your settings"
NOT_PAUSED = "aren't paused"
PAUSED_WEEK = "Paused for 7 days"
PAUSE_INVALID = "number of days to pause"
TIME_USAGE = "Send the evening time"
TIME_INVALID = "couldn't read that time"
TZ_USAGE = "Send your time zone"
TZ_INVALID = "don't know that time zone"
JAR_USAGE = "Send the jar day"
JAR_INVALID = "couldn't read that. Send a weekday"
UNKNOWN_COMMAND = "don't know that command"
ROUND_UNKNOWN = "couldn't find that question"
STALE = "That button no longer works"
NOTHING_CHANGED = "othing changed"
HINT = "reply to it"
HINT_MEDIA = "I can take text, voice messages"
SAVED = "Saved"
OFFER = "Is this your answer"
PRIVATE_ONLY = "only work in private chats"
WENT_WRONG = "something went wrong"

# -- helpers ----------------------------------------------------------------------------------

STATES = ("unpaired", "paired", "mid-answer", "mid-add")


async def enter(bot: Harness, state: str) -> tuple[FakeUser, FakeUser | None]:
    """Alex in the given state, and Alex's partner if Alex has one."""
    if state == "unpaired":
        solo = bot.tg.person("Solo")
        await bot.send(solo.text("/start"))
        return solo, None
    alex, sam = await couple(bot)
    if state == "mid-answer":
        await bot.send(alex.text("/question"))
        await bot.send(alex.button("Answer", question_message(alex)))
        assert "next message" in alex.last["text"]
    elif state == "mid-add":
        await bot.send(alex.text("/add"))
        assert ADD_PROMPT in alex.last["text"]
    return alex, sam


async def evening(bot: Harness) -> tuple[FakeUser, FakeUser, dict[str, Any]]:
    """A couple with tonight's starter (Start our 20 minutes, Another one, Answer)."""
    alex, sam = await couple(bot)
    bot.clock.set(EVENING)
    await run_tick(bot.app)
    message = copy.deepcopy(question_message(alex))
    assert "Tonight's conversation starter" in message["text"]
    return alex, sam, message


def data_of(message: dict[str, Any], prefix: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b.get("callback_data", "").startswith(prefix):
                return str(b["callback_data"])
    raise AssertionError(f"no {prefix} button")


async def replies(bot: Harness, person: FakeUser, *updates: dict[str, Any]) -> list[str]:
    """Send the updates; what the person was sent in return (checked for sanity)."""
    before = len(person.inbox)
    try:
        await bot.send(*updates)
    except Exception as exc:  # the bot's log has the traceback; a short report is enough here
        raise AssertionError(f"{type(exc).__name__} escaped: {exc}") from None
    new = person.texts[before:]
    assert all(len(t) <= 4096 for t in new), "a message longer than Telegram allows"
    assert not any(WENT_WRONG in t for t in new), new
    return new


def has(texts: list[str], *fragments: str) -> bool:
    return any(f in t for t in texts for f in fragments)


async def count(bot: Harness, model: type) -> int:
    async with bot.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


SNAPSHOT = (Person, Couple, Invite, JarSlip, Round, Answer, Reveal, RoundMessage, Delivery)


async def snapshot(bot: Harness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables that hold what people did (not the bookkeeping ones)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with bot.db.transaction() as s:
        for model in SNAPSHOT:
            attrs = [a.key for a in inspect(model).column_attrs]
            found = await s.scalars(select(model).order_by(*model.__table__.primary_key))
            rows[model.__name__] = [tuple(getattr(r, a) for a in attrs) for r in found]
    return rows


def answered(bot: Harness, update: dict[str, Any]) -> bool:
    """Whether the callback query was answered (the button's spinner stops)."""
    query_id = update["callback_query"]["id"]
    return any(c.get("callback_query_id") == query_id for c in bot.tg.calls("answerCallbackQuery"))


# == 1. Commands with missing, malformed, huge and unicode-heavy arguments ======================

ARG_COMMANDS = ("start", "pair", "add", "time", "timezone", "jarday", "pause")
PLAIN_COMMANDS = ("unpair", "status", "help", "question", "jar", "history", "resume", "settings")
MALFORMED = {
    "start": "not a code!",
    "pair": "not a code!",
    "add": "?" * 301,
    "time": "25:61",
    "timezone": "Mars/Olympus_Mons",
    "jarday": "someday",
    "pause": "-3",
}
HUGE_ARG = {"pause": "9" * 5000, "timezone": "UTC+" + "9" * 4996, "time": "2" * 2500 + ":30"}
ARG_KINDS = ("missing", "malformed", "huge", "emoji", "rtl", "control")


def argument(command: str, kind: str) -> str:
    return {
        "missing": "",
        "malformed": MALFORMED.get(command, ""),
        "huge": HUGE_ARG.get(command, HUGE),
        "emoji": EMOJI,
        "rtl": RTL,
        "control": CONTROL,
        "unicode": UNICODE,
    }[kind]


def expected(command: str, kind: str, state: str) -> tuple[str, bool]:
    """The fragment of the reply, and whether the partner is told something too."""
    missing = kind == "missing"
    if command == "help":
        return HELP, False
    if state == "unpaired":
        if command == "start":
            return (WELCOME if missing else CODE_UNKNOWN), False
        if command == "pair":
            return (INVITE if missing else CODE_UNKNOWN), False
        usage = {"time": TIME_USAGE, "timezone": TZ_USAGE, "jarday": JAR_USAGE}
        if missing and command in usage:
            return usage[command], False
        return PAIR_FIRST, False
    if command == "start":
        return (WELCOME_BACK if missing else ALREADY_PAIRED), False
    if command == "add":
        if missing:
            return ADD_PROMPT, False
        if kind in ("malformed", "huge"):
            return f"{len(argument(command, kind))} characters", False
        if kind == "control":
            return ADD_EMPTY, False
        return ADD_DONE, True
    if command in ("time", "timezone", "jarday", "pause"):
        fragments = {
            "time": (TIME_USAGE, TIME_INVALID),
            "timezone": (TZ_USAGE, TZ_INVALID),
            "jarday": (JAR_USAGE, JAR_INVALID),
            "pause": (PAUSED_WEEK, PAUSE_INVALID),
        }[command]
        return (fragments[0] if missing else fragments[1]), command == "pause" and missing
    return {
        "pair": ALREADY_PAIRED,
        "unpair": UNPAIR_ASK,
        "status": STATUS_PAIRED,
        "question": QUESTION,
        "jar": JAR,
        "history": HISTORY_EMPTY,
        "resume": NOT_PAUSED,
        "settings": SETTINGS,
    }[command], command == "question"


COMMAND_CASES = [
    pytest.param(
        state,
        command,
        kind,
        id=f"{state}-{command}-{kind}",
    )
    for state in ("unpaired", "paired")
    for command in ARG_COMMANDS + PLAIN_COMMANDS
    for kind in (ARG_KINDS if command in ARG_COMMANDS else ("missing", "huge", "unicode"))
]


@pytest.mark.parametrize(("state", "command", "kind"), COMMAND_CASES)
async def test_command_arguments(bot: Harness, state: str, command: str, kind: str) -> None:
    me, partner = await enter(bot, state)
    heard = len(partner.inbox) if partner else 0
    arg = argument(command, kind)
    fragment, partner_told = expected(command, kind, state)
    got = await replies(bot, me, me.text(f"/{command} {arg}".rstrip(" ")))
    assert has(got, fragment), got
    if partner is not None:
        assert (len(partner.inbox) > heard) == partner_told, partner.texts[heard:]
    if command == "add" and not has(got, ADD_DONE):
        assert await count(bot, JarSlip) == 0


@pytest.mark.parametrize(
    ("state", "command", "fragments"),
    [
        pytest.param("paired", "/pause ²", (PAUSE_INVALID,)),
        ("paired", "/pause ３", ("Paused for 3 days", PAUSE_INVALID)),
        ("paired", "/pause 7 days", ("Paused for 7 days", PAUSE_INVALID)),
        ("paired", "/pause 0", (PAUSE_INVALID,)),
        ("paired", "/pause 366", (PAUSE_INVALID,)),
        ("paired", "/time ٢٠:٣٠", ("20:30", TIME_INVALID)),
        ("paired", "/time ²⁰:³⁰", (TIME_INVALID,)),
        ("paired", "/time 7:05", ("07:05",)),
        ("paired", "/time 24:00", (TIME_INVALID,)),
        ("paired", "/time 20:30:15", (TIME_INVALID,)),
        ("paired", "/timezone  europe/BERLIN ", ("Europe/Berlin",)),
        ("paired", "/timezone new york", (TZ_INVALID, "America/New_York")),
        ("paired", "/timezone America/New York", ("America/New_York",)),
        ("paired", "/timezone GMT-3", ("UTC-03:00",)),
        ("paired", "/timezone +0545", ("UTC+05:45",)),
        ("paired", "/timezone UTC+15", (TZ_INVALID,)),
        ("paired", "/timezone Europe", (TZ_INVALID,)),
        ("paired", "/timezone ../../etc/passwd", (TZ_INVALID,)),
        ("paired", "/jarday SUNDAY", ("sunday",)),
        ("paired", "/jarday Off", ("no more jar draws",)),
        ("paired", "/STATUS", (STATUS_PAIRED,)),
        ("paired", "/status@twentyminutes_bot", (STATUS_PAIRED,)),
        ("paired", "/status@some_other_bot", (UNKNOWN_COMMAND,)),
        ("paired", "/add {partner} %s {0} {{", (ADD_DONE,)),
        ("unpaired", "/start@twentyminutes_bot", (WELCOME,)),
        ("unpaired", "/nosuchcommand", (UNKNOWN_COMMAND,)),
        ("unpaired", "/" + "x" * 5000, (UNKNOWN_COMMAND,)),
        ("unpaired", "/🙂", (UNKNOWN_COMMAND,)),
        ("unpaired", "/", (UNKNOWN_COMMAND, PAIR_FIRST, HINT)),
        ("unpaired", "/pair " + "A" * 64, (CODE_UNKNOWN,)),
        ("unpaired", "/start\u00a0abcdefghijkl", (CODE_UNKNOWN,)),
    ],
)
async def test_odd_commands(bot: Harness, state: str, command: str, fragments: tuple[str]) -> None:
    me, _ = await enter(bot, state)
    got = await replies(bot, me, me.text(command))
    assert has(got, *fragments), got


@pytest.mark.parametrize("where", ["slip", "answer"])
async def test_nul_in_text_is_not_stored(bot: Harness, where: str) -> None:
    alex, sam = await enter(bot, "mid-add" if where == "slip" else "mid-answer")
    got = await replies(bot, alex, alex.text("What\x00 now?"))
    assert has(got, ADD_DONE, SAVED), got
    if where == "slip":
        await bot.send(alex.text("/question"))  # draws the slip from the jar
        shown = question_message(sam)["text"]
    else:
        await bot.send(sam.text("mine", reply_to=question_message(sam)))
        shown = sam.last["text"]
    assert "now?" in shown and "\x00" not in shown


@pytest.mark.parametrize(
    "answer", [EMOJI, RTL, "{partner} %s {0} {{}}"], ids=["emoji", "rtl", "braces"]
)
async def test_unicode_answers_are_revealed_exactly(bot: Harness, answer: str) -> None:
    alex, sam = await enter(bot, "mid-answer")
    assert has(await replies(bot, alex, alex.text(answer)), SAVED)
    await bot.send(sam.text("mine", reply_to=question_message(sam)))
    assert sum(answer in t for t in sam.texts) == 1


async def test_unicode_first_names_are_shown_as_they_are(bot: Harness) -> None:
    name = "\u202e👩‍❤️‍👨 {partner} %s"
    _, sam = await paired(bot, (name, "Sam"))
    assert f"paired with {name}" in sam.last["text"]
    await bot.send(sam.text("/status"))
    assert name in sam.last["text"]


# == 2. Stickers, locations, contacts, polls, documents, dice, forwards, edits, in every state ===


MESSAGE_KINDS = (*NOT_TEXT, "forwarded", "edited")


def message_kind(person: FakeUser, kind: str) -> dict[str, Any]:
    if kind == "forwarded":
        return person.message("Look what I found", forward_origin=FORWARD_ORIGIN)
    if kind == "edited":
        return person.edit(person.text("an old message"), "an old message, edited")
    return person.message(None, **NOT_TEXT[kind])


def message_expectation(kind: str, state: str) -> str | None:
    """The reply's fragment; None for a deliberate silence."""
    if kind == "edited":
        return None  # an edit of a message that was not an answer changes nothing
    if kind == "forwarded":
        return {"unpaired": PAIR_FIRST, "paired": HINT, "mid-answer": SAVED, "mid-add": ADD_DONE}[
            state
        ]
    return {
        "unpaired": PAIR_FIRST,
        "paired": HINT_MEDIA,
        "mid-answer": HINT_MEDIA,
        "mid-add": ADD_PROMPT,
    }[state]


@pytest.mark.parametrize(
    ("state", "kind"),
    [
        pytest.param(
            state,
            kind,
            id=f"{state}-{kind}",
        )
        for state in STATES
        for kind in MESSAGE_KINDS
    ],
)
async def test_messages_that_are_not_plain_text(bot: Harness, state: str, kind: str) -> None:
    me, partner = await enter(bot, state)
    heard = len(partner.inbox) if partner else 0
    fragment = message_expectation(kind, state)
    before = len(me.inbox)
    got = await replies(bot, me, message_kind(me, kind))
    if fragment is None:
        assert len(me.inbox) == before, got
    else:
        assert has(got, fragment), got
    if fragment not in (SAVED, ADD_DONE) and partner is not None:
        assert len(partner.inbox) == heard, partner.texts[heard:]
    if kind != "forwarded":
        assert await count(bot, Answer) == 0
        assert await count(bot, JarSlip) == 0
        # No harm done: the message Alex was asked for is still taken as what it was for.
        if state == "mid-answer":
            assert has(await replies(bot, me, me.text("my real answer")), SAVED)
        elif state == "mid-add":
            assert has(await replies(bot, me, me.text("My real question?")), ADD_DONE)


@pytest.mark.parametrize(
    ("command", "edited", "model"),
    [
        pytest.param("/add Whta did you dream?", "/add What did you dream?", JarSlip),
        pytest.param("/question", "/question please", Round),
    ],
    ids=["add", "question"],
)
async def test_an_edited_command_is_not_run_again(
    bot: Harness, command: str, edited: str, model: type
) -> None:
    alex, sam = await couple(bot)
    sent = alex.text(command)
    await bot.send(sent)
    heard = len(sam.inbox)
    await replies(bot, alex, alex.edit(sent, edited))
    assert await count(bot, model) == 1
    assert len(sam.inbox) == heard


async def test_an_answer_in_progress_ends_with_the_couple(bot: Harness) -> None:
    alex, _ = await enter(bot, "mid-answer")
    await bot.send(alex.text("/unpair"))
    await bot.send(alex.button("Yes"))
    got = await replies(bot, alex, alex.text("hello?"))
    assert has(got, PAIR_FIRST), got
    kim = bot.tg.person("Kim")
    await bot.send(alex.text(f"/pair {await invite_code(bot, kim)}"))
    await bot.send(alex.text("/question"))
    got = await replies(bot, alex, alex.text("an answer, not replying"))
    assert has(got, OFFER) and not has(got, ROUND_UNKNOWN), got


async def test_a_slip_in_progress_ends_with_the_couple(bot: Harness) -> None:
    alex, _ = await enter(bot, "mid-add")
    await bot.send(alex.text("/unpair"))
    await bot.send(alex.button("Yes"))
    kim = bot.tg.person("Kim")
    await bot.send(alex.text(f"/pair {await invite_code(bot, kim)}"))
    got = await replies(bot, alex, alex.text("Hi Kim, nice to meet you here"))
    assert not has(got, ADD_DONE), got
    assert await count(bot, JarSlip) == 0


# == 3. Groups, supergroups and channels =======================================================

GROUP = {"id": -100123, "type": "group", "title": "Friends"}
SUPERGROUP = {"id": -1001234567890, "type": "supergroup", "title": "Family"}
CHANNEL = {"id": -1009876543210, "type": "channel", "title": "News"}


def in_chat(update: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
    key = "edited_message" if "edited_message" in update else "message"
    update[key]["chat"] = dict(chat)
    return update


def channel_post(tg: FakeTelegram, text_: str, edited: bool = False) -> dict[str, Any]:
    post = {
        "message_id": tg.next_message_id(),
        "date": int(TIME),
        "chat": dict(CHANNEL),
        "sender_chat": dict(CHANNEL),
        "text": text_,
    }
    if text_.startswith("/"):
        post["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text_.split()[0])}]
    return tg.make_update(**{"edited_channel_post" if edited else "channel_post": post})


def bot_added(tg: FakeTelegram, person: FakeUser, chat: dict[str, Any]) -> dict[str, Any]:
    return tg.make_update(
        my_chat_member={
            "chat": dict(chat),
            "from": person.user,
            "date": int(TIME),
            "old_chat_member": {"status": "left", "user": BOT_USER},
            "new_chat_member": {"status": "member", "user": BOT_USER},
        }
    )


def group_update(bot: Harness, person: FakeUser, case: str) -> tuple[dict[str, Any], int, bool]:
    """The update, the chat it happens in, and whether the private-only note is expected."""
    tg = bot.tg
    builders: dict[str, tuple[Any, dict[str, Any], bool]] = {
        "group-/pair": (lambda: person.text("/pair"), GROUP, True),
        "group-/question@bot": (lambda: person.text("/question@twentyminutes_bot"), GROUP, True),
        "group-/add": (lambda: person.text("/add What is our secret?"), GROUP, True),
        "group-text": (lambda: person.text("hello everyone"), GROUP, False),
        "group-sticker": (lambda: person.message(None, sticker=STICKER), GROUP, False),
        "group-edited-text": (lambda: person.edit(person.text("hi"), "hi all"), GROUP, False),
        "supergroup-/start-code": (
            lambda: person.text("/start abcdefghijklmnop"),
            SUPERGROUP,
            True,
        ),
        "supergroup-/timezone": (lambda: person.text("/timezone Europe/Berlin"), SUPERGROUP, True),
        "supergroup-forwarded": (
            lambda: person.message("fwd", forward_origin=FORWARD_ORIGIN),
            SUPERGROUP,
            False,
        ),
        "channel-/pair": (lambda: channel_post(tg, "/pair"), CHANNEL, False),
        "channel-text": (lambda: channel_post(tg, "news"), CHANNEL, False),
        "channel-edited": (lambda: channel_post(tg, "/help", edited=True), CHANNEL, False),
        "bot-added-to-group": (lambda: bot_added(tg, person, GROUP), GROUP, True),
        "bot-added-to-channel": (lambda: bot_added(tg, person, CHANNEL), CHANNEL, False),
    }
    build, chat, note = builders[case]
    update = build()
    if "message" in update or "edited_message" in update:
        update = in_chat(update, chat)
    return update, chat["id"], note


GROUP_CASES = (
    "group-/pair",
    "group-/question@bot",
    "group-/add",
    "group-text",
    "group-sticker",
    "group-edited-text",
    "supergroup-/start-code",
    "supergroup-/timezone",
    "supergroup-forwarded",
    "channel-/pair",
    "channel-text",
    "channel-edited",
    "bot-added-to-group",
    "bot-added-to-channel",
)


@pytest.mark.parametrize("state", ["unpaired", "paired"])
@pytest.mark.parametrize("case", GROUP_CASES)
async def test_groups_and_channels_get_only_the_private_only_note(
    bot: Harness, case: str, state: str
) -> None:
    if state == "paired":
        me, partner = await enter(bot, "paired")
    else:
        me, partner = bot.tg.person("Solo"), None
    before = await snapshot(bot)
    mine, theirs = len(me.inbox), len(partner.inbox) if partner else 0
    update, chat_id, note = group_update(bot, me, case)
    await bot.send(update)
    said = [m.get("text", "") for m in bot.tg.inbox(chat_id)]
    assert all(PRIVATE_ONLY in t for t in said), said
    assert len(said) == (1 if note else 0), said
    assert len(me.inbox) == mine and (partner is None or len(partner.inbox) == theirs)
    assert await snapshot(bot) == before


async def test_a_group_is_told_once(bot: Harness) -> None:
    alex = bot.tg.person("Alex")
    for command in ("/pair", "/help", "/question", "/start", "/settings"):
        await bot.send(in_chat(alex.text(command), GROUP))
    await bot.send(bot_added(bot.tg, alex, GROUP))
    said = [m.get("text", "") for m in bot.tg.inbox(GROUP["id"])]
    assert len(said) == 1 and PRIVATE_ONLY in said[0], said
    assert alex.inbox == [] and await count(bot, Person) == 0


# == 4. Callback queries: forged, oversized, stale, another couple's ===========================

ANY_PAGE = ("Your questions 1-", STALE)


def forged(data: str, fragments: tuple[str, ...], marks: Any = ()) -> Any:
    """A press with this data; any of the fragments is a fitting reply."""
    shown = data if len(data) <= 24 else f"{data[:12]}...({len(data.encode())} bytes)"
    return pytest.param(data, fragments, id=ascii(shown)[1:-1] or "empty", marks=marks)


FORGED: list[Any] = [
    forged("ans:abc", (STALE, ROUND_UNKNOWN)),
    forged("ans:-1", (STALE, ROUND_UNKNOWN)),
    forged("ans:0", (STALE, ROUND_UNKNOWN)),
    forged("ans:1.0", (STALE, ROUND_UNKNOWN)),
    forged("ans: 1", (STALE, ROUND_UNKNOWN)),
    forged("ans:1\x00", (STALE, ROUND_UNKNOWN)),
    forged("ans:", (STALE, ROUND_UNKNOWN)),
    forged("ans:99999999999", (STALE, ROUND_UNKNOWN)),
    forged("ans:99999999999999999999999999", (STALE, ROUND_UNKNOWN)),
    forged("ans:²", (STALE, ROUND_UNKNOWN)),
    forged("take:abc", (STALE,)),
    forged("take:-7", (STALE,)),
    forged("take:99999999999", (STALE, ROUND_UNKNOWN)),
    forged("take:²", (STALE, ROUND_UNKNOWN)),
    forged("timer:abc", (STALE,)),
    forged("timer:99999999999", (STALE, ROUND_UNKNOWN)),
    forged("timer:²", (STALE, ROUND_UNKNOWN)),
    forged("swap:xyz", (STALE,)),
    forged("swap:-2", (STALE,)),
    forged("swap:³", (STALE, ROUND_UNKNOWN)),
    forged("hist:abc", ANY_PAGE),
    forged("hist:-5", ANY_PAGE),
    forged("hist:99999", (STALE,)),
    forged("hist:99999999999", (STALE,)),
    forged("hist:²", ANY_PAGE),
    forged("set:shift:abc", (STALE,)),
    forged("set:shift:²", (STALE,)),
    forged("set:pause:²", (PAUSE_INVALID,)),
    forged("set:pause:abc", (PAUSE_INVALID,)),
    forged("set:pause:0", (PAUSE_INVALID,)),
    forged("set:jar:mars", (JAR_INVALID,)),
    forged("set:time:99:99", (TIME_INVALID,)),
    forged("set:timezone:Nowhere/Land", (TZ_INVALID,)),
    forged("set:nope:1", (STALE,)),
    forged("set:", (STALE,)),
    forged("set:resume", (NOT_PAUSED,)),
    forged("unpair:yes:abc", (NOTHING_CHANGED,)),
    forged("unpair:yes:-1", (NOTHING_CHANGED,)),
    forged("unpair:yes:99999999999", (NOTHING_CHANGED,)),
    forged("unpair:yes:²", (NOTHING_CHANGED,)),
    forged("unpair:maybe", (NOTHING_CHANGED,)),
    forged("unpair:", (NOTHING_CHANGED,)),
    forged("foo:1", (STALE,)),
    forged("", (STALE, NOTHING_CHANGED)),  # PTB gives data-less queries to the first handler
    forged("💥🔥", (STALE,)),
    forged("\u202eans:1", (STALE,)),
    # Oversized: more than Telegram's 64 bytes of callback data.
    forged("ans:" + "1" * 100, (STALE, ROUND_UNKNOWN)),
    forged("timer:" + "1" * 65, (STALE,)),
    forged("hist:" + "9" * 100, ANY_PAGE),
    forged("unpair:yes:" + "9" * 100, (NOTHING_CHANGED,)),
    forged("set:shift:" + "9" * 100, (STALE,)),
    forged("x" * 200, (STALE,)),
    forged("ans:1" + "\u200b" * 70, (STALE, ROUND_UNKNOWN)),
]


@pytest.mark.parametrize(("data", "fragments"), FORGED)
async def test_forged_and_oversized_callback_data(
    bot: Harness, data: str, fragments: tuple[str, ...]
) -> None:
    alex, sam = await couple(bot)
    await bot.send(alex.text("/question"))
    before, heard = await snapshot(bot), len(sam.inbox)
    press = alex.press(question_message(alex), data)
    got = await replies(bot, alex, press)
    assert has(got, *fragments), got
    assert answered(bot, press)
    assert len(sam.inbox) == heard, sam.texts[heard:]
    assert await snapshot(bot) == before


STALE_BUTTONS = ("ans", "take", "timer", "swap", "unpair")


@pytest.mark.parametrize("afterwards", ["unpaired", "paired-again"])
@pytest.mark.parametrize("button", STALE_BUTTONS)
async def test_buttons_of_an_ended_couple(bot: Harness, button: str, afterwards: str) -> None:
    alex, sam, message = await evening(bot)
    await bot.send(alex.text("my words, not a reply"))
    offer = copy.deepcopy(alex.last_with_buttons())
    assert OFFER in offer["text"]
    await bot.send(alex.text("/unpair"))
    confirm = copy.deepcopy(alex.last_with_buttons())
    await bot.send(alex.button("Yes", confirm))
    kim = bot.tg.person("Kim")
    if afterwards == "paired-again":
        await bot.send(alex.text(f"/pair {await invite_code(bot, kim)}"))
    before, heard, kim_heard = await snapshot(bot), len(sam.inbox), len(kim.inbox)
    press = {
        "ans": lambda: alex.press(message, data_of(message, "ans:")),
        "take": lambda: alex.button("my answer", offer),
        "timer": lambda: alex.press(message, data_of(message, "timer:")),
        "swap": lambda: alex.press(message, data_of(message, "swap:")),
        "unpair": lambda: alex.button("Yes", confirm),
    }[button]()
    got = await replies(bot, alex, press)
    fragment = "already ended" if button == "unpair" else ROUND_UNKNOWN
    assert has(got, fragment), got
    assert answered(bot, press)
    assert len(sam.inbox) == heard and len(kim.inbox) == kim_heard
    assert await snapshot(bot) == before


@pytest.mark.parametrize("button", ["ans", "take", "timer", "swap", "unpair", "hist"])
async def test_buttons_with_another_couples_data(bot: Harness, button: str) -> None:
    alex, sam, message = await evening(bot)
    kim, lee = await paired(bot, ("Kim", "Lee"))
    async with bot.db.transaction() as s:
        alex_couple = await s.scalar(select(Person.couple_id).where(Person.telegram_id == alex.id))
    round_id = data_of(message, "ans:").split(":")[1]
    mine = kim.text("something I wrote")
    await bot.send(mine)
    # A message in Kim's own chat, as if Kim had been offered Alex's round.
    forged_offer = dict(kim.last, reply_to_message=mine["message"])
    before = await snapshot(bot)
    heard = {p.first_name: len(p.inbox) for p in (alex, sam, lee)}
    press = kim.press(
        forged_offer,
        {
            "ans": f"ans:{round_id}",
            "take": f"take:{round_id}",
            "timer": f"timer:{round_id}",
            "swap": f"swap:{round_id}",
            "unpair": f"unpair:yes:{alex_couple}",
            "hist": "hist:0",
        }[button],
    )
    got = await replies(bot, kim, press)
    fragment = {"unpair": "already ended", "hist": HISTORY_EMPTY}.get(button, ROUND_UNKNOWN)
    assert has(got, fragment), got
    assert not has(got, "Tonight's conversation starter")
    assert answered(bot, press)
    assert {p.first_name: len(p.inbox) for p in (alex, sam, lee)} == heard
    assert await snapshot(bot) == before


# == 5. Double taps on every button ============================================================


async def tap_twice(bot: Harness, person: FakeUser, label: str, message: dict[str, Any]) -> str:
    """Tap the same button twice, as on a slow connection; what the second tap said."""
    shown = copy.deepcopy(message)  # the chat still shows the buttons for the second tap
    await bot.send(person.button(label, shown))
    got = await replies(bot, person, person.button(label, shown))
    assert got, "the second tap got no reply"
    return got[-1]


async def test_double_tap_answer(bot: Harness) -> None:
    alex, _ = await couple(bot)
    await bot.send(alex.text("/question"))
    second = await tap_twice(bot, alex, "Answer", question_message(alex))
    assert "next message" in second
    assert has(await replies(bot, alex, alex.text("once")), SAVED)
    assert await count(bot, Answer) == 1


async def test_double_tap_take(bot: Harness) -> None:
    alex, sam = await couple(bot)
    await bot.send(alex.text("/question"), alex.text("my words, not a reply"))
    second = await tap_twice(bot, alex, "my answer", alex.last_with_buttons())
    assert "replaces your earlier answer" in second or "already" in second or SAVED in second
    assert await count(bot, Answer) == 1
    assert sum("answered; answer to see theirs" in t for t in sam.texts) == 1


async def test_double_tap_unpair_yes(bot: Harness) -> None:
    alex, sam = await couple(bot)
    await bot.send(alex.text("/unpair"))
    second = await tap_twice(bot, alex, "Yes", alex.last_with_buttons())
    assert "already ended" in second
    assert sum("ended your pairing" in t for t in sam.texts) == 1


async def test_double_tap_unpair_no(bot: Harness) -> None:
    alex, _ = await couple(bot)
    await bot.send(alex.text("/unpair"))
    assert NOTHING_CHANGED in await tap_twice(bot, alex, "No", alex.last_with_buttons())
    assert has(await replies(bot, alex, alex.text("/status")), STATUS_PAIRED)


@pytest.mark.parametrize("label", ["Yes", "No"])
async def test_double_tap_unpair_when_telegram_says_not_modified(bot: Harness, label: str) -> None:
    alex, _ = await couple(bot)
    await bot.send(alex.text("/unpair"))
    shown = copy.deepcopy(alex.last_with_buttons())
    await bot.send(alex.button(label, shown))
    bot.tg.fail("editMessageReplyMarkup", "400")  # as Telegram does: nothing to change
    got = await replies(bot, alex, alex.button(label, shown))
    assert has(got, NOTHING_CHANGED, "already ended"), got


async def test_double_tap_history_pages(bot: Harness) -> None:
    alex, _ = await couple(bot)
    await bot.send(*(alex.text("/question") for _ in range(7)), alex.text("/history"))
    assert "6-7 of 7" in await tap_twice(bot, alex, "Older", alex.last_with_buttons())
    assert "1-5 of 7" in await tap_twice(bot, alex, "Newer", alex.last_with_buttons())


@pytest.mark.parametrize(
    ("label", "second", "check"),
    [
        ("later", "21:00", ("evening_time", "21:00")),
        ("earlier", "19:00", ("evening_time", "19:00")),
        ("Sundays", "sunday", ("jar_day", "sunday")),
        ("daily", "daily", ("jar_day", "daily")),
        ("Jar: off", "no more jar draws", ("jar_day", "off")),
        ("Pause", PAUSED_WEEK, ("paused_until", START + dt.timedelta(days=7))),
        ("Resume", NOT_PAUSED, ("paused_until", None)),
    ],
)
async def test_double_tap_settings(
    bot: Harness, label: str, second: str, check: tuple[str, Any]
) -> None:
    alex, _ = await couple(bot)
    if label == "Resume":
        await bot.send(alex.text("/pause 3"))
    await bot.send(alex.text("/settings"))
    assert second in await tap_twice(bot, alex, label, alex.last_with_buttons())
    async with bot.db.transaction() as s:
        row = await s.scalar(select(Couple))
    assert row is not None and getattr(row, check[0]) == check[1]


async def test_double_tap_timer(bot: Harness) -> None:
    alex, sam, message = await evening(bot)
    assert "already running" in await tap_twice(bot, alex, "20 minutes", message)
    assert sum("started your twenty minutes" in t for t in sam.texts) == 1


async def test_double_tap_swap(bot: Harness) -> None:
    alex, sam, message = await evening(bot)
    assert "already swapped" in await tap_twice(bot, alex, "Another one", message)
    assert sum("asked for another starter" in t for t in sam.texts) == 1


# == 6. An invite code tried many times ========================================================


async def test_many_wrong_codes_are_throttled(bot: Harness) -> None:
    alex, kim, lee = bot.tg.person("Alex"), bot.tg.person("Kim"), bot.tg.person("Lee")
    code = await invite_code(bot, alex)
    tries = 0
    while tries < 10 and "wrong codes" not in (kim.texts or [""])[-1]:
        tries += 1
        await bot.send(kim.text(f"/pair WrongCode{tries:04d}xyz"))
    assert "wrong codes" in kim.last["text"], f"still trying after {tries} wrong codes"
    # While throttled even the right code is refused, and nothing is paired.
    await bot.send(kim.text(f"/start {code}"))
    assert "wrong codes" in kim.last["text"]
    assert await count(bot, Couple) == 0
    # Someone else is not affected.
    await bot.send(lee.text("/pair WrongCode0000xyz"))
    assert CODE_UNKNOWN in lee.last["text"]
    # After a while Kim may try again.
    bot.clock.advance(hours=12)
    await bot.send(kim.text(f"/start {code}"))
    assert "paired with Alex" in kim.last["text"]
