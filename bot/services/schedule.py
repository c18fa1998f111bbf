"""Each couple's own clock: evening time, time zone, jar day, pause (promise 3).

Times are stored in UTC; a couple's zone is used only to find their next slot. Each slot
is computed from a *local date*: one date gives one instant, so a time that does not
exist on the spring-forward night (it maps to the instant an hour later) and a time that
happens twice on the fall-back night (the first one is used) each give exactly one prompt.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import parse_hhmm
from bot.db.models import Couple, Person
from bot.parse import number, signed
from bot.services.notices import Button, Notice, Refusal
from bot.services.people import couple_of, say

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
JAR_DAYS = (*WEEKDAYS, "daily", "off")
MAX_PAUSE_DAYS = 365
WEEKLY_DAY, WEEKLY_AT = 5, dt.time(11, 0)
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def canonical_zone(text: str) -> str | None:
    """An IANA name ("europe/berlin" -> "Europe/Berlin") or a UTC offset ("UTC+05:30")."""
    text = text.strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            return None
        return f"UTC{sign}{hours:02d}:{minutes:02d}"
    return _zone_names().get(text.lower().replace(" ", "_"))


def zone(name: str) -> dt.tzinfo:
    """The tzinfo for a canonical name from `canonical_zone`."""
    if name.startswith("UTC") and len(name) == 9:
        sign = 1 if name[3] == "+" else -1
        offset = dt.timedelta(hours=int(name[4:6]), minutes=int(name[7:9]))
        return dt.timezone(sign * offset)
    return zoneinfo.ZoneInfo(name)


def slot_on(day: dt.date, at: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The UTC instant of local time `at` on local date `day` (fold=0: the first of two)."""
    return dt.datetime.combine(day, at, tzinfo=tz).astimezone(dt.UTC)


def next_slot(
    after: dt.datetime, tz: dt.tzinfo, at: dt.time, weekday: int | None = None
) -> dt.datetime:
    """The first slot strictly after `after`, on `weekday` (0 = Monday) if given."""
    day = after.astimezone(tz).date() - dt.timedelta(days=1)
    while True:
        if weekday is None or day.weekday() == weekday:
            instant = slot_on(day, at, tz)
            if instant > after:
                return instant
        day += dt.timedelta(days=1)


def local_date(instant: dt.datetime, couple: Couple) -> dt.date:
    return instant.astimezone(zone(couple.timezone)).date()


def reschedule(couple: Couple, now: dt.datetime) -> None:
    """Set the couple's next evening and jar slots from their current settings."""
    tz, at = zone(couple.timezone), parse_hhmm(couple.evening_time)
    couple.next_evening_at = next_slot(now, tz, at)
    if couple.jar_day == "off":
        couple.next_jar_at = None
    else:
        weekday = None if couple.jar_day == "daily" else WEEKDAYS.index(couple.jar_day)
        couple.next_jar_at = next_slot(now, tz, at, weekday)
    couple.next_checkin_at = (
        next_slot(now, tz, parse_hhmm(couple.checkin_time)) if couple.checkin_time else None
    )
    # The weekly nudges come on Saturday late morning: a relaxed time, never at night.
    couple.next_weekly_at = next_slot(now, tz, WEEKLY_AT, WEEKLY_DAY) if couple.weekly_on else None


def is_paused(couple: Couple, now: dt.datetime) -> bool:
    return couple.paused_until is not None and couple.paused_until > now


def local_now(couple: Couple, now: dt.datetime) -> str:
    return now.astimezone(zone(couple.timezone)).strftime("%H:%M on %a %d %b")


