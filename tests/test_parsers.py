"""Property-based tests (hypothesis) for every parser of what people and Telegram send.

Times (/time), time zones and UTC offsets (/timezone), the next slot on a couple's clock,
invite codes, callback data, first names, language codes, the splitting of long messages,
and the settings read from the environment. Each parser either understands its input or
refuses it in its documented way; none raises anything else.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import re
import secrets
import zoneinfo
from functools import cache
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.config import parse_hhmm
from bot.content import Libraries
from bot.db.models import Person
from bot.paths import content_dir
from bot.services.pairing import hash_code, looks_like_code
from bot.services.people import PersonInfo, touch_person
from bot.services.schedule import canonical_zone, next_slot, slot_on, zone
from bot.telegram.deps import callback_int
from bot.telegram.send import split_text
from bot.texts import Texts
from tests.support import make_settings

FAST = settings(max_examples=120, deadline=None, database=None)
ONE_DAY = dt.timedelta(days=1)
ZONES = sorted(zoneinfo.available_timezones())
OFFSET_NAME = re.compile(r"UTC[+-]\d\d:\d\d")
# Characters that str.isdigit() accepts but int() refuses: superscripts, subscripts, circled.
NOT_DECIMAL_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉①②③⒈"
DIGITS = "0123456789٠١٢٣٤٥٦٧٨٩۰۱۲०१२０１２３"  # ASCII, Arabic-Indic, Persian, Devanagari, fullwidth
NASTY = "\x00\x01\x1b\x7f\u200b\u200d\u2060\ufeff\u202e\u00a0 \t\n:+-_/."
TEXT_OF_PARTS = st.text(alphabet=st.sampled_from(DIGITS + NASTY + "UTCGMutcgmZz"), max_size=16)
JUNK = st.one_of(st.text(max_size=40), TEXT_OF_PARTS)


# -- times: /time and EVENING_TIME ------------------------------------------------------------


@FAST
@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.booleans(),
    st.sampled_from(["", " ", "  ", "\t", "\n"]),
)
def test_parse_hhmm_reads_every_valid_time(h: int, m: int, pad: bool, space: str) -> None:
    hours = f"{h:02d}" if pad else str(h)
    assert parse_hhmm(f"{space}{hours}:{m:02d}{space}") == dt.time(h, m)


@FAST
@given(st.integers(0, 99), st.integers(0, 99))
def test_parse_hhmm_refuses_out_of_range(h: int, m: int) -> None:
    text = f"{h:02d}:{m:02d}"
    if h <= 23 and m <= 59:
        assert parse_hhmm(text) == dt.time(h, m)
    else:
        with pytest.raises(ValueError):
            parse_hhmm(text)


@FAST
@given(st.one_of(JUNK, st.text(alphabet=DIGITS + NOT_DECIMAL_DIGITS + ": ", max_size=7)))
def test_parse_hhmm_gives_a_time_or_a_value_error(text: str) -> None:
    try:
        value = parse_hhmm(text)
    except ValueError:  # (for "0:0₀" the message is int()'s own, not "expected a 24-hour...")
        return
    assert isinstance(value, dt.time)
    assert parse_hhmm(value.strftime("%H:%M")) == value


# -- time zones: /timezone ---------------------------------------------------------------------

INSTANTS = [
    dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC),
    dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC),
]


@st.composite
def zone_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """An IANA name, and the same in any mix of case, spaces for underscores, padding."""
    name = draw(st.sampled_from(ZONES))
    upper = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    text = "".join(c.upper() if u else c.lower() for c, u in zip(name, upper, strict=True))
    if draw(st.booleans()):
        text = text.replace("_", " ")
    return name, draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " "]))


@FAST
@given(zone_spellings())
def test_every_iana_name_in_any_case_is_understood(spelling: tuple[str, str]) -> None:
    name, text = spelling
    found = canonical_zone(text)
    assert found is not None, text
    if not OFFSET_NAME.fullmatch(found) and found != "UTC":
        assert found == name
    expected = zoneinfo.ZoneInfo(name)
    for instant in INSTANTS:
        assert (
            instant.astimezone(zone(found)).utcoffset() == instant.astimezone(expected).utcoffset()
        )


@st.composite
def offsets(draw: st.DrawFn) -> tuple[str, dt.timedelta | None]:
    """A UTC offset as people write it (UTC+05:30, gmt-3, +0545), and what it means."""
    sign = draw(st.sampled_from("+-"))
    h, m = draw(st.integers(0, 15)), draw(st.sampled_from([0, 0, 15, 30, 45, 59]))
    prefix = draw(st.sampled_from(["UTC", "GMT", "utc", "gmt", "Utc", ""]))
    hours = f"{h:02d}" if draw(st.booleans()) else str(h)
    colon = draw(st.booleans())
    minutes = "" if m == 0 and draw(st.booleans()) else (":" if colon else "") + f"{m:02d}"
    gap = draw(st.sampled_from(["", " "]))
    text = f"{prefix}{gap}{sign}{gap}{hours}{minutes}"
    valid = h < 14 or (h == 14 and m == 0)
    offset = dt.timedelta(hours=h, minutes=m) * (1 if sign == "+" else -1)
    return text, offset if valid else None


@FAST
@given(offsets())
def test_utc_offsets_are_understood(case: tuple[str, dt.timedelta | None]) -> None:
    text, offset = case
    found = canonical_zone(text)
    if offset is None:
        assert found is None, text
        return
    assert found is not None and OFFSET_NAME.fullmatch(found), (text, found)
    assert zone(found).utcoffset(None) == offset


@FAST
@given(JUNK)
@example("")
@example("Europe")
@example("../../etc/passwd")
@example("UTC+99:99")
@example("+" + "9" * 5000)
@example("UTC+٠٥:٣٠")
@example("UTC+²")
def test_junk_zones_give_none_or_a_usable_zone(text: str) -> None:
    found = canonical_zone(text)
    if found is None:
        return
    assert found == "UTC" or OFFSET_NAME.fullmatch(found) or found in ZONES, found
    tz = zone(found)
    assert INSTANTS[0].astimezone(tz).utcoffset() is not None


# -- the next slot on a couple's own clock ------------------------------------------------------


def canonical_offset(draw: st.DrawFn) -> str:
    minutes = draw(st.integers(-14 * 60, 14 * 60))
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@st.composite
def couple_zones(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:
        return canonical_offset(draw)
    return draw(st.sampled_from(ZONES))


def wall_time_exists(day: dt.date, at: dt.time, tz: dt.tzinfo) -> bool:
    wall = dt.datetime.combine(day, at, tzinfo=tz)
    back = wall.astimezone(dt.UTC).astimezone(tz)
    return back.replace(tzinfo=None) == wall.replace(tzinfo=None)


@FAST
@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2037, 12, 31),
        timezones=st.just(dt.UTC),
    ),
    couple_zones(),
    st.builds(dt.time, st.integers(0, 23), st.integers(0, 59)),
    st.none() | st.integers(0, 6),
)
@example(  # Berlin's spring-forward night: 02:30 does not exist, it comes at 03:30
    dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC), "Europe/Berlin", dt.time(2, 30), None
)
@example(  # Berlin's fall-back night: 02:30 happens twice, the first one counts
    dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.UTC), "Europe/Berlin", dt.time(2, 30), 6
)
@example(  # Lord Howe moves its clocks by 30 minutes
    dt.datetime(2026, 10, 3, 14, 0, tzinfo=dt.UTC), "Australia/Lord_Howe", dt.time(2, 15), None
)
def test_next_slot_is_the_first_slot_strictly_after(
    after: dt.datetime, name: str, at: dt.time, weekday: int | None
) -> None:
    tz = zone(name)
    found = next_slot(after, tz, at, weekday)
    assert found > after
    assert found.utcoffset() == dt.timedelta(0)
    assert found - after <= dt.timedelta(days=7 if weekday is not None else 1, hours=3)
    local = found.astimezone(tz)
    # The local date the slot was computed for (a slot in a gap may land on the next date).
    days = [d for d in (local.date(), local.date() - ONE_DAY) if slot_on(d, at, tz) == found]
    if weekday is not None:
        days = [d for d in days if d.weekday() == weekday]
    assert days, (found, local)
    day = days[0]
    if wall_time_exists(day, at, tz):
        assert local.date() == day and local.time() == at
    previous = slot_on(day - dt.timedelta(days=7 if weekday is not None else 1), at, tz)
    assert previous <= after or previous == found


# -- invite codes --------------------------------------------------------------------------------


def token(raw: bytes) -> str:
    """What secrets.token_urlsafe(12) makes of 12 random bytes."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def test_real_codes_are_accepted() -> None:
    for _ in range(200):
        code = secrets.token_urlsafe(12)
        assert looks_like_code(code) and len(hash_code(code)) == 64


