"""Settings from the environment and `.env`; every one is listed in `.env.example`."""

from __future__ import annotations

import datetime as dt
import re
import sys
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict


def parse_hhmm(value: str) -> dt.time:
    """Parse a 24-hour "HH:MM" into a time; raises ValueError with a plain message."""
    text = value.strip()
    hours, sep, minutes = text.partition(":")
    if not (
        sep
        and (hours + minutes).isascii()
        and hours.isdecimal()
        and minutes.isdecimal()
        and len(minutes) == 2
        and len(hours) <= 2
    ):
        raise ValueError("expected a 24-hour time like 20:00")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError("expected a 24-hour time like 20:00")
    return dt.time(h, m)


def _check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Europe" is a folder
        raise ValueError("expected an IANA time zone name such as Europe/Berlin") from exc
    return value


def _check_hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


def _empty_is_unset(value: Any) -> Any:
    """`NAME=` (as copied from .env.example) means "not set", not an empty value."""
    return None if isinstance(value, str) and not value.strip() else value


def _lowercase(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _check_webhook_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value.strip()):
        raise ValueError("expected the public base URL, like https://bot.example.org")
    return value.strip().rstrip("/")


def _check_webhook_path(value: str) -> str:
    path = value.strip().strip("/")
    if not re.fullmatch(r"([A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*)?", path):
        raise ValueError("expected a URL path of letters, digits, _, - and /")
    return path


def _check_webhook_secret(value: SecretStr | None) -> SecretStr | None:
    # Telegram's rule for setWebhook's secret_token.
    if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
        raise ValueError("expected 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
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
    # Messages sent back to back before the 30-a-second pacing applies (1: evenly paced).
    send_burst: int = Field(default=1, ge=1, le=30)
    # Fernet keys for answers and jar slips at rest, comma-separated, newest first.
    encryption_keys: Annotated[SecretStr | None, BeforeValidator(_empty_is_unset)] = None
    # Webhook mode (`python -m bot --webhook`). The listen address defaults to every
    # interface: in a container, the load balancer reaches the bot from outside it, and
    # 127.0.0.1 would be unreachable there. The secret token keeps strangers out.
    webhook_url: Annotated[
        str | None, BeforeValidator(_empty_is_unset), AfterValidator(_check_webhook_url)
    ] = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: Annotated[str, AfterValidator(_check_webhook_path)] = "telegram"
    webhook_secret: Annotated[
        SecretStr | None, BeforeValidator(_empty_is_unset), AfterValidator(_check_webhook_secret)
    ] = None
    log_format: Annotated[Literal["text", "json"], BeforeValidator(_lowercase)] = "text"

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

    @property
    def webhook_endpoint(self) -> str | None:
        """The full URL Telegram posts updates to: WEBHOOK_URL, then WEBHOOK_PATH."""
        if self.webhook_url is None:
            return None
        return f"{self.webhook_url}/{self.webhook_path}" if self.webhook_path else self.webhook_url


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
