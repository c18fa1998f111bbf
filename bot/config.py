"""Settings from the environment and `.env`; every one is listed in `.env.example`."""

from __future__ import annotations

import datetime as dt
import sys
import zoneinfo
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def parse_hhmm(value: str) -> dt.time:
    """Parse a 24-hour "HH:MM" into a time; raises ValueError with a plain message."""
    text = value.strip()
    hours, sep, minutes = text.partition(":")
    if not (
        sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2
    ):
        raise ValueError("expected a 24-hour time like 20:00")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError("expected a 24-hour time like 20:00")
    return dt.time(h, m)


def _check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("expected an IANA time zone name such as Europe/Berlin") from exc
    return value


def _check_hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr
    telegram_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///twenty_minutes.sqlite3"
    default_timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    evening_time: Annotated[str, AfterValidator(_check_hhmm)] = "20:00"
    log_level: str = "INFO"
    migrate_on_start: bool = True
    invite_ttl_hours: float = Field(default=24.0, gt=0)
    tick_seconds: float = Field(default=60.0, gt=0)
    grace_hours: float = Field(default=2.0, ge=0)
    reminder_hours: float = Field(default=3.0, gt=0)
    timer_minutes: float = Field(default=20.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("expected sqlite+aiosqlite:///... or postgresql+asyncpg://...")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @property
    def evening(self) -> dt.time:
        return parse_hhmm(self.evening_time)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None when the database is not a SQLite file."""
        prefix = "sqlite+aiosqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        rest = self.database_url[len(prefix) :].split("?")[0]
        return None if rest in ("", ":memory:") else Path(rest)


def load_settings() -> Settings:
    """Read settings, or print one line naming the bad setting and exit with status 2."""
    try:
        return Settings()  # filled from the environment
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        if error["type"] == "missing":
            problem = "is required but not set"
        else:
            problem = f"is invalid: {error['msg'].removeprefix('Value error, ')}"
        print(f"Configuration error: {name} {problem}.", file=sys.stderr)
        raise SystemExit(2) from None