@FAST
@given(st.binary(min_size=12, max_size=12), st.sampled_from(["", " ", "\n", "  \t"]))
def test_codes_are_accepted_and_hashed_whatever_the_padding(raw: bytes, pad: str) -> None:
    code = token(raw)
    assert looks_like_code(code) and looks_like_code(f"{pad}{code}{pad}")
    assert hash_code(f"{pad}{code}{pad}") == hash_code(code)
    assert hash_code(code) == hashlib.sha256(code.encode()).hexdigest()


@FAST
@given(st.one_of(JUNK, st.text(alphabet="aZ09-_+/=é ", max_size=70)))
@example("A" * 64)
@example("A" * 65)
@example("abcdefg")
@example("ａｂｃｄｅｆｇｈ")  # fullwidth letters: alphanumeric, but not ours
def test_junk_codes_never_crash(text: str) -> None:
    ours = re.fullmatch(r"[A-Za-z0-9_-]{8,64}", text.strip()) is not None
    assert looks_like_code(text) is ours
    digest = hash_code(text)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)


# -- callback data -----------------------------------------------------------------------------

PREFIXES = ("ans", "take", "timer", "swap", "hist")


def press(data: str | None) -> Any:
    return SimpleNamespace(callback_query=SimpleNamespace(data=data))


