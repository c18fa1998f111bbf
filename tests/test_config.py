"""Settings: defaults, validation, and the token kept secret."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.config import Settings, parse_hhmm
from tests.support import make_settings


def test_defaults() -> None:
    s = Settings(_env_file=None, telegram_bot_token="1:secret")  # type: ignore[call-arg]
    assert s.telegram_base_url == "https://api.telegram.org/bot"
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.default_timezone == "UTC" and s.evening == dt.time(20, 0)
    assert s.migrate_on_start is True


def test_token_is_secret_in_repr() -> None:
    s = make_settings("sqlite+aiosqlite:///x.db", telegram_bot_token="1:supersecret")
    assert "supersecret" not in repr(s) and "supersecret" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("database_url", "mysql://x"),
        ("default_timezone", "Nowhere/City"),
        ("evening_time", "8pm"),
        ("log_level", "LOUD"),
    ],
)
def test_invalid_values_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        make_settings(**{"database_url": "sqlite+aiosqlite:///x.db", field: value})


@given(st.integers(0, 23), st.integers(0, 59))
def test_parse_hhmm_accepts_every_valid_time(h: int, m: int) -> None:
    assert parse_hhmm(f"{h:02d}:{m:02d}") == dt.time(h, m)
    assert parse_hhmm(f"{h}:{m:02d}") == dt.time(h, m)


@given(st.text(max_size=12))
def test_parse_hhmm_never_crashes_on_junk(text: str) -> None:
    try:
        value = parse_hhmm(text)
    except ValueError:
        return
    assert isinstance(value, dt.time)