def settings_view(couple: Couple, person: Person, now: dt.datetime) -> Notice:
    """/settings: everything on one screen, with buttons for the common changes."""
    if is_paused(couple, now):
        assert couple.paused_until is not None
        paused = couple.paused_until.astimezone(zone(couple.timezone)).strftime("%a %d %b")
        pause_row = (Button("btn_resume", "set:resume"),)
    else:
        paused, pause_row = "", (Button("btn_pause_week", "set:pause:7"),)
    return Notice(
        person.chat_id,
        "settings_paused" if paused else "settings",
        {
            "time": couple.evening_time,
            "timezone": couple.timezone,
            "local": local_now(couple, now),
            "jarday": couple.jar_day,
            "until": paused,
            "checkin": couple.checkin_time or "off",
            "weekly": "on" if couple.weekly_on else "off",
        },
        (
            (Button("btn_earlier", "set:shift:-30"), Button("btn_later", "set:shift:30")),
            (
                Button("btn_jar_sunday", "set:jar:sunday"),
                Button("btn_jar_daily", "set:jar:daily"),
                Button("btn_jar_off", "set:jar:off"),
            ),
            pause_row,
            (
                Button(
                    f"btn_checkin_{'off' if couple.checkin_time else 'on'}",
                    f"set:checkin:{'off' if couple.checkin_time else 'on'}",
                ),
                Button(
                    f"btn_weekly_{'off' if couple.weekly_on else 'on'}",
                    f"set:weekly:{'off' if couple.weekly_on else 'on'}",
                ),
            ),
        ),
        person.language_code,
    )


def _changed(person: Person, partner: Person, key: str, **params: object) -> list[Notice]:
    """Tell the person it's done, and the partner what changed and by whom."""
    return [
        say(person, key, **params),
        say(partner, f"{key}_partner", partner=person.first_name, **params),
    ]


async def change(
    session: AsyncSession, person: Person, what: str, value: str | None, now: dt.datetime
) -> list[Notice]:
    """Change one setting of the person's couple: time, timezone, jar, shift, pause, resume."""
    couple, partner = await couple_of(session, person)
    value = (value or "").strip()
    if what == "time":
        try:
            couple.evening_time = parse_hhmm(value).strftime("%H:%M")
        except ValueError:
            raise Refusal(say(person, "time_invalid")) from None
        reschedule(couple, now)
        return _changed(
            person, partner, "time_set", time=couple.evening_time, timezone=couple.timezone
        )
    if what == "shift":
        minutes = signed(value, most=24 * 60)
        if not minutes:
            raise Refusal(say(person, "button_stale"))
        at = dt.datetime.combine(dt.date(2000, 1, 1), parse_hhmm(couple.evening_time))
        couple.evening_time = (at + dt.timedelta(minutes=minutes)).strftime("%H:%M")
        reschedule(couple, now)
        return _changed(
            person, partner, "time_set", time=couple.evening_time, timezone=couple.timezone
        )
    if what == "timezone":
        name = canonical_zone(value) if value else None
        if name is None:
            raise Refusal(say(person, "timezone_invalid"))
        couple.timezone = name
        reschedule(couple, now)
        return _changed(
            person, partner, "timezone_set", timezone=name, local=local_now(couple, now)
        )
    if what == "jar":
        day = value.lower()
        if day not in JAR_DAYS:
            raise Refusal(say(person, "jarday_invalid"))
        couple.jar_day = day
        reschedule(couple, now)
        return _changed(person, partner, f"jarday_{'off' if day == 'off' else 'set'}", day=day)
    if what == "pause":
        days = number(value, most=MAX_PAUSE_DAYS) if value else 7
        if days is None or days < 1:
            raise Refusal(say(person, "pause_invalid", most=MAX_PAUSE_DAYS))
        couple.paused_until = now + dt.timedelta(days=days)
        return _changed(person, partner, "paused", days=days)
    if what == "resume":
        if not is_paused(couple, now):
            raise Refusal(say(person, "not_paused"))
        couple.paused_until = None
        reschedule(couple, now)
        return _changed(person, partner, "resumed")
    raise Refusal(say(person, "button_stale"))


async def show_settings(session: AsyncSession, person: Person, now: dt.datetime) -> list[Notice]:
    couple, _ = await couple_of(session, person)
    return [settings_view(couple, person, now)]