@FAST
@given(st.sampled_from(PREFIXES), st.integers(0, 10**11 - 1))
def test_callback_numbers_are_read(prefix: str, number: int) -> None:
    expected = number if number <= 2**31 - 1 else None  # database ids stay below 2**31
    assert callback_int(press(f"{prefix}:{number}"), prefix) == expected


without_bad_digits = st.characters(
    exclude_characters=NOT_DECIMAL_DIGITS,
    exclude_categories=("Cs",),
).filter(lambda c: c.isdecimal() or not c.isdigit())


@FAST
@given(
    st.sampled_from(PREFIXES),
    st.one_of(
        st.text(without_bad_digits, max_size=80),
        st.text(st.sampled_from(DIGITS + "-+:. \x00"), max_size=16),
        st.builds(
            lambda p, n: f"{p}:{n}", st.sampled_from(PREFIXES), st.integers(-(10**14), 10**14)
        ),
    ),
)
def test_any_callback_data_gives_none_or_a_small_number(prefix: str, data: str) -> None:
    value = callback_int(press(data), prefix)
    assert value is None or (isinstance(value, int) and 0 <= value < 10**12)


def test_no_callback_query_gives_none() -> None:
    assert callback_int(SimpleNamespace(callback_query=None), "hist") is None
    assert callback_int(press(None), "ans") is None


@pytest.mark.parametrize("digits", ["²", "1²", "①", "₃"])
def test_superscript_digits_give_none(digits: str) -> None:
    assert callback_int(press(f"ans:{digits}"), "ans") is None


@pytest.mark.parametrize("data", ["12", "007"])
def test_data_without_the_prefix_gives_none(data: str) -> None:
    assert callback_int(press(data), "ans") is None


# -- first names --------------------------------------------------------------------------------


class OneQuerySession:
    """Just enough of an AsyncSession for touch_person: finds `existing`, keeps what is added."""

    def __init__(self, existing: Person | None) -> None:
        self.existing, self.added = existing, []

    async def scalar(self, _query: object) -> Person | None:
        return self.existing

    def add(self, item: Person) -> None:
        self.added.append(item)

    async def flush(self) -> None:
        return None


@FAST
@given(st.one_of(st.none(), JUNK, st.text(min_size=120, max_size=400)), st.booleans())
def test_first_names_are_trimmed_and_never_empty(name: str | None, known: bool) -> None:
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    existing = Person(telegram_id=1, chat_id=1, first_name="Old", created_at=now) if known else None
    session = OneQuerySession(existing)
    info = PersonInfo(1, 1, name, "en")  # type: ignore[arg-type]
    person = asyncio.run(touch_person(session, info, now))  # type: ignore[arg-type]
    stripped = (name or "").strip()
    assert person.first_name == (stripped[:128] or "Your partner")
    assert 1 <= len(person.first_name) <= 128
    assert (person is existing) if known else (session.added == [person])


# -- language codes -----------------------------------------------------------------------------


@cache
def texts_and_libraries() -> tuple[Texts, Libraries]:
    return Texts.load(content_dir()), Libraries.load(content_dir())


@FAST
@given(st.one_of(st.none(), JUNK, st.sampled_from(["en", "EN", "en-GB", "pt_BR", "pt-br", "-"])))
def test_any_language_code_finds_a_catalogue(code: str | None) -> None:
    texts, libraries = texts_and_libraries()
    language = texts.language_for(code)
    assert texts.render("help", language)
    assert libraries.for_language(code) in libraries.languages.values()


# -- splitting long messages (Telegram's 4,096 characters) ----------------------------------------

WORDS = st.text(alphabet=st.sampled_from("ab \n"), min_size=1, max_size=300)


def squeeze(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


@FAST
@given(WORDS, st.integers(4, 60))
def test_split_text_keeps_within_the_limit_and_loses_nothing(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert squeeze("".join(pieces)) == squeeze(text)


def test_split_text_at_telegrams_limit() -> None:
    text = " ".join(f"word{i}" for i in range(2000)) + "\n" + "é" * 5000
    pieces = split_text(text)
    assert len(pieces) >= 3 and all(len(p) <= 4096 for p in pieces)
    assert squeeze("".join(pieces)) == squeeze(text)


@FAST
@given(WORDS, st.integers(4, 60))
@example("aaaa    a", 4)
@example("x" * 4096 + " " * 4100 + "y", 4096)
def test_split_text_never_sends_a_blank_message(text: str, limit: int) -> None:
    text = text.strip("\n ") or "a"
    assert all(p.strip("\n ") for p in split_text(text, limit))


# -- settings from the environment ---------------------------------------------------------------


@FAST
@given(st.text(alphabet=st.sampled_from("abcxyz_/+-0123456789.é \x00"), max_size=40))
@example("utc")
@example("etc/utc")
@example("")
def test_default_timezone_is_accepted_or_refused_cleanly(value: str) -> None:
    try:
        settings_ = make_settings(default_timezone=value)
    except ValidationError:
        return
    zoneinfo.ZoneInfo(settings_.default_timezone)


@pytest.mark.parametrize("value", ["Europe", "America", "x" * 300])
def test_a_folder_or_overlong_timezone_is_a_clean_configuration_error(value: str) -> None:
    with pytest.raises(ValidationError):
        make_settings(default_timezone=value)


@FAST
@given(JUNK, st.sampled_from(["evening_time", "webhook_url", "webhook_path", "webhook_secret"]))
@example("20:00", "evening_time")
@example("https://bot.example.org/", "webhook_url")
def test_other_settings_are_accepted_or_refused_cleanly(value: str, field: str) -> None:
    with contextlib.suppress(ValidationError):
        make_settings(**{field: value})
